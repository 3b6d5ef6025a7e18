// Browser end-to-end test of "Forgot your password?": the link arrives by
// email over a real SMTP server (nodemailer's smtp-server, started here on a
// free loopback port), the new password is set in Chromium, and the sign-in
// that asked for it continues to the relying party.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SMTPServer } from 'smtp-server';
import { SETUP_TIMEOUT_MS, TEARDOWN_TIMEOUT_MS, createHarness, freePort, sleep } from './support.mjs';

const TENANT = 'acme';
const CLIENT_ID = 'browser-e2e-spa';
const EMAIL = 'bob@example.com';
const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a new and longer passphrase';
const TEST_TIMEOUT_MS = 90_000;

const ctx = createHarness({ tenant: TENANT, tenantName: 'Acme Corp', clientId: CLIENT_ID });
const inbox = [];
let smtp = null;

/** The body of a raw message, quoted-printable undone. */
function bodyOf(raw) {
  const [headers, ...rest] = raw.split(/\r?\n\r?\n/);
  let body = rest.join('\n\n');
  if (/content-transfer-encoding:\s*quoted-printable/i.test(headers)) {
    body = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  } else if (/content-transfer-encoding:\s*base64/i.test(headers)) {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return { headers, body };
}

async function waitForMail(count) {
  for (let i = 0; i < 300 && inbox.length < count; i++) await sleep(100);
  assert.ok(inbox.length >= count, `expected ${count} emails, got ${inbox.length}`);
  return inbox[count - 1];
}

before(async () => {
  const port = await freePort();
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), ...bodyOf(raw) });
        callback();
      });
    },
  });
  await new Promise((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(port, '127.0.0.1', resolve);
  });
  ctx.extraEnv = {
    TESSERA_EMAIL__SENDER: 'smtp',
    TESSERA_EMAIL__SMTP_URL: `smtp://127.0.0.1:${port}`,
    TESSERA_EMAIL__FROM: 'Acme Corp <no-reply@acme.example>',
  };
  await ctx.start((h) => {
    h.cli(['user', 'create', '--tenant', TENANT, '--email', EMAIL, '--password-stdin'], PASSWORD);
  });
}, { timeout: SETUP_TIMEOUT_MS });

after(async () => {
  await ctx.stop();
  if (smtp) await new Promise((resolve) => smtp.close(resolve));
}, { timeout: TEARDOWN_TIMEOUT_MS });

describe('forgotten password in Chromium', () => {
  test('reset by an emailed link, then the sign-in continues to the app', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page, callbacks } = await ctx.newPage();
    try {
      const req = ctx.authorizeRequest();
      await ctx.openLoginPage(page, req.url);
      await page.getByRole('link', { name: 'Forgot your password?' }).click();
      await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
      await page.getByLabel('Email address').fill(EMAIL);
      await page.getByRole('button', { name: 'Send reset link' }).click();
      await page.getByText('If an account exists for this address, we sent you an email with a link.').waitFor();

      const mail = await waitForMail(1);
      assert.deepEqual(mail.to, [EMAIL]);
      const link = mail.body.split(/\s+/).find((w) => w.includes('/password/reset/'));
      assert.ok(link && link.startsWith(`${ctx.baseUrl}/t/${TENANT}/password/reset/`), mail.body);

      await page.goto(link);
      await page.getByLabel('New password').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Set new password' }).click();
      // Back at the sign-in that asked: the old password no longer works, the new one does.
      await page.getByLabel('Password', { exact: true }).waitFor();
      await page.getByLabel('Email address').fill(EMAIL);
      await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
      await Promise.all([
        page.waitForURL((u) => u.toString().startsWith(ctx.redirectUri)),
        page.getByRole('button', { name: 'Sign in', exact: true }).click(),
      ]);
      assert.equal(callbacks.length, 1);
      const landed = new URL(page.url());
      assert.ok(landed.searchParams.get('code'), `no code in ${landed}`);
      assert.equal(landed.searchParams.get('state'), req.state);

      // The person is told that the password was reset.
      const notice = await waitForMail(2);
      assert.match(notice.body, /Your password was reset/);

      // The link worked once.
      await page.goto(link);
      await page.getByRole('heading', { name: 'This link no longer works' }).waitFor();
    } finally {
      await context.close();
    }
  });
});
