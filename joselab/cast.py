"""The demo cast: one set of parties, hosts, issuers and keys for every chapter of the book.

The reader follows one client through one API call: Budget Buddy registers at the bank in chapter 1,
gets its tokens from the bank's authorization server (chapters 2 and 3), calls the bank's API with
them (chapter 2) and signs a payment there (chapter 4). The demo builders (``build_demo`` in each
scenario's ``parties.py``) and the notebooks read their names, hosts and keys from here. It is demo
data: no validator reads it, and a production party is configured by its own caller.

===================  ================================  ==========================================  =============
Role                 Who                               Where                                       Published key
===================  ================================  ==========================================  =============
PSU (the user)       Alice, ``sub`` 248289761001       at the bank                                 (none)
TPP (the client)     Hobbiton Fintech Ltd, software    ``software_id`` sw-budget-buddy-01, roles   ``rfc7520-bilbo-rsa`` (PS256);
                     "Budget Buddy"                    AISP and PISP; ``client_id`` at the bank:   encryption
                                                       :data:`CLIENT_ID`                           ``rfc7520-peregrin-p384``
Directory            ``directory.example``             keystore ``keystore.directory.example``     ``rfc7515-a3-p256`` (ES256)
ASPSP: AS and OP     the bank's one authorization      issuer ``https://as.bank.example``          ``rfc7515-a2-rsa`` (RS256),
                     server and OpenID Provider                                                    ``rfc7517-a2-rsa`` (PS256),
                                                                                                   ``rfc8037-ed25519`` (Ed25519),
                                                                                                   ``rfc9500-p256`` (ES256, ch. 7);
                                                                                                   next RS256 key
                                                                                                   ``rfc9500-rsa4096``
ASPSP: the API       the bank's one API                ``https://api.bank.example``                ``rfc7520-frodo-rsa`` (PS256,
                                                                                                   message signing); encryption
                                                                                                   ``rfc7520-samwise-rsa``
Attacker             Mallory                           ``evil.example``                            ``rfc9500-rsa2048`` (RS256)
===================  ================================  ==========================================  =============

**One key, one role**: no published key plays two parties, so a token that verifies with a key names
its signer. Mallory's key (RFC 9500 section 2.1) is used by nobody else: when she signs, the
signature is hers, never the client's or the bank's. All these keys are published example keys
(:func:`joselab.keys.demo_key`): never for production.

The ``client_id`` the bank's AS assigns at registration is deterministic in the demo: the
registration endpoint of :func:`joselab.registration.build_demo` draws it from
``DemoIds(CLIENT_ID_SEED)``, so the other chapters' builders register the same client, under the same
``client_id``, with the same JWK Set, at the same AS.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- the user (PSU) ----------------------------------------------------------------------------------
#: The PSU: the bank's customer, who consents to Budget Buddy's access.
USER_NAME = "Alice"
#: Alice's subject identifier at the bank (``sub`` in every token about her; OIDC Core §3.1.3.3's example).
USER_SUB = "248289761001"

# -- the client (TPP) ------------------------------------------------------------------------------------
ORG_ID = "org-hobbiton-0001"
ORG_NAME = "Hobbiton Fintech Ltd"
SOFTWARE_ID = "sw-budget-buddy-01"
CLIENT_NAME = "Budget Buddy"
#: Open Banking roles of the software statement: account information and payment initiation.
ROLES = ("AISP", "PISP")
REDIRECT_URIS = ("https://app.hobbiton.example/callback", "https://app.hobbiton.example/callback2")
#: The client's signing key (registration request, client assertion, payment signature) and its alg.
CLIENT_KEY = "rfc7520-bilbo-rsa"
CLIENT_ALG = "PS256"
#: The key the bank encrypts to the client with (ECDH-ES+A256KW).
CLIENT_ENCRYPTION_KEY = "rfc7520-peregrin-p384"
#: The key of the client's RFC 9421 HTTP message signatures (rsa-pss-sha512, chapter 4): RFC 9421's own
#: example key, since one key serves one algorithm (RFC 8725 §3.1) and PS256 is Bilbo's.
CLIENT_HTTPSIG_KEY = "rfc9421-b12-rsa-pss"
#: The seed of the ``DemoIds`` the bank's registration endpoint draws client identifiers from.
CLIENT_ID_SEED = 15
#: Budget Buddy's ``client_id`` at the bank: the first identifier ``DemoIds(CLIENT_ID_SEED)`` draws.
CLIENT_ID = "fc1b1af7-5abc-4f35-8fcd-fb0221067585"

# -- the directory -----------------------------------------------------------------------------------------
DIRECTORY_NAME = "directory.example"
#: The directory's keystore: its JWK Set, and each enrolled software's at ``/<org_id>/<software_id>.jwks``.
DIRECTORY_HOST = "keystore.directory.example"
DIRECTORY_KEY = "rfc7515-a3-p256"
DIRECTORY_ALG = "ES256"

# -- the bank (ASPSP) ------------------------------------------------------------------------------------
BANK_NAME = "the bank"
#: The bank's organisation at the directory (its ``org_id``, chapter 4's message signing).
BANK_ORG_ID = "0015800000jfQ9aAAE"
#: The bank's one authorization server, which is also its OpenID Provider.
AS_HOST = "as.bank.example"
ISSUER = f"https://{AS_HOST}"
#: The AS's signing keys, one per algorithm (RFC 8725 §3.1).
AS_KEYS = {"RS256": "rfc7515-a2-rsa", "PS256": "rfc7517-a2-rsa", "Ed25519": "rfc8037-ed25519"}
#: The AS's ES256 key, used by chapter 7's provider (RFC 9500 section 2.3's P-256 test key).
AS_ES256_KEY = "rfc9500-p256"
#: The RS256 key the AS rotates to (chapter 2's key rotation).
AS_NEXT_KEY = "rfc9500-rsa4096"
#: The bank's one API (the resource server) and the audience of its access tokens.
API_HOST = "api.bank.example"
API = f"https://{API_HOST}"
#: The API's message-signing key (chapter 4) and the key clients encrypt to it with (RSA-OAEP-256).
API_KEY = "rfc7520-frodo-rsa"
API_ALG = "PS256"
API_ENCRYPTION_KEY = "rfc7520-samwise-rsa"

# -- the attacker ----------------------------------------------------------------------------------------
ATTACKER_NAME = "Mallory"
ATTACKER_HOST = "evil.example"
#: Mallory's own key, which nobody else in the book uses (RFC 9500 section 2.1's 2048-bit test key).
ATTACKER_KEY = "rfc9500-rsa2048"
ATTACKER_ALG = "RS256"


@dataclass(frozen=True)
class Member:
    """One party of the cast, for a table: its role, name, host and the published keys it uses."""

    role: str
    name: str
    host: str
    keys: tuple[str, ...]


#: The cast, in the order of the table above.
CAST = (
    Member("PSU", USER_NAME, AS_HOST, ()),
    Member("TPP", f"{ORG_NAME}, {CLIENT_NAME}", "app.hobbiton.example", (CLIENT_KEY, CLIENT_ENCRYPTION_KEY, CLIENT_HTTPSIG_KEY)),
    Member("directory", DIRECTORY_NAME, DIRECTORY_HOST, (DIRECTORY_KEY,)),
    Member("ASPSP: AS and OP", BANK_NAME, AS_HOST, (*AS_KEYS.values(), AS_ES256_KEY, AS_NEXT_KEY)),
    Member("ASPSP: API", BANK_NAME, API_HOST, (API_KEY, API_ENCRYPTION_KEY)),
    Member("attacker", ATTACKER_NAME, ATTACKER_HOST, (ATTACKER_KEY,)),
)


def key_roles() -> dict[str, str]:
    """Every published key of the cast and the one party that uses it (a key in two parties raises)."""
    roles: dict[str, str] = {}
    for member in CAST:
        for key in member.keys:
            if key in roles:
                raise ValueError(f"{key} plays both {roles[key]} and {member.role}")
            roles[key] = member.role
    return roles
