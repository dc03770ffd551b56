"""One cast across the book (joselab.cast): every chapter's demo builder plays the same parties, with
the same hosts and keys, and no published key plays two parties."""

from __future__ import annotations

import pytest

from joselab import DEMO_EPOCH, DemoIds, FixedClock, cast, demo_key, demo_keys
from joselab.access_token import build_demo as build_access_token_demo
from joselab.attacks import ATTACKER_HOST, AttackerHost, MixUpOP
from joselab.id_token import OpenIDProvider, demo_signing_keys
from joselab.message import DEMO_ANCHOR, DEMO_TPP
from joselab.message import build_demo as build_message_demo
from joselab.parties import Network
from joselab.registration import DEMO_SOFTWARE
from joselab.registration import build_demo as build_registration_demo


def test_every_cast_key_is_a_published_demo_key_and_plays_one_party():
    roles = cast.key_roles()
    assert set(roles) <= set(demo_keys())
    assert roles[cast.ATTACKER_KEY] == "attacker"
    assert roles[cast.CLIENT_KEY] == "TPP" and roles[cast.API_KEY] == "ASPSP: API"


def test_key_roles_refuses_a_key_in_two_parties(monkeypatch):
    twice = (*cast.CAST, cast.Member("attacker", "Eve", "eve.example", (cast.CLIENT_KEY,)))
    monkeypatch.setattr(cast, "CAST", twice)
    with pytest.raises(ValueError, match="plays both TPP and attacker"):
        cast.key_roles()


def test_the_attackers_key_is_rfc_9500s_and_nobody_elses():
    key = demo_key(cast.ATTACKER_KEY)
    assert key.source.startswith("RFC 9500 section 2.1")
    others = {cast.CLIENT_KEY, cast.API_KEY, cast.DIRECTORY_KEY, *cast.AS_KEYS.values(), cast.AS_NEXT_KEY}
    assert key.jwk.thumbprint() not in {demo_key(name).jwk.thumbprint() for name in others}


def test_the_client_id_is_the_first_the_bank_assigns(tmp_path):
    assert DemoIds(cast.CLIENT_ID_SEED).uuid4() == cast.CLIENT_ID
    assert DEMO_SOFTWARE.roles == ("AISP", "PISP") and DEMO_SOFTWARE.software_id == cast.SOFTWARE_ID
    demo = build_registration_demo(tmp_path / "as.sqlite", clock=FixedClock(DEMO_EPOCH), ids=DemoIds(2026))
    try:
        ssa = demo.directory.issue_ssa(DEMO_SOFTWARE)
        outcome = demo.bank.register(demo.client.registration_request(ssa, demo.bank.issuer))
        assert outcome.ok and outcome.body["client_id"] == cast.CLIENT_ID
        jwks = demo.network.get_json(outcome.body["jwks_uri"])
        assert [k["kid"] for k in jwks["keys"]] == [demo_key(cast.CLIENT_KEY).kid]
        # A restarted AS keeps drawing from the same source: the next client gets the next id.
        demo.restart_bank()
        again = demo.bank.register(demo.client.registration_request(ssa, demo.bank.issuer))
        assert again.ok and again.body["client_id"] != cast.CLIENT_ID
    finally:
        demo.close()


def test_one_authorization_server_signs_access_and_id_tokens(tmp_path):
    clock = FixedClock(DEMO_EPOCH)
    demo = build_access_token_demo(tmp_path, clock=clock, ids=DemoIds(1))
    network = Network()
    op = OpenIDProvider(network, clock=clock, store_dir=tmp_path, signing_keys=demo_signing_keys(), ids=DemoIds(2))
    try:
        assert demo.authorization_server.issuer == op.issuer == cast.ISSUER
        assert demo.api.audience == op.api_audience == cast.API
        assert demo.authorization_server.signing_kid == op.signing_keys["RS256"]["kid"]
    finally:
        op.stop()
        network.close()
        demo.close()


def test_the_client_that_signs_the_payment_is_the_registered_one():
    assert (DEMO_TPP.org_id, DEMO_TPP.software_id) == (DEMO_SOFTWARE.org_id, DEMO_SOFTWARE.software_id)
    assert DEMO_ANCHOR.keystore_host == cast.DIRECTORY_HOST
    demo = build_message_demo(FixedClock(DEMO_EPOCH), DemoIds(3))
    try:
        assert demo.client.signer.key.thumbprint() == demo_key(cast.CLIENT_KEY).jwk.thumbprint()
        assert demo.api.server.host == cast.API_HOST
        assert demo.api.signer.key.thumbprint() == demo_key(cast.API_KEY).jwk.thumbprint()
    finally:
        demo.network.close()


def test_mallory_plays_at_evil_example(tmp_path):
    network = Network()
    mallory = AttackerHost(network, demo_key(cast.ATTACKER_KEY))
    mixup = MixUpOP(
        network,
        clock=FixedClock(DEMO_EPOCH),
        store_dir=tmp_path,
        signing_keys={"RS256": demo_key(cast.ATTACKER_KEY)},
        honest_authorization_endpoint="https://as.bank.example/authorize",
        honest_client_id=cast.CLIENT_ID,
        honest_redirect_uri=cast.REDIRECT_URIS[0],
    )
    try:
        assert ATTACKER_HOST == cast.ATTACKER_HOST == mallory.server.host
        assert mixup.server.host.endswith("." + cast.ATTACKER_HOST)
    finally:
        mixup.stop()
        network.close()
