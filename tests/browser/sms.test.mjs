// Browser end-to-end test of two-factor authentication with text-message codes
// sent through tessera's signed webhook: switching it on from the account page
// with a Dutch number in national format, then signing in with the code that
// the webhook receives, and the wait before a new code may be sent.
//
// The webhook is a small HTTP server in this file: it checks the
// X-Tessera-Signature (HMAC-SHA-256 of the raw body with the shared secret,
// compared in constant time) and the signed timestamp's freshness (within 5
// minutes, as the README asks of receivers), records each message and reads
// the 6-digit code out of its text.
//
// The tests of the describe share one browser context (one device) and run in
// order; a later test is meaningless when an earlier one failed, and says so.
//
// Run with `npm run test:browser` (see support.mjs for the settings).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { RESULTS_DIR, SETUP_TIMEOUT_MS, TEARDOWN_TIMEOUT_MS, createHarness, sleep } from './support.mjs';

const TENANT = 'acme';
const TENANT_NAME = 'Acme Clinic';
const CLIENT_ID = 'browser-e2e-sms';
const EMAIL = 'carol@example.com';
const PASSWORD = 'a phone in every pocket, 2024';

const PHONE_INPUT = '06 12345678';
const PHONE_E164 = '+31612345678';
const PHONE_MASKED = '+31 6 •••• ••78';
const CODE_MINUTES = 30;

/** tessera's RESEND_SECONDS: no new message to the same person within this time. */
const RESEND_SECONDS = 60;

// The second test may wait out the resend interval (see there); hence the long limit.
const TEST_TIMEOUT_MS = 180_000;
const MESSAGE_TIMEOUT_MS = 15_000;
const PHONE = { width: 390, height: 844 };

const ACR_2FA = 'urn:tessera:acr:2fa';

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const MESSAGE_RE = new RegExp(
  `^Your ${escapeRegExp(TENANT_NAME)} verification code is (\\d{6})\\. It is valid for ${CODE_MINUTES} minutes\\.$`,
);

// ---- the mock SMS webhook -----------------------------------------------------

/**
 * A stand-in for an SMS gateway's webhook on a loopback port. Every POST to
 * /sms is recorded as { to, message, tenant, code, signatureOk, at }; a valid
 * signature is answered 200, anything else 4xx (and still recorded, so the
 * test sees it).
 */
function createSmsWebhook(secret) {
  const hook = { server: null, url: '', messages: [], problems: [] };

  const verify = (raw, header) => {
    const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`, 'utf8');
    const given = Buffer.from(String(header ?? ''), 'utf8');
    // timingSafeEqual needs equal lengths; a length mismatch is a mismatch.
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  hook.start = () =>
    new Promise((resolve, reject) => {
      const server = http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
          const answer = (status, text) => {
            res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
            res.end(text);
          };
          if (req.method !== 'POST' || req.url !== '/sms') {
            hook.problems.push(`unexpected ${req.method} ${req.url}`);
            return answer(404, 'not found');
          }
          const raw = Buffer.concat(chunks);
          const signatureOk = verify(raw, req.headers['x-tessera-signature']);
          let body = null;
          try {
            body = JSON.parse(raw.toString('utf8'));
          } catch {
            hook.problems.push(`body is not JSON: ${raw.toString('utf8').slice(0, 200)}`);
          }
          const message = typeof body?.message === 'string' ? body.message : '';
          hook.messages.push({
            to: body?.to,
            message,
            tenant: body?.tenant,
            fresh: Number.isInteger(body?.timestamp) && Math.abs(body.timestamp - Date.now() / 1000) <= 300,
            keys: body ? Object.keys(body).sort() : [],
            contentType: req.headers['content-type'],
            code: message.match(/\b(\d{6})\b/)?.[1] ?? null,
            signatureOk,
            at: Date.now(),
          });
          if (!signatureOk) return answer(401, 'bad signature');
          return answer(200, 'ok');
        });
        req.on('error', (err) => hook.problems.push(`request error: ${err.message}`));
      });
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        hook.server = server;
        hook.url = `http://127.0.0.1:${server.address().port}/sms`;
        resolve();
      });
    });

  /** Waits until more than `count` messages have arrived; returns message number `count`. */
  hook.nextAfter = async (count, timeoutMs = MESSAGE_TIMEOUT_MS) => {
    const deadline = Date.now() + timeoutMs;
    while (hook.messages.length <= count) {
      if (Date.now() > deadline) {
        throw new Error(`no text message reached the webhook within ${timeoutMs} ms (had ${count})`);
      }
      await sleep(50);
    }
    return hook.messages[count];
  };

  hook.stop = async () => {
    const server = hook.server;
    if (!server) return;
    server.closeAllConnections();
    await Promise.race([new Promise((resolve) => server.close(resolve)), sleep(2_000)]);
  };

  return hook;
}

