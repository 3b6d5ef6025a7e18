// Browser end-to-end test of two-factor authentication with an authenticator
// app: switching it on from the account page, signing in with a verification
// code, a trusted device that skips the second step, and backup codes on
// another device.
//
// The journey runs in order: the tests of the "device" describe share one
// browser context (one device, its cookies) and the enrolled setup key and
// backup codes; a later test is meaningless when an earlier one failed, and
// says so. TOTP codes are computed here from the setup key the page shows
// (RFC 6238). A time step works only once, so a test that needs a second code
// waits for the next 30-second step; hence the longer per-test time limit.
//
// Run with `npm run test:browser` (see support.mjs for the settings).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { RESULTS_DIR, SETUP_TIMEOUT_MS, TEARDOWN_TIMEOUT_MS, createHarness, sleep } from './support.mjs';

const TENANT = 'acme';
const CLIENT_ID = 'browser-e2e-2fa';
const EMAIL = 'bob@example.com';
const PASSWORD = 'tr0ub4dor & 3 but longer';

const TEST_TIMEOUT_MS = 120_000;
const PHONE = { width: 390, height: 844 };

const ACR_1FA = 'urn:tessera:acr:1fa';
const ACR_2FA = 'urn:tessera:acr:2fa';
const ACR_2FA_REMEMBERED = 'urn:tessera:acr:2fa-remembered';

// ---- RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits) -----------------

const TOTP_STEP_SECONDS = 30;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, ignoring spaces, padding and case. */
function base32Decode(text) {
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) {
    const value = BASE32.indexOf(ch);
    if (value < 0) throw new Error(`not a base32 character: ${JSON.stringify(ch)}`);
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** The code of time step `step` (HOTP, RFC 4226, of the step counter). */
function totpForStep(key, step, digits = 6) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

const currentStep = () => Math.floor(Date.now() / 1000 / TOTP_STEP_SECONDS);

/** Waits until a step later than `usedStep` has begun (plus a second of margin). */
async function waitForStepAfter(usedStep) {
  const wait = (usedStep + 1) * TOTP_STEP_SECONDS * 1000 + 1_000 - Date.now();
  if (wait > 0) await sleep(wait);
  assert.ok(currentStep() > usedStep, 'clock did not move on to the next TOTP step');
}

// ---- harness ----------------------------------------------------------------

const h = createHarness({ tenant: TENANT, tenantName: 'Acme Corp', clientId: CLIENT_ID });

before(
  () =>
    h.start((harness) => {
      harness.cli(['user', 'create', '--tenant', TENANT, '--email', EMAIL, '--password-stdin'], PASSWORD);
    }),
  { timeout: SETUP_TIMEOUT_MS },
);

after(() => h.stop(), { timeout: TEARDOWN_TIMEOUT_MS });

/** A full-page screenshot into test-results/, named after the page and the viewport. */
async function screenshot(page, name) {
  const { width, height } = page.viewportSize();
  const file = path.join(RESULTS_DIR, `two-factor-${name}-${width}x${height}.png`);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(existsSync(file), `screenshot ${file} not written`);
}

const accountUrl = () => `${h.baseUrl}/t/${TENANT}/account`;

/** Opens the authorize endpoint and submits email and password. */
async function submitPassword(page, req) {
  await h.openLoginPage(page, req.url);
  await page.getByLabel('Email address').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** Waits for the second-factor page after the password and checks its controls. */
async function expectSecondFactorPage(page, { offersRemember = true } = {}) {
  await page.getByLabel('Verification code').waitFor({ state: 'visible' });
  assert.ok(page.url().startsWith(`${h.baseUrl}/t/${TENANT}/login/`), `second-factor page at ${page.url()}`);
  await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Verify' }).waitFor({ state: 'visible' });
  await page.getByRole('link', { name: 'No access to trusted devices?' }).waitFor({ state: 'visible' });
  const remember = page.getByRole('checkbox', { name: 'Skip this step for one month on this device' });
  assert.equal(await remember.count(), offersRemember ? 1 : 0, 'the "skip this step" checkbox');
  if (offersRemember) assert.equal(await remember.isChecked(), false, 'remembering must be opt-in');
  assert.equal(await page.getByLabel('Verification code').getAttribute('autocomplete'), 'one-time-code');
}

/** Opens the account page (signed in) and returns its response. */
async function openAccount(page) {
  const res = await page.goto(accountUrl(), { waitUntil: 'load' });
  assert.equal(res?.status(), 200, `account page status (at ${page.url()})`);
  assert.equal(new URL(page.url()).pathname, `/t/${TENANT}/account`, `not on the account page: ${page.url()}`);
  await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor({ state: 'visible' });
  return res;
}

/** Account page → Sign out → the signed-out page. */
async function signOut(page) {
  await openAccount(page);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.getByRole('heading', { name: 'Signed out' }).waitFor({ state: 'visible' });
  const cookies = await page.context().cookies(h.baseUrl);
  const session = cookies.find((c) => c.name === `tessera-session-${TENANT}`);
  assert.ok(!session || session.value === '', `the session cookie survived signing out: ${JSON.stringify(session)}`);
}

/** Fills and submits a backup code on the second-factor page, via its link. */
async function submitBackupCode(page, code) {
  await page.getByRole('link', { name: 'No access to trusted devices?' }).click();
  await page.getByRole('heading', { name: 'Use a backup code' }).waitFor({ state: 'visible' });
  await page.getByLabel('Backup code').fill(code);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
    page.getByRole('button', { name: 'Verify' }).click(),
  ]);
  await page.waitForLoadState('load');
  return response;
}

