// The peer of tessera's benchmark (docs/benchmarks.md, issue 17): panva's oidc-provider configured
// like the tessera the benchmark starts. tessera-bench installs oidc-provider into a temporary
// folder, writes this file beside its node_modules and starts it pinned to the server's core.
//
// Environment: PEER_PORT (loopback port), PEER_SERVICE_SECRET and PEER_PORTAL_SECRET (the two
// clients' secrets), PEER_REDIRECT_URI. Prints "ready" on standard output once it listens.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as http from 'node:http';

import Provider from 'oidc-provider';
// The library's own in-memory store, named explicitly (the default prints a development warning),
// over its own LRU with room for 50,000 entries instead of its default 1,000: with 1,000, the
// refresh chains' grants were evicted under load and the peer answered some of its own refreshes
// invalid_grant (docs/benchmarks.md).
import MemoryAdapter from 'oidc-provider/lib/adapters/memory_adapter.js';
import LRU from 'oidc-provider/lib/helpers/lru.js';

const port = Number(process.env.PEER_PORT);
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = process.env.PEER_REDIRECT_URI;

// One RSA-2048 signing key made at start, as tessera makes its first key.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-rs256', use: 'sig', alg: 'RS256' };

// The one person every login signs in as (the peer has no user store of its own).
const ACCOUNT_ID = 'bench-user';
const account = {
  accountId: ACCOUNT_ID,
  async claims() {
    return { sub: ACCOUNT_ID, email: 'user000000@bench.example.org', email_verified: true };
  },
};

// tessera's lifetimes (config/default.toml); set explicitly, which also keeps the library from
// printing "you SHOULD change it" notices on the first request.
const ttl = {
  AccessToken: 900,
  AuthorizationCode: 60,
  ClientCredentials: 900,
  IdToken: 900,
  RefreshToken: 14 * 24 * 3600,
  Interaction: 1800,
  Session: 28800,
  Grant: 14 * 24 * 3600,
};

const configuration = {
  clients: [
    {
      // Machine to machine: client_credentials for api.read (tessera's `portal` is allowed it too).
      client_id: 'service',
      client_secret: process.env.PEER_SERVICE_SECRET,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'api.read',
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      // The confidential code-flow client: rotating refresh tokens, RS256 ID tokens.
      client_id: 'portal',
      client_secret: process.env.PEER_PORTAL_SECRET,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [redirectUri],
      scope: 'openid email offline_access',
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
  ],
  jwks: { keys: [signingKey] },
  scopes: ['openid', 'email', 'offline_access', 'api.read'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  adapter: ((store) => (model) => new MemoryAdapter(model, store))(new LRU({ maxSize: 50_000 })),
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
    introspection: { enabled: true, allowedPolicy: async () => true },
    // As tessera's /revoke: a client revokes its own tokens.
    revocation: { enabled: true, allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId },
    userinfo: { enabled: true },
  },
  // Opaque access tokens (no resource indicators, so no JWT access tokens), rotated refresh tokens.
  rotateRefreshToken: true,
  ttl,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  clientBasedCORS: () => false,
  findAccount: async (ctx, sub) => (sub === ACCOUNT_ID ? account : undefined),
  interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, error) => console.error('server_error', error));

// The login that completes with redirects only: the interaction signs the fixed account in and
// grants what the client asked for, then sends the browser back to the authorization endpoint.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: ACCOUNT_ID }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      console.error('interaction', error);
      res.statusCode = 500;
      res.end();
    });
    return;
  }
  callback(req, res);
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1', () => console.log('ready'));