/** Checks one received message and returns its code. */
function checkMessage(msg) {
  assert.equal(msg.signatureOk, true, 'X-Tessera-Signature does not verify');
  assert.deepEqual(msg.keys, ['message', 'tenant', 'timestamp', 'to'], 'webhook body fields');
  assert.equal(msg.fresh, true, 'the signed timestamp is the time of sending');
  assert.match(msg.contentType ?? '', /^application\/json/, 'webhook content type');
  assert.equal(msg.to, PHONE_E164, 'the number in E.164');
  assert.equal(msg.tenant, TENANT, 'the tenant slug');
  const m = MESSAGE_RE.exec(msg.message);
  assert.ok(m, `message text: ${JSON.stringify(msg.message)}`);
  assert.equal(msg.code, m[1]);
  return m[1];
}

// ---- harness ----------------------------------------------------------------

const WEBHOOK_SECRET = randomBytes(24).toString('base64url');
const webhook = createSmsWebhook(WEBHOOK_SECRET);
const h = createHarness({ tenant: TENANT, tenantName: TENANT_NAME, clientId: CLIENT_ID });

before(
  async () => {
    await webhook.start();
    h.extraEnv = {
      TESSERA_SMS__SENDER: 'webhook',
      TESSERA_SMS__WEBHOOK_URL: webhook.url,
      TESSERA_SMS__WEBHOOK_SECRET: WEBHOOK_SECRET,
    };
    await h.start((harness) => {
      harness.cli(['user', 'create', '--tenant', TENANT, '--email', EMAIL, '--password-stdin'], PASSWORD);
    });
  },
  { timeout: SETUP_TIMEOUT_MS },
);

after(
  async () => {
    try {
      await h.stop();
    } finally {
      await webhook.stop();
    }
  },
  { timeout: TEARDOWN_TIMEOUT_MS },
);

/** A full-page screenshot into test-results/, named after the page and the viewport. */
async function screenshot(page, name) {
  const { width, height } = page.viewportSize();
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= width, `the ${name} page scrolls sideways at ${width} px (${scrollWidth} px wide)`);
  const file = path.join(RESULTS_DIR, `sms-${name}-${width}x${height}.png`);
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

/** Opens the account page (signed in). */
async function openAccount(page) {
  const res = await page.goto(accountUrl(), { waitUntil: 'load' });
  assert.equal(res?.status(), 200, `account page status (at ${page.url()})`);
  assert.equal(new URL(page.url()).pathname, `/t/${TENANT}/account`, `not on the account page: ${page.url()}`);
  await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor({ state: 'visible' });
}

/** Account page → Sign out (→ a confirmation, if one is asked) → the signed-out page. */
async function signOut(page) {
  await openAccount(page);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  const signedOut = page.getByRole('heading', { name: 'Signed out' });
  const confirm = page.getByRole('heading', { name: 'Sign out?' });
  await signedOut.or(confirm).first().waitFor({ state: 'visible' });
  if (await confirm.isVisible()) {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await signedOut.waitFor({ state: 'visible' });
  }
  await page.getByText('You are signed out.').waitFor({ state: 'visible' });
  const cookies = await page.context().cookies(h.baseUrl);
  const session = cookies.find((c) => c.name === `tessera-session-${TENANT}`);
  assert.ok(!session || session.value === '', `the session cookie survived signing out: ${JSON.stringify(session)}`);
}

