// Browser end-to-end test of security keys and passkeys in Chromium, with a
// virtual authenticator (Chrome DevTools Protocol: WebAuthn.enable and
// WebAuthn.addVirtualAuthenticator, ctap2 over usb, resident keys and user
// verification). The journey: register a key on the account page, sign out,
// sign in with password + key, sign out, sign in with the passkey alone; and a
// browser without JavaScript sees the explanation instead of the button.
//
// The authenticator belongs to one page, so the journey keeps one page. The
// origin is http://localhost:PORT (an IP address is not a valid RP ID).
//
// Run with `npm run test:browser` (see support.mjs for the settings).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { RESULTS_DIR, SETUP_TIMEOUT_MS, TEARDOWN_TIMEOUT_MS, createHarness } from './support.mjs';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG 2.1 A/AA violations axe-core finds on the page, one line each (run over CDP, CSP intact). */
async function axeViolations(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

const TENANT = 'acme';
const CLIENT_ID = 'browser-e2e-keys';
const EMAIL = 'carol@example.com';
const PASSWORD = 'a long and correct passphrase';
const TEST_TIMEOUT_MS = 90_000;

const h = createHarness({ tenant: TENANT, tenantName: 'Acme Corp', clientId: CLIENT_ID });

before(
  () =>
    h.start((harness) => {
      harness.cli(['user', 'create', '--tenant', TENANT, '--email', EMAIL, '--password-stdin'], PASSWORD);
    }),
  { timeout: SETUP_TIMEOUT_MS },
);

after(() => h.stop(), { timeout: TEARDOWN_TIMEOUT_MS });

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(RESULTS_DIR, `security-keys-${name}.png`), fullPage: true });
}

const accountUrl = () => `${h.baseUrl}/t/${TENANT}/account`;

async function submitPassword(page, req) {
  await h.openLoginPage(page, req.url);
  await page.getByLabel('Email address').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function signOut(page) {
  await page.goto(accountUrl(), { waitUntil: 'load' });
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Signed out' }).waitFor({ state: 'visible' });
}

describe('security keys and passkeys in Chromium', () => {
  const journey = { device: null, authenticator: null, registered: false };

  async function device() {
    if (!journey.device) {
      journey.device = await h.newPage();
      journey.device.page.on('console', (m) => { if (m.type() === 'warning') journey.device.problems.push(m.text()); });
      const cdp = await journey.device.context.newCDPSession(journey.device.page);
      await cdp.send('WebAuthn.enable', { enableUI: false });
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: {
          protocol: 'ctap2',
          transport: 'usb',
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
          automaticPresenceSimulation: true,
        },
      });
      journey.authenticator = { cdp, authenticatorId };
    }
    journey.device.problems.length = 0;
    h.rp.callbacks.length = 0;
    return journey.device;
  }

  after(async () => {
    await journey.device?.context.close().catch(() => {});
  });

  test('register a security key on the account page', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page, problems } = await device();
    const req = h.authorizeRequest();
    await Promise.all([page.waitForURL(h.isCallback), submitPassword(page, req)]);
    h.callbackCode(page, req);

    await page.goto(accountUrl(), { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Switch on two-factor authentication' }).click();
    await page.getByRole('radio', { name: 'Security key' }).check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Security keys', level: 1 }).waitFor({ state: 'visible' });
    await page.getByLabel('Name of the key').waitFor({ state: 'visible' });
    assert.deepEqual(await axeViolations(page), [], 'axe on the security keys page');
    // The script found WebAuthn: the form shows and the explanation hides.
    assert.equal(await page.getByText('This browser cannot use security keys here.').isVisible(), false);
    await page.getByLabel('Name of the key').fill('Blue key');
    await page.getByRole('button', { name: 'Add security key' }).click();

    const list = page.getByRole('list', { name: 'Backup codes' });
    await list.waitFor({ state: 'visible' }).catch(async (err) => {
      throw new Error(`${err.message}\nproblems: ${JSON.stringify(problems)}\npage: ${page.url()}\n${await page.locator('main').innerText()}\nserver: ${h.serverLogTail(15)}`);
    });
    assert.equal((await list.getByRole('listitem').allInnerTexts()).length, 10);
    const { credentials } = await journey.authenticator.cdp.send('WebAuthn.getCredentials', {
      authenticatorId: journey.authenticator.authenticatorId,
    });
    assert.equal(credentials.length, 1, 'one credential on the authenticator');
    assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential (a passkey)');

    await page.getByRole('link', { name: 'Continue' }).click();
    await page.getByText('Two-factor authentication is on. Method: Security key.').waitFor({ state: 'visible' });
    journey.registered = true;
    await page.getByRole('link', { name: 'Manage security keys' }).click();
    // Two-factor authentication is on now: the key list asks for a sign-in with the key first.
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ state: 'visible' });
    await screenshot(page, 'reauth');
    assert.deepEqual(problems, []);
  });

  test('sign out, then sign in with password and the security key', { timeout: TEST_TIMEOUT_MS }, async () => {
    assert.ok(journey.registered, 'needs the key registered by the previous test');
    const { page, problems } = await device();
    await signOut(page);
    const req = h.authorizeRequest();
    await submitPassword(page, req);
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor({ state: 'visible' });
    assert.equal(await page.getByLabel('Verification code').count(), 0, 'no code field for a key');
    await page.getByRole('button', { name: 'Use security key' }).waitFor({ state: 'visible' });
    assert.deepEqual(await axeViolations(page), [], 'axe on the security-key step');
    await screenshot(page, 'second-factor');
    await Promise.all([page.waitForURL(h.isCallback), page.getByRole('button', { name: 'Use security key' }).click()]);
    const { claims } = await h.exchangeCode(h.callbackCode(page, req), req);
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'user', 'pin', 'mfa']);
    assert.equal(claims.acr, 'phr');
    assert.deepEqual(problems, []);
  });

  test('sign out, then sign in with the passkey alone', { timeout: TEST_TIMEOUT_MS }, async () => {
    assert.ok(journey.registered, 'needs the key registered by the first test');
    const { page, problems } = await device();
    await signOut(page);
    const req = h.authorizeRequest({ acr_values: 'phr' });
    await h.openLoginPage(page, req.url);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).waitFor({ state: 'visible' });
    assert.deepEqual(await axeViolations(page), [], 'axe on the password page with the passkey button');
    await Promise.all([
      page.waitForURL(h.isCallback),
      page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
    ]);
    const { claims } = await h.exchangeCode(h.callbackCode(page, req), req);
    assert.deepEqual(claims.amr, ['hwk', 'user', 'pin', 'mfa']);
    assert.equal(claims.acr, 'phr');
    assert.deepEqual(problems, []);
  });

  test('without JavaScript the page explains instead of offering a dead button', { timeout: TEST_TIMEOUT_MS }, async () => {
    assert.ok(journey.registered, 'needs the key registered by the first test');
    const { page, context } = await h.newPage(undefined, { javaScriptEnabled: false });
    try {
      await submitPassword(page, h.authorizeRequest());
      await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor({ state: 'visible' });
      await page.getByText('This browser cannot use security keys here.').waitFor({ state: 'visible' });
      assert.equal(await page.getByRole('button', { name: 'Use security key' }).isVisible(), false);
      await page.getByRole('link', { name: 'No access to trusted devices?' }).waitFor({ state: 'visible' });
    } finally {
      await context.close();
    }
  });
});
