// Browser end-to-end test of tessera's sign-in page.
//
// Drives Debian's Chromium (/usr/bin/chromium, override with CHROMIUM_PATH)
// through playwright-core against a real `tessera serve` started on a free
// loopback port with a throw-away data directory. Run with:
//
//     npm run test:browser
//
// The tessera binary is TESSERA_TEST_BIN, default target/debug/tessera relative to
// the repository root (build it with `cargo build --bin tessera`). The shared
// machinery (server, relying-party stand-in, browser) is in support.mjs.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  RESULTS_DIR,
  SETUP_TIMEOUT_MS,
  TEARDOWN_TIMEOUT_MS,
  createHarness,
  decodeJwtPart,
} from './support.mjs';

const TENANT = 'acme';
const CLIENT_ID = 'browser-e2e-spa';
const EMAIL = 'alice@example.com';
const PASSWORD = 'correct horse battery staple';

const TEST_TIMEOUT_MS = 60_000;

/** Server, relying party and browser shared by the hooks and tests. */
const ctx = createHarness({ tenant: TENANT, tenantName: 'Acme Corp', clientId: CLIENT_ID });

/**
 * A fresh browser context (own cookies) with a page whose navigations to the
 * relying party's redirect URI are answered locally and recorded.
 */
const newPage = (viewport) => ctx.newPage(viewport);
const authorizeRequest = () => ctx.authorizeRequest();
/** Opens the authorize URL and waits for the login form. */
const openLoginPage = (page, authorizeUrl) => ctx.openLoginPage(page, authorizeUrl);

before(
  () =>
    ctx.start((h) => {
      h.cli(['user', 'create', '--tenant', TENANT, '--email', EMAIL, '--password-stdin'], PASSWORD);
    }),
  { timeout: SETUP_TIMEOUT_MS },
);

after(() => ctx.stop(), { timeout: TEARDOWN_TIMEOUT_MS });

describe('tessera login page in Chromium', () => {
  test('sign-in journey: authorize, sign in, land on redirect URI, exchange the code', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page, callbacks, problems } = await newPage();
    try {
      const req = authorizeRequest();
      await openLoginPage(page, req.url);

      await page.getByLabel('Email address').fill(EMAIL);
      await page.getByLabel('Password').fill(PASSWORD);
      await Promise.all([
        page.waitForURL((u) => u.toString().startsWith(ctx.redirectUri)),
        page.getByRole('button', { name: 'Sign in', exact: true }).click(),
      ]);

      assert.equal(callbacks.length, 1, `expected one callback, got ${JSON.stringify(callbacks)}`);
      const landed = new URL(page.url());
      assert.equal(`${landed.origin}${landed.pathname}`, ctx.redirectUri);
      assert.equal(landed.searchParams.get('error'), null, `error on callback: ${landed}`);
      const code = landed.searchParams.get('code');
      assert.ok(code, `no code in ${landed}`);
      assert.equal(landed.searchParams.get('state'), req.state);
      assert.equal(landed.searchParams.get('iss'), `${ctx.baseUrl}/t/${TENANT}`);

      const tokenRes = await fetch(`${ctx.baseUrl}/t/${TENANT}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: ctx.redirectUri,
          client_id: CLIENT_ID,
          code_verifier: req.verifier,
        }),
        signal: AbortSignal.timeout(10_000),
      });
      const tokenBody = await tokenRes.text();
      assert.equal(tokenRes.status, 200, `token endpoint: ${tokenBody}`);
      const tokens = JSON.parse(tokenBody);
      assert.equal(typeof tokens.access_token, 'string');
      assert.ok(tokens.access_token.length > 0, 'empty access_token');
      assert.equal(typeof tokens.id_token, 'string');
      const parts = tokens.id_token.split('.');
      assert.equal(parts.length, 3, 'id_token is not a compact JWS');

      const claims = decodeJwtPart(parts[1]);
      assert.equal(claims.iss, `${ctx.baseUrl}/t/${TENANT}`);
      assert.ok(
        claims.aud === CLIENT_ID || (Array.isArray(claims.aud) && claims.aud.includes(CLIENT_ID)),
        `aud ${JSON.stringify(claims.aud)}`,
      );
      assert.equal(claims.nonce, req.nonce);

      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('a wrong password shows an error and keeps the typed email', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page, callbacks, problems } = await newPage();
    try {
      const req = authorizeRequest();
      await openLoginPage(page, req.url);
      const loginUrl = new URL(page.url());

      await page.getByLabel('Email address').fill(EMAIL);
      await page.getByLabel('Password').fill('not-the-password');
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
        page.getByRole('button', { name: 'Sign in', exact: true }).click(),
      ]);
      await page.waitForLoadState('load');

      assert.equal(response.status(), 401);
      const alert = page.getByRole('alert');
      await alert.waitFor({ state: 'visible' });
      assert.match(await alert.innerText(), /Incorrect email address or password\./);

      assert.equal(callbacks.length, 0, `unexpected redirect to the client: ${callbacks}`);
      const now = new URL(page.url());
      assert.equal(now.origin, ctx.baseUrl);
      assert.equal(now.pathname, loginUrl.pathname, 'left the login page');
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ state: 'visible' });
      assert.equal(await page.getByLabel('Email address').inputValue(), EMAIL);
      assert.equal(await page.getByLabel('Password').inputValue(), '', 'password should not be echoed back');
      await page.screenshot({ path: path.join(RESULTS_DIR, 'login-wrong-password-1280x800.png'), fullPage: true });

      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('login page markup: language and autocomplete hints; screenshots', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page, problems } = await newPage({ width: 390, height: 844 });
    try {
      await openLoginPage(page, authorizeRequest().url);

      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      assert.equal(await page.getByLabel('Email address').getAttribute('autocomplete'), 'username');
      assert.equal(await page.getByLabel('Password').getAttribute('autocomplete'), 'current-password');
      assert.equal(await page.getByLabel('Password').getAttribute('type'), 'password');

      for (const [name, viewport] of [
        ['mobile', { width: 390, height: 844 }],
        ['desktop', { width: 1280, height: 800 }],
      ]) {
        await page.setViewportSize(viewport);
        const file = path.join(RESULTS_DIR, `login-${name}-${viewport.width}x${viewport.height}.png`);
        await page.screenshot({ path: file, fullPage: true });
        assert.ok(existsSync(file), `screenshot ${file} not written`);
      }

      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test(
    'no empty error box is drawn before any error',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      const { context, page } = await newPage();
      try {
        await openLoginPage(page, authorizeRequest().url);
        const summary = page.locator('#error-summary');
        assert.equal((await summary.innerText()).trim(), '');
        const box = await summary.boundingBox();
        assert.ok(box === null || box.height === 0, `empty error summary is drawn: ${JSON.stringify(box)}`);
      } finally {
        await context.close();
      }
    },
  );
});