/** Clicks a control that submits or navigates, and returns the main-frame response. */
async function navigateBy(page, action) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().frame() === page.mainFrame()),
    action(),
  ]);
  await page.waitForLoadState('load');
  return response;
}

describe('two-factor authentication with text messages in Chromium', () => {
  const journey = { device: null, problems: [], enrolled: false };

  async function device() {
    if (!journey.device) {
      journey.device = await h.newPage(PHONE);
      journey.problems = journey.device.problems;
    }
    journey.problems.length = 0;
    h.rp.callbacks.length = 0;
    return journey.device;
  }

  after(async () => {
    await journey.device?.context.close().catch(() => {});
  });

  test('sign in, then switch on two-factor authentication with a Dutch mobile number', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { page, callbacks, problems } = await device();

    const req = h.authorizeRequest();
    await Promise.all([page.waitForURL(h.isCallback), submitPassword(page, req)]);
    assert.equal(callbacks.length, 1, `expected one callback, got ${JSON.stringify(callbacks)}`);
    h.callbackCode(page, req);

    await openAccount(page);
    await page.getByRole('link', { name: 'Switch on two-factor authentication' }).click();
    await page.getByRole('heading', { name: 'Choose how you verify that it is you' }).waitFor({ state: 'visible' });
    await page.getByRole('radio', { name: 'Text message (SMS)' }).check();
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: 'Set up text messages', level: 1 }).waitFor({ state: 'visible' });
    assert.equal(new URL(page.url()).pathname, `/t/${TENANT}/account/two-factor/sms`);
    const phoneField = page.getByLabel('Mobile phone number');
    assert.equal(await phoneField.getAttribute('type'), 'tel');
    assert.equal(await phoneField.getAttribute('autocomplete'), 'tel');
    await phoneField.fill(PHONE_INPUT);
    await screenshot(page, 'phone-number');

    assert.equal(webhook.messages.length, 0, 'a message before the number was entered');
    const sent = await navigateBy(page, () => page.getByRole('button', { name: 'Send code' }).click());
    assert.equal(sent.status(), 200, 'sending the enrolment code');
    await page.getByRole('heading', { name: 'Set up text messages', level: 1 }).waitFor({ state: 'visible' });
    await page.getByText(`Enter the 6-digit code we sent to ${PHONE_MASKED}.`).waitFor({ state: 'visible' });
    assert.ok(!(await page.content()).includes(PHONE_E164), 'the confirmation page shows the full number');

    const msg = await webhook.nextAfter(0);
    const code = checkMessage(msg);
    const codeField = page.getByLabel('Verification code');
    assert.equal(await codeField.getAttribute('autocomplete'), 'one-time-code');
    await screenshot(page, 'confirm-phone');
    await codeField.fill(code);
    await page.getByRole('button', { name: 'Confirm phone number' }).click();

    const list = page.getByRole('list', { name: 'Backup codes' });
    await list.waitFor({ state: 'visible' });
    const backupCodes = (await list.getByRole('listitem').allInnerTexts()).map((t) => t.trim());
    assert.equal(backupCodes.length, 10, `backup codes: ${JSON.stringify(backupCodes)}`);
    assert.equal(new Set(backupCodes).size, 10, 'backup codes are not all different');
    journey.enrolled = true;
    journey.enrolMessageAt = msg.at;

    await page.getByRole('link', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor({ state: 'visible' });
    assert.equal(new URL(page.url()).pathname, `/t/${TENANT}/account`);
    await page.getByRole('status').filter({ hasText: 'Two-factor authentication is now on.' }).waitFor({ state: 'visible' });
    await page
      .getByText(`Two-factor authentication is on. Method: Text message (SMS). Codes go to ${PHONE_MASKED}.`)
      .waitFor({ state: 'visible' });
    await page.getByRole('link', { name: 'Change phone number' }).waitFor({ state: 'visible' });
    assert.equal(webhook.messages.length, 1, 'more than one message for the enrolment');

    assert.deepEqual(webhook.problems, []);
    assert.deepEqual(problems, []);
  });

  test('sign out, sign in again with the texted code; no new code within a minute', { timeout: TEST_TIMEOUT_MS }, async (t) => {
    assert.ok(journey.enrolled, 'needs the enrolment of the previous test, which failed');
    const { page, callbacks, problems } = await device();

    await signOut(page);

    // Signing in right after the enrolment sends the first login code at once (the minute
    // between codes counts per purpose).
    const before = webhook.messages.length;
    const req = h.authorizeRequest();
    await submitPassword(page, req);
    await page.getByLabel('Verification code').waitFor({ state: 'visible' });
    assert.ok(page.url().startsWith(`${h.baseUrl}/t/${TENANT}/login/`), `second-factor page at ${page.url()}`);
    await page.getByRole('heading', { name: 'Two-factor authentication', level: 1 }).waitFor({ state: 'visible' });
    await page
      .getByText('We sent a text message with a 6-digit code to your phone number ending in 78.')
      .waitFor({ state: 'visible' });
    const resend = page.getByRole('link', { name: 'Did you not receive the verification code?' });
    await resend.waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Verify' }).waitFor({ state: 'visible' });
    assert.equal((await page.getByRole('alert').innerText()).trim(), '', 'an error on entering the step');
    assert.equal(callbacks.length, 0, 'reached the client without a second factor');

    const msg = await webhook.nextAfter(before);
    const code = checkMessage(msg);
    assert.notEqual(code, null);
    await screenshot(page, 'second-factor');

    // Asking for a new code at once: the link offers it, the button asks, and the answer is a
    // wait with the time left; nothing is sent and the code field is not marked wrong.
    await sleep(1_000);
    await navigateBy(page, () => resend.click());
    await page.getByRole('heading', { name: 'Send a new code?', level: 1 }).waitFor({ state: 'visible' });
    await navigateBy(page, () => page.getByRole('button', { name: 'Send a new code' }).click());
    await page.getByLabel('Verification code').waitFor({ state: 'visible' });
    const notice = page.getByRole('status').filter({ hasText: /You can ask for a new code in/ });
    await notice.waitFor({ state: 'visible' });
    const noticeText = (await notice.innerText()).trim();
    const m = /^You can ask for a new code in (\d+) seconds\.$/.exec(noticeText);
    assert.ok(m, `wait message: ${JSON.stringify(noticeText)}`);
    const seconds = Number(m[1]);
    assert.ok(seconds > 0 && seconds <= RESEND_SECONDS, `wait of ${seconds} seconds`);
    assert.ok(seconds >= RESEND_SECONDS - 30, `wait of ${seconds} seconds, but the code was sent moments ago`);
    assert.equal(await page.getByLabel('Verification code').getAttribute('aria-invalid'), null, 'no input error');
    await screenshot(page, 'resend-wait');
    await sleep(1_000);
    assert.equal(webhook.messages.length, before + 1, 'a message was sent despite the wait');

    // The code from the message still works.
    await page.getByLabel('Verification code').fill(code);
    await Promise.all([page.waitForURL(h.isCallback), page.getByRole('button', { name: 'Verify' }).click()]);
    assert.equal(callbacks.length, 1, `expected one callback, got ${JSON.stringify(callbacks)}`);
    const { claims } = await h.exchangeCode(h.callbackCode(page, req), req);
    assert.deepEqual(claims.amr, ['pwd', 'sms', 'mfa']);
    assert.equal(claims.acr, ACR_2FA);
    assert.equal(webhook.messages.length, before + 1, 'messages after the sign-in');

    assert.deepEqual(webhook.problems, []);
    assert.deepEqual(problems, []);
  });
});
