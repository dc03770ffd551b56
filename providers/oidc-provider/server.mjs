// node-oidc-provider (npm "oidc-provider", pinned in package-lock.json), started for joselab on
// 127.0.0.1 on an ephemeral port. joselab.parties.oidc_provider starts this script as a subprocess:
//
//   node server.mjs CONFIG.json
//
// CONFIG.json (written by the Python party) holds the signing keys (a private JWK Set), the TLS
// certificate and key files, the clients, the resource servers (RFC 8707 resource indicators, each
// with the alg and lifetime of its RFC 9068 JWT access tokens) and, for reproducible demos only, a
// frozen clock. The script prints one JSON line when it listens: {"ready": true, "issuer": "..."}.
//
// Commands arrive as JSON lines on stdin; each is answered by one JSON line on stdout:
//   {"cmd": "rotate", "jwks": {...}}  a new provider instance with these keys serves the same
//                                      issuer from the next request on (oidc-provider reads its keys
//                                      once, at construction); answers {"rotated": [kids]}.
// End of stdin stops the server.
//
// Login and consent have no pages: the interaction route approves the one demo account and grants
// what was asked for, so that a test client can run the authorization code flow without a browser.
// This is the only part that is not oidc-provider's own behaviour, and it is the part every
// deployment writes itself (the login UI).

import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import * as http from 'node:http';
import * as readline from 'node:readline';

import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

if (config.fixed_time) {
  // Demo determinism only: every token is issued at this instant (seconds since the epoch).
  const frozen = config.fixed_time * 1000;
  Date.now = () => frozen;
}

const ACCOUNT = config.account || 'demo-user';

function providerConfiguration(jwks) {
  return {
    jwks,
    clients: config.clients,
    findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
    claims: { openid: ['sub'] },
    scopes: ['openid', 'offline_access', ...config.scopes],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // RFC 8707: a request names its resource; when it names none, no JWT access token is made.
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, indicator) => {
          const rs = config.resources[indicator];
          if (!rs) {
            throw new errors.InvalidTarget();
          }
          return {
            scope: rs.scope,
            audience: indicator,
            accessTokenTTL: rs.ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: rs.alg } },
          };
        },
      },
    },
    ttl: {
      IdToken: config.id_token_ttl || 300,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL || 300,
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL || 300,
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'],
    },
  };
}

let callback;

function build(issuer, jwks) {
  const p = new Provider(issuer, providerConfiguration(jwks));
  p.use(async (ctx, next) => {
    const match = ctx.method === 'GET' && ctx.path.match(/^\/interaction\/([\w-]+)$/);
    if (!match) {
      return next();
    }
    const details = await p.interactionDetails(ctx.req, ctx.res);
    const { prompt, params, session } = details;
    let result;
    if (prompt.name === 'login') {
      result = { login: { accountId: ACCOUNT } };
    } else {
      const grant = details.grantId
        ? await p.Grant.find(details.grantId)
        : new p.Grant({ accountId: session.accountId, clientId: params.client_id });
      const missing = prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
    }
    const returnTo = await p.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    ctx.status = 303;
    ctx.redirect(returnTo);
  });
  return p;
}

const handler = (req, res) => callback(req, res);
const server = config.tls
  ? https.createServer({ cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) }, handler)
  : http.createServer(handler);

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `${config.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  callback = build(issuer, config.jwks).callback();
  process.stdout.write(`${JSON.stringify({ ready: true, issuer, port })}\n`);

  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    const command = JSON.parse(line);
    if (command.cmd === 'rotate') {
      callback = build(issuer, command.jwks).callback();
      process.stdout.write(`${JSON.stringify({ rotated: command.jwks.keys.map((k) => k.kid) })}\n`);
    } else {
      process.stdout.write(`${JSON.stringify({ error: `unknown command ${command.cmd}` })}\n`);
    }
  });
  lines.on('close', () => server.close(() => process.exit(0)));
});