test('the TOTP helper matches the RFC 6238 SHA-1 test vectors', () => {
  // Appendix B: the ASCII seed "12345678901234567890", 8 digits; the last 6 are the 6-digit code.
  const key = Buffer.from('12345678901234567890', 'ascii');
  assert.deepEqual(base32Decode('GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ'), key);
  for (const [t, expected] of [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ]) {
    assert.equal(totpForStep(key, Math.floor(t / 30), 8), expected, `T=${t}`);
    assert.equal(totpForStep(key, Math.floor(t / 30)), expected.slice(2), `T=${t}, 6 digits`);
  }
});

describe('two-factor authentication in Chromium', () => {
  /** What the journey learns and keeps: the one device and the enrolled factor. */
  const journey = {
    device: null,
    problems: [],
    setupKey: null,
    usedStep: null,
    backupCodes: null,
    trusted: false,
  };

  /** The shared device; its page problems are judged (and cleared) per test. */
  async function device() {
    if (!journey.device) {
      journey.device = await h.newPage(PHONE);
      journey.problems = journey.device.problems;
    }
    journey.problems.length = 0;
    h.rp.callbacks.length = 0;
    return journey.device;
  }

  function needs(what) {
    assert.ok(journey[what], `needs ${what} from an earlier test of this journey, which failed`);
  }

  after(async () => {
    await journey.device?.context.close().catch(() => {});
  });

  test('sign in, then switch on two-factor authentication with an authenticator app', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page, callbacks, problems } = await device();

    // A plain password sign-in, which also leaves a session cookie.
    const req = h.authorizeRequest();
    await Promise.all([page.waitForURL(h.isCallback), submitPassword(page, req)]);
    assert.equal(callbacks.length, 1, `expected one callback, got ${JSON.stringify(callbacks)}`);
    const { claims } = await h.exchangeCode(h.callbackCode(page, req), req);
    assert.equal(claims.acr, ACR_1FA, 'password-only sign-in');

    // The account page, signed in through that session cookie.
    await openAccount(page);
    await page.getByText('Two-factor authentication is off.').waitFor({ state: 'visible' });
    await page.getByText('You have no trusted devices.').waitFor({ state: 'visible' });
    await page.getByRole('link', { name: 'Switch on two-factor authentication' }).click();

    await page.getByRole('heading', { name: 'Choose how you verify that it is you' }).waitFor({ state: 'visible' });
    await page.getByRole('radio', { name: 'Authenticator app' }).check();
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor({ state: 'visible' });
    assert.equal(new URL(page.url()).pathname, `/t/${TENANT}/account/two-factor/app`);
    const qr = page.getByRole('img', { name: 'QR code' });
    await qr.waitFor({ state: 'visible' });
    assert.match((await qr.getAttribute('src')) ?? '', /^data:image\//, 'QR code is an inline image');
    const qrSize = await qr.evaluate(async (img) => {
      await img.decode();
      return { natural: img.naturalWidth, shown: img.getBoundingClientRect().width };
    });
    assert.ok(qrSize.natural > 0, 'the QR code image does not decode');
    assert.ok(qrSize.shown >= 150, `QR code drawn too small to scan: ${JSON.stringify(qrSize)}`);

    const setupKey = (await page.getByRole('textbox', { name: 'Setup key' }).innerText()).trim();
    assert.match(setupKey, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/, `setup key format: ${JSON.stringify(setupKey)}`);
    assert.equal(await page.getByLabel('Setup key').innerText(), await page.getByRole('textbox', { name: 'Setup key' }).innerText());
    const key = base32Decode(setupKey);
    assert.ok(key.length >= 16, `seed of only ${key.length} bytes`);
    const otpauth = page.getByRole('link', { name: 'Open in an authenticator app on this device' });
    const otpauthUri = new URL((await otpauth.getAttribute('href')) ?? '');
    assert.equal(otpauthUri.protocol, 'otpauth:');
    assert.equal(otpauthUri.searchParams.get('secret'), setupKey.replaceAll(' ', ''), 'otpauth secret = setup key');
    await screenshot(page, 'setup');

    // A wrong code is refused and the page keeps the same setup key (the app may hold it already).
    const valid = new Set([-1, 0, 1].map((d) => totpForStep(key, currentStep() + d)));
    const wrong = ['000000', '111111', '222222', '333333'].find((c) => !valid.has(c));
    await page.getByLabel('Verification code').fill(wrong);
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
      page.getByRole('button', { name: 'Verify' }).click(),
    ]);
    await page.waitForLoadState('load');
    assert.equal(refused.status(), 401, 'a wrong code on the setup page');
    assert.match(await page.getByRole('alert').innerText(), /This code is not correct or has already been used/);
    assert.equal(await page.getByLabel('Verification code').getAttribute('aria-invalid'), 'true');
    assert.equal(
      (await page.getByRole('textbox', { name: 'Setup key' }).innerText()).trim(),
      setupKey,
      'the setup key changed after a wrong code',
    );

    const step = currentStep();
    await page.getByLabel('Verification code').fill(totpForStep(key, step));
    await page.getByRole('button', { name: 'Verify' }).click();

    const list = page.getByRole('list', { name: 'Backup codes' });
    await list.waitFor({ state: 'visible' });
    journey.setupKey = setupKey;
    journey.usedStep = step;
    const backupCodes = (await list.getByRole('listitem').allInnerTexts()).map((t) => t.trim());
    assert.equal(backupCodes.length, 10, `backup codes: ${JSON.stringify(backupCodes)}`);
    for (const code of backupCodes) assert.match(code, /^[a-z0-9]{5}-[a-z0-9]{5}$/, `backup code ${code}`);
    assert.equal(new Set(backupCodes).size, 10, 'backup codes are not all different');
    journey.backupCodes = backupCodes;
    await screenshot(page, 'backup-codes');

    await page.getByRole('link', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor({ state: 'visible' });
    assert.equal(new URL(page.url()).pathname, `/t/${TENANT}/account`);
    await page.getByRole('status').filter({ hasText: 'Two-factor authentication is now on.' }).waitFor({ state: 'visible' });
    await page.getByText('Two-factor authentication is on. Method: Authenticator app.').waitFor({ state: 'visible' });
    await page.getByText('10 backup codes left').waitFor({ state: 'visible' });
    assert.equal(callbacks.length, 1, 'the account pages do not go to the client');

    assert.deepEqual(problems, []);
  });

  test('sign out, sign in again with a verification code and trust this device', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    needs('setupKey');
    const { page, callbacks, problems } = await device();

    await signOut(page);
    const req = h.authorizeRequest();
    await submitPassword(page, req);
    await expectSecondFactorPage(page);
    assert.equal(callbacks.length, 0, 'reached the client without a second factor');
    await screenshot(page, 'code');

    // The step the enrolment used is spent: its code is refused (while it is still within the
    // accepted window it is refused as a replay, later as too old), so wait for the next step.
    const key = base32Decode(journey.setupKey);
    await page.getByLabel('Verification code').fill(totpForStep(key, journey.usedStep));
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
      page.getByRole('button', { name: 'Verify' }).click(),
    ]);
    await page.waitForLoadState('load');
    assert.equal(refused.status(), 401, `replayed code (step ${journey.usedStep}, now ${currentStep()})`);
    assert.match(await page.getByRole('alert').innerText(), /This code is not correct or has already been used/);
    assert.equal(callbacks.length, 0, 'a replayed code reached the client');
    await expectSecondFactorPage(page);
    await screenshot(page, 'code-refused');

    const waitStarted = Date.now();
    await waitForStepAfter(journey.usedStep);
    t.diagnostic(`waited ${Date.now() - waitStarted} ms for the TOTP step after ${journey.usedStep}`);
    const step = currentStep();
    await page.getByRole('checkbox', { name: 'Skip this step for one month on this device' }).check();
    await page.getByLabel('Verification code').fill(totpForStep(key, step));
    await Promise.all([
      page.waitForURL(h.isCallback),
      page.getByRole('button', { name: 'Verify' }).click(),
    ]);
    journey.usedStep = step;
    journey.trusted = true;

    assert.equal(callbacks.length, 1, `expected one callback, got ${JSON.stringify(callbacks)}`);
    const { claims } = await h.exchangeCode(h.callbackCode(page, req), req);
    assert.equal(claims.acr, ACR_2FA);
    assert.deepEqual([...(claims.amr ?? [])].sort(), ['mfa', 'otp', 'pwd']);

    assert.deepEqual(problems, []);
  });

  test('on the trusted device, signing in needs only the password', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('trusted');
    const { page, callbacks, problems } = await device();

    await signOut(page);
    const req = h.authorizeRequest();
    await h.openLoginPage(page, req.url);
    const shown = [];
    const onNavigated = (frame) => {
      if (frame === page.mainFrame()) shown.push(frame.url());
    };
    page.on('framenavigated', onNavigated);
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([
      page.waitForURL(h.isCallback),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    page.off('framenavigated', onNavigated);
    assert.deepEqual(shown.filter((u) => !h.isCallback(u)), [], 'pages shown between password and client');

    assert.equal(callbacks.length, 1, `expected one callback, got ${JSON.stringify(callbacks)}`);
    const { claims } = await h.exchangeCode(h.callbackCode(page, req), req);
    assert.equal(claims.acr, ACR_2FA_REMEMBERED, 'a remembered second factor is not a fresh one');
    assert.deepEqual(claims.amr, ['pwd']);

    await openAccount(page);
    const devices = page.getByRole('table', { name: 'Trusted devices' });
    await devices.waitFor({ state: 'visible' });
    const rows = devices.getByRole('row');
    assert.equal(await rows.count(), 2, 'a header row and one device');
    const cells = (await rows.nth(1).getByRole('cell').allInnerTexts()).map((t) => t.trim());
    assert.match(cells[0], /Chrom/, `browser label of the device: ${JSON.stringify(cells)}`);
    await devices.getByRole('button', { name: 'Forget this device' }).waitFor({ state: 'visible' });
    await screenshot(page, 'account');

    assert.deepEqual(problems, []);
  });

  test('on another device, a backup code replaces the verification code', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('backupCodes');
    const { context, page, callbacks, problems } = await h.newPage(PHONE);
    try {
      const req = h.authorizeRequest();
      await submitPassword(page, req);
      await expectSecondFactorPage(page);

      const response = await submitBackupCode(page, journey.backupCodes[0]);
      assert.ok([200, 303].includes(response.status()), `backup code answered ${response.status()}`);
      await page.getByRole('heading', { name: 'You are signed in with a backup code' }).waitFor({ state: 'visible' });
      await page.getByRole('status').filter({ hasText: '9 backup codes left' }).waitFor({ state: 'visible' });
      assert.equal(callbacks.length, 0, 'went on to the client before the notice');
      await screenshot(page, 'backup-used');
      await Promise.all([
        page.waitForURL(h.isCallback),
        page.getByRole('button', { name: 'Continue' }).click(),
      ]);

      assert.equal(callbacks.length, 1, `expected one callback, got ${JSON.stringify(callbacks)}`);
      const { claims } = await h.exchangeCode(h.callbackCode(page, req), req);
      assert.equal(claims.acr, ACR_2FA);

      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('a used backup code is refused', { timeout: TEST_TIMEOUT_MS }, async () => {
    needs('backupCodes');
    const { context, page, callbacks, problems } = await h.newPage(PHONE);
    try {
      const req = h.authorizeRequest();
      await submitPassword(page, req);
      await expectSecondFactorPage(page);

      const response = await submitBackupCode(page, journey.backupCodes[0]);
      assert.equal(response.status(), 401);
      const alert = page.getByRole('alert');
      await alert.waitFor({ state: 'visible' });
      assert.match(await alert.innerText(), /This backup code is not correct or has already been used/);
      assert.equal(await page.getByLabel('Backup code').getAttribute('aria-invalid'), 'true');
      assert.equal(callbacks.length, 0, `unexpected redirect to the client: ${callbacks}`);
      assert.ok(page.url().startsWith(`${h.baseUrl}/`), `left tessera: ${page.url()}`);
      await screenshot(page, 'backup-refused');

      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
