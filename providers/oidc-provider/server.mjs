// node-oidc-provider (npm "oidc-provider", pinned in package-lock.json), started for joselab on
// 127.0.0.1 on an ephemeral port. joselab.parties.oidc_provider starts this script as a subprocess:
//
//   node server.mjs CONFIG.json
//
// CONFIG.json (written by the Python party) holds the signing keys (a private JWK Set), the TLS
// certificate and key files, the clients, the resource servers (RFC 8707 resource indicators, each
// with the alg and lifetime of its RFC 9068 JWT access tokens) and, for reproducible demos only, a
// frozen clock. The script prints one JSON line when it listens: {"ready": true, "issuer": "...", "id": 0}.
//
// Commands arrive as JSON lines on stdin; each is answered by one JSON line on stdout:
//   {"cmd": "start", "config": "OTHER.json"}  one more provider in this process: its own issuer,
//                                      port, TLS certificate, keys, clients and resources (loading
//                                      oidc-provider is most of a start, so a second provider
//                                      need not pay it again); answers {"ready": true, "issuer",
//                                      "id"}. The clock is the process's: a frozen clock must be the
//                                      same instant.
//   {"cmd": "rotate", "id": N, "jwks": {...}}  a new provider instance with these keys serves the
//                                      same issuer from the next request on (oidc-provider reads its
//                                      keys once, at construction); answers {"rotated": [kids]}.
//   {"cmd": "stop", "id": N}           provider N stops listening; answers {"stopped": N}.
// End of stdin stops every server and the process.
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

const first = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const fixedTime = first.fixed_time || null;

if (fixedTime) {
  // Demo determinism only: every token is issued at this instant (seconds since the epoch).
  const frozen = fixedTime * 1000;
  Date.now = () => frozen;
}

function providerConfiguration(config, jwks) {
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

function build(config, issuer, jwks) {
  const ACCOUNT = config.account || 'demo-user';
  const p = new Provider(issuer, providerConfiguration(config, jwks));
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

const running = new Map(); // id -> { config, issuer, server, callback }

// Listens for one provider; calls done(error, entry). A configuration oidc-provider refuses is an
// error for a provider started by command; for the first one it ends the process (nothing to serve).
function listen(id, config, done) {
  const entry = { config, issuer: null, callback: null };
  const handler = (req, res) => entry.callback(req, res);
  entry.server = config.tls
    ? https.createServer({ cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) }, handler)
    : http.createServer(handler);
  entry.server.on('error', (err) => done(err));
  entry.server.listen(0, '127.0.0.1', () => {
    const { port } = entry.server.address();
    entry.issuer = `${config.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    try {
      entry.callback = build(config, entry.issuer, config.jwks).callback();
    } catch (err) {
      entry.server.close();
      done(err);
      return;
    }
    running.set(id, entry);
    done(null, { ready: true, issuer: entry.issuer, port, id });
  });
}

const answer = (doc) => process.stdout.write(`${JSON.stringify(doc)}\n`);

function handle(command) {
  const entry = running.get(command.id ?? 0);
  if (command.cmd === 'start') {
    let config;
    try {
      config = JSON.parse(readFileSync(command.config, 'utf8'));
    } catch (err) {
      answer({ error: `cannot read ${command.config}: ${err.message}` });
      return;
    }
    if ((config.fixed_time || null) !== fixedTime) {
      answer({ error: 'this process runs on another clock: start the provider in a process of its own' });
      return;
    }
    listen(nextId++, config, (err, ready) => answer(err ? { error: err.message } : ready));
  } else if (!entry) {
    answer({ error: `no provider ${command.id}` });
  } else if (command.cmd === 'rotate') {
    entry.callback = build(entry.config, entry.issuer, command.jwks).callback();
    answer({ rotated: command.jwks.keys.map((k) => k.kid) });
  } else if (command.cmd === 'stop') {
    running.delete(command.id);
    entry.server.close();
    entry.server.closeAllConnections();
    answer({ stopped: command.id });
  } else {
    answer({ error: `unknown command ${command.cmd}` });
  }
}

let nextId = 1;
listen(0, first, (err, ready) => {
  if (err) {
    throw err;
  }
  answer(ready);
  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => handle(JSON.parse(line)));
  lines.on('close', () => {
    let open = running.size;
    if (open === 0) process.exit(0);
    for (const { server } of running.values()) {
      server.close(() => {
        open -= 1;
        if (open === 0) process.exit(0);
      });
    }
  });
});
