// Interoperability with an independent, certified relying-party library:
// openid-client 6 (npm, by the author of the certified `oidc-provider`) talks
// to a real `tessera serve` as a confidential client, and Chromium (driven
// through playwright-core) plays the person who signs in.
//
// The library does its own checks and is the judge here: issuer and discovery
// document, `iss` in the authorization response (RFC 9207, advertised by
// tessera), `state`, PKCE, `nonce`, the ID token's signature (from jwks_uri)
// and claims, `at_hash`, the userinfo subject, and the refresh-token ID token.
//
// The journey runs in order and its tests share one browser context (one
// device, its SSO cookie) and the tokens obtained; a later test is meaningless
// when an earlier one failed, and says so.
//
// Run with `npm run test:browser` (see support.mjs for the settings).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { SETUP_TIMEOUT_MS, TEARDOWN_TIMEOUT_MS, createHarness } from './support.mjs';

const TENANT = 'interop';
/** The harness always registers a public client; this test uses its own confidential one. */
const HARNESS_CLIENT_ID = 'interop-unused-public';
const CLIENT_ID = 'openid-client-rp';
const EMAIL = 'carol@example.com';
const PASSWORD = 'a long and certified passphrase';
const MACHINE_SCOPE = 'records:read';

const ACR_1FA = 'urn:tessera:acr:1fa';
const TEST_TIMEOUT_MS = 60_000;

const h = createHarness({ tenant: TENANT, tenantName: 'Interop Inc', clientId: HARNESS_CLIENT_ID });

/** Set in `before`: the client's secret (printed once by the CLI) and its post-logout URI. */
const registered = { secret: null, postLogoutRedirectUri: null };

before(
  () =>
    h.start((harness) => {
      // Same origin as the stand-in relying party, which answers every path with 200.
      registered.postLogoutRedirectUri = new URL('/signed-out', harness.redirectUri).toString();
      const out = harness.cli([
        'client', 'create',
        '--tenant', TENANT,
        '--client-id', CLIENT_ID,
        '--redirect-uri', harness.redirectUri,
        '--first-party',
        '--post-logout-redirect-uri', registered.postLogoutRedirectUri,
        '--scope', MACHINE_SCOPE,
      ]);
      const match = /client secret \(shown only now, store it safely\): (\S+)/.exec(out);
      assert.ok(match, `no client secret in the CLI output:\n${out}`);
      registered.secret = match[1];
      harness.cli(['user', 'create', '--tenant', TENANT, '--email', EMAIL, '--password-stdin'], PASSWORD);
    }),
  { timeout: SETUP_TIMEOUT_MS },
);

after(() => h.stop(), { timeout: TEARDOWN_TIMEOUT_MS });

const issuer = () => `${h.baseUrl}/t/${TENANT}`;

/**
 * Asserts that `promise` rejects with an OAuth error response from tessera
 * (openid-client's ResponseBodyError) with the given `error` code.
 */
async function rejectsWithOAuthError(promise, error, what) {
  await assert.rejects(promise, (err) => {
    assert.ok(
      err instanceof client.ResponseBodyError,
      `${what}: expected a ResponseBodyError, got ${err?.name} ${err?.code ?? ''}: ${err?.message}`,
    );
    assert.equal(err.error, error, `${what}: error code (description: ${err.error_description})`);
    assert.equal(err.status, 400, `${what}: HTTP status`);
    return true;
  });
}

describe('openid-client 6 as the relying party of tessera', () => {
  /** What the journey learns and keeps. */
  const journey = {
    config: null,
    device: null,
    login: null, // tokens, claims and refresh token of the first sign-in
    sso: null, // tokens of the silent second sign-in
    loggedOut: false,
    replayed: null, // tokens of a sign-in whose code was then replayed
  };

  function needs(what) {
    assert.ok(journey[what], `needs ${what} from an earlier test of this journey, which failed`);
  }

  /** The shared device; its page problems and the recorded callbacks are cleared per use. */
  async function device() {
    if (!journey.device) journey.device = await h.newPage();
    journey.device.problems.length = 0;
    h.rp.callbacks.length = 0;
    return journey.device;
  }

  /** A fresh authorization request (PKCE S256, state, nonce) built by the library. */
  async function authorizationRequest() {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(journey.config, {
      redirect_uri: h.redirectUri,
      scope: 'openid email offline_access',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url, verifier, state, nonce };
  }

  /** The one callback the stand-in relying party received, as the library wants it. */
  function receivedCallback() {
    const { callbacks } = h.rp;
    assert.equal(callbacks.length, 1, `expected one callback at the relying party, got ${JSON.stringify(callbacks)}`);
    return new URL(callbacks[0]);
  }

  const codeGrant = (callbackUrl, req) =>
    client.authorizationCodeGrant(journey.config, callbackUrl, {
      pkceCodeVerifier: req.verifier,
      expectedState: req.state,
      expectedNonce: req.nonce,
      idTokenExpected: true,
    });

  after(async () => {
    await journey.device?.context.close().catch(() => {});
  });

  test('discovery: the library accepts the issuer and its metadata', { timeout: TEST_TIMEOUT_MS }, async () => {
    assert.ok(registered.secret, 'the client secret was not captured');
    const config = await client.discovery(
      new URL(issuer()),
      CLIENT_ID,
      { redirect_uris: [h.redirectUri], post_logout_redirect_uris: [registered.postLogoutRedirectUri] },
      client.ClientSecretBasic(registered.secret),
      { execute: [client.allowInsecureRequests], timeout: 10 },
    );
    const meta = config.serverMetadata();
    assert.equal(meta.issuer, issuer());
    assert.equal(meta.authorization_response_iss_parameter_supported, true, 'RFC 9207 iss not advertised');
    assert.ok(meta.supportsPKCE('S256'), 'S256 PKCE not advertised');
    for (const endpoint of [
      'authorization_endpoint',
      'token_endpoint',
      'userinfo_endpoint',
      'jwks_uri',
      'revocation_endpoint',
      'introspection_endpoint',
      'end_session_endpoint',
    ]) {
      assert.ok(meta[endpoint]?.startsWith(`${issuer()}/`), `${endpoint}: ${meta[endpoint]}`);
    }
    journey.config = config;
  });

  test('sign in with Chromium; authorizationCodeGrant validates iss, state, PKCE, nonce and the ID token', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('config');
    const { page, problems } = await device();
    const req = await authorizationRequest();
    assert.equal(req.url.searchParams.get('client_id'), CLIENT_ID);
    const startedAt = Math.floor(Date.now() / 1000);

    await h.openLoginPage(page, req.url.toString());
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL(h.isCallback), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);

    const callback = receivedCallback();
    assert.equal(callback.searchParams.get('iss'), issuer(), 'RFC 9207 iss in the authorization response');

    const tokens = await codeGrant(callback, req);
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(typeof tokens.access_token, 'string');
    assert.equal(typeof tokens.refresh_token, 'string', 'offline_access should give a refresh token');
    assert.ok(tokens.expiresIn() > 0, `expires_in ${tokens.expires_in}`);
    assert.deepEqual(
      new Set(tokens.scope.split(' ')),
      new Set(['openid', 'email', 'offline_access']),
      `granted scope ${tokens.scope}`,
    );

    const claims = tokens.claims();
    assert.ok(claims, 'no ID token claims');
    assert.equal(claims.iss, issuer());
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims.nonce, req.nonce);
    assert.equal(typeof claims.sub, 'string');
    assert.ok(claims.sub.length > 0, 'empty sub');
    assert.equal(claims.email, EMAIL);
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.acr, ACR_1FA);
    assert.equal(typeof claims.auth_time, 'number');
    const now = Math.floor(Date.now() / 1000);
    assert.ok(
      claims.auth_time >= startedAt - 5 && claims.auth_time <= now + 5,
      `auth_time ${claims.auth_time} outside [${startedAt}, ${now}]`,
    );

    assert.deepEqual(problems, []);
    journey.login = { tokens, claims, firstRefreshToken: tokens.refresh_token };
  });

  test('fetchUserInfo: the subject matches the ID token', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('login');
    const { tokens, claims } = journey.login;
    const info = await client.fetchUserInfo(journey.config, tokens.access_token, claims.sub);
    assert.equal(info.sub, claims.sub);
    assert.equal(info.email, EMAIL);
  });

  test('tokenIntrospection: the access token of the sign-in is active', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('login');
    const { tokens, claims } = journey.login;
    const answer = await client.tokenIntrospection(journey.config, tokens.access_token);
    assert.equal(answer.active, true, JSON.stringify(answer));
    assert.equal(answer.client_id, CLIENT_ID);
    assert.equal(answer.sub, claims.sub);
    assert.equal(answer.iss, issuer());
    assert.ok(answer.scope.split(' ').includes('openid'), `scope ${answer.scope}`);
  });

  test('refreshTokenGrant rotates; replaying an old refresh token revokes the whole family', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('login');
    const { claims, firstRefreshToken } = journey.login;

    const first = await client.refreshTokenGrant(journey.config, firstRefreshToken);
    assert.equal(typeof first.refresh_token, 'string', 'no rotated refresh token');
    assert.notEqual(first.refresh_token, firstRefreshToken, 'the refresh token was not rotated');
    assert.notEqual(first.access_token, journey.login.tokens.access_token);
    assert.equal(typeof first.id_token, 'string', 'no ID token from the refresh (scope openid)');
    assert.equal(first.claims().sub, claims.sub);

    const second = await client.refreshTokenGrant(journey.config, first.refresh_token);
    assert.equal(typeof second.refresh_token, 'string', 'no rotated refresh token');
    assert.notEqual(second.refresh_token, first.refresh_token, 'the refresh token was not rotated');
    assert.equal(typeof second.id_token, 'string', 'no ID token from the refresh (scope openid)');
    assert.equal(second.claims().sub, claims.sub);
    const info = await client.fetchUserInfo(journey.config, second.access_token, claims.sub);
    assert.equal(info.sub, claims.sub);

    // Replay of the first (already used) refresh token: reuse detected.
    await rejectsWithOAuthError(
      client.refreshTokenGrant(journey.config, firstRefreshToken),
      'invalid_grant',
      'replayed first refresh token',
    );
    // The newest one was never used, but its family is dead now.
    await rejectsWithOAuthError(
      client.refreshTokenGrant(journey.config, second.refresh_token),
      'invalid_grant',
      'newest refresh token after the replay',
    );
    // So are the access tokens the family produced.
    for (const [name, token] of [
      ['first access token', journey.login.tokens.access_token],
      ['newest access token', second.access_token],
      ['newest refresh token', second.refresh_token],
    ]) {
      const answer = await client.tokenIntrospection(journey.config, token);
      assert.equal(answer.active, false, `${name} still active after the family was revoked: ${JSON.stringify(answer)}`);
    }
  });

  test('SSO: a second authorization request in the same browser skips the login page', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('login');
    const { page, problems } = await device();
    const req = await authorizationRequest();
    await page.goto(req.url.toString(), { waitUntil: 'load' });
    assert.ok(h.isCallback(page.url()), `expected a silent redirect to the client, landed on ${page.url()}`);

    const tokens = await codeGrant(receivedCallback(), req);
    const claims = tokens.claims();
    assert.equal(claims.sub, journey.login.claims.sub);
    assert.equal(claims.auth_time, journey.login.claims.auth_time, 'SSO should keep the original auth_time');
    assert.equal(typeof tokens.refresh_token, 'string');
    assert.deepEqual(problems, []);
    journey.sso = { tokens, claims };
  });

  test('tokenRevocation: a revoked access token is inactive and refused by userinfo', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('sso');
    const { tokens, claims } = journey.sso;
    const beforeRevocation = await client.tokenIntrospection(journey.config, tokens.access_token);
    assert.equal(beforeRevocation.active, true, JSON.stringify(beforeRevocation));

    await client.tokenRevocation(journey.config, tokens.access_token);

    const afterRevocation = await client.tokenIntrospection(journey.config, tokens.access_token);
    assert.equal(afterRevocation.active, false, JSON.stringify(afterRevocation));
    await assert.rejects(client.fetchUserInfo(journey.config, tokens.access_token, claims.sub), (err) => {
      assert.ok(
        err instanceof client.WWWAuthenticateChallengeError,
        `expected a WWW-Authenticate challenge, got ${err?.name} ${err?.code ?? ''}: ${err?.message}`,
      );
      assert.equal(err.status, 401);
      return true;
    });

    // Revoking the refresh token ends its grant (RFC 7009 2.1).
    const refreshAnswer = await client.tokenIntrospection(journey.config, tokens.refresh_token);
    assert.equal(refreshAnswer.active, true, JSON.stringify(refreshAnswer));
    await client.tokenRevocation(journey.config, tokens.refresh_token);
    await rejectsWithOAuthError(
      client.refreshTokenGrant(journey.config, tokens.refresh_token),
      'invalid_grant',
      'revoked refresh token',
    );
  });

  test('clientCredentialsGrant with a registered scope', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('config');
    const tokens = await client.clientCredentialsGrant(journey.config, { scope: MACHINE_SCOPE });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.equal(typeof tokens.access_token, 'string');
    assert.equal(tokens.scope, MACHINE_SCOPE);
    assert.equal(tokens.refresh_token, undefined, 'client_credentials must not give a refresh token');
    assert.equal(tokens.id_token, undefined, 'client_credentials must not give an ID token');

    const answer = await client.tokenIntrospection(journey.config, tokens.access_token);
    assert.equal(answer.active, true, JSON.stringify(answer));
    assert.equal(answer.scope, MACHINE_SCOPE);
    assert.equal(answer.client_id, CLIENT_ID);
    assert.equal(answer.sub, undefined, `a machine token has no subject: ${JSON.stringify(answer)}`);

    await rejectsWithOAuthError(
      client.clientCredentialsGrant(journey.config, { scope: 'records:write' }),
      'invalid_scope',
      'unregistered scope',
    );
  });

  test('buildEndSessionUrl: RP-initiated logout returns to the client and ends SSO', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('login');
    needs('sso'); // the browser had a live session, so the login page afterwards means logout ended it
    const { page, context, problems } = await device();
    const state = client.randomState();
    const endSession = client.buildEndSessionUrl(journey.config, {
      id_token_hint: journey.login.tokens.id_token,
      post_logout_redirect_uri: registered.postLogoutRedirectUri,
      state,
    });
    assert.equal(`${endSession.origin}${endSession.pathname}`, `${issuer()}/logout`);

    const res = await page.goto(endSession.toString(), { waitUntil: 'load' });
    const landed = new URL(page.url());
    assert.equal(
      `${landed.origin}${landed.pathname}`,
      registered.postLogoutRedirectUri,
      `not on the post-logout redirect URI: ${landed}`,
    );
    assert.equal(landed.searchParams.get('state'), state);
    assert.equal(res?.status(), 200, 'the stand-in answers the post-logout URI');
    assert.equal(h.rp.callbacks.length, 0, `logout went to the redirect URI: ${h.rp.callbacks}`);
    const cookies = await context.cookies(h.baseUrl);
    const session = cookies.find((c) => c.name === `tessera-session-${TENANT}`);
    assert.ok(!session || session.value === '', `the session cookie survived logout: ${JSON.stringify(session)}`);

    // SSO ended: the same browser has to sign in again.
    const req = await authorizationRequest();
    await h.openLoginPage(page, req.url.toString());
    assert.equal(h.rp.callbacks.length, 0, `redirected to the client without signing in: ${h.rp.callbacks}`);
    assert.deepEqual(problems, []);
    journey.loggedOut = true;
  });

  test('a replayed authorization code is refused and revokes the access token it gave', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('loggedOut');
    const { page, problems } = await device();
    const req = await authorizationRequest();
    await h.openLoginPage(page, req.url.toString());
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForURL(h.isCallback), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
    const callback = receivedCallback();

    const tokens = await codeGrant(callback, req);
    assert.equal(typeof tokens.refresh_token, 'string');
    await rejectsWithOAuthError(codeGrant(callback, req), 'invalid_grant', 'replayed authorization code');

    const answer = await client.tokenIntrospection(journey.config, tokens.access_token);
    assert.equal(answer.active, false, `access token of a replayed code still active: ${JSON.stringify(answer)}`);
    assert.deepEqual(problems, []);
    journey.replayed = tokens;
  });

  // RFC 6749 4.1.2 / 10.5 and RFC 9700 4.2.4: the server SHOULD revoke all
  // tokens issued from a replayed code, refresh tokens included.
  test(
    'a replayed authorization code also revokes the refresh token it gave',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      needs('replayed');
      const { refresh_token: refreshToken } = journey.replayed;
      const answer = await client.tokenIntrospection(journey.config, refreshToken);
      assert.equal(answer.active, false, `refresh token of a replayed code still active: ${JSON.stringify(answer)}`);
      await rejectsWithOAuthError(
        client.refreshTokenGrant(journey.config, refreshToken),
        'invalid_grant',
        'refresh token of a replayed code',
      );
    },
  );
});
