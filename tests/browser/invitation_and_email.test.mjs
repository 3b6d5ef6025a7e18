// Browser end-to-end tests of the emailed links of a person's lifecycle, with the mail received by
// a real SMTP server (nodemailer's smtp-server on a free loopback port): accepting an invitation
// (set the password, sign in, set up the second factor the tenant requires), verifying the email
// address from the account page, and changing it ("Change email address").

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';
import {
  SETUP_TIMEOUT_MS,
  TEARDOWN_TIMEOUT_MS,
  TESSERA_TEST_BIN,
  createHarness,
  freePort,
  sleep,
} from './support.mjs';

const TENANT = 'acme'; // requires two-factor authentication
const OPEN_TENANT = 'beta'; // does not
const CLIENT_ID = 'browser-e2e-spa';
const INVITED = 'carol@example.com';
const PERSON = 'dave@example.com';
const NEW_ADDRESS = 'dave.new@example.com';
const PASSWORD = 'correct horse battery staple';
const TEST_TIMEOUT_MS = 120_000;

const ctx = createHarness({ tenant: TENANT, tenantName: 'Acme Corp', clientId: CLIENT_ID });
const inbox = [];
let smtp = null;

/** The body of a raw message, quoted-printable or base64 undone. */
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

/** The first email to `to` that `match` accepts, waiting for it to arrive. */
async function mailTo(to, match = () => true) {
  for (let i = 0; i < 300; i++) {
    const found = inbox.find((m) => m.to.includes(to) && match(m));
    if (found) return found;
    await sleep(100);
  }
  assert.fail(`no email to ${to}; inbox: ${JSON.stringify(inbox.map((m) => m.to))}`);
}

const linkWith = (mail, part) => {
  const link = mail.body.split(/\s+/).find((w) => w.startsWith('http') && w.includes(part));
  assert.ok(link, `no link with ${part} in ${mail.body}`);
  return link;
};

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function base32Decode(text) {
  const bytes = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) {
    buffer = ((buffer << 5) | BASE32.indexOf(ch)) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}
function totpNow(key) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function signIn(page, email) {
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
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
    h.cli(['tenant', 'update', TENANT, '--require-2fa', 'true']);
    h.cli(['tenant', 'create', OPEN_TENANT, '--name', 'Beta Care']);
    h.cli(['user', 'create', '--tenant', OPEN_TENANT, '--email', PERSON, '--password-stdin'], PASSWORD);
  });
}, { timeout: SETUP_TIMEOUT_MS });

after(async () => {
  await ctx.stop();
  if (smtp) await new Promise((resolve) => smtp.close(resolve));
}, { timeout: TEARDOWN_TIMEOUT_MS });

describe('emailed links in Chromium', () => {
  test('an invitation: set the password, sign in, set up the required second factor', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page, problems } = await ctx.newPage();
    try {
      // Run without blocking this process: the SMTP server answering the command lives here.
      const { stdout } = await promisify(execFile)(
        TESSERA_TEST_BIN,
        ['user', 'invite', '--tenant', TENANT, '--email', INVITED, '--name', 'Carol'],
        { env: ctx.env(), timeout: 60_000 },
      );
      assert.match(stdout, new RegExp(`invited ${INVITED} to tenant ${TENANT}`));
      const invitation = await mailTo(INVITED);
      const link = linkWith(invitation, '/invitation/');
      assert.ok(link.startsWith(`${ctx.baseUrl}/t/${TENANT}/invitation/`), link);

      await page.goto(link);
      await page.getByRole('heading', { name: 'Set your password' }).waitFor();
      await page.getByLabel('New password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Set password' }).click();

      // On to sign in, then the second factor the tenant requires.
      await page.getByLabel('Password', { exact: true }).waitFor();
      await signIn(page, INVITED);
      // The sign-in goes on to setting up the app (text messages are offered instead).
      await page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor();
      await page.getByText('Your organisation requires two-factor authentication.', { exact: false }).waitFor();
      const key = base32Decode((await page.getByRole('textbox', { name: 'Setup key' }).innerText()).trim());
      await page.getByLabel('Verification code').fill(totpNow(key));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('list', { name: 'Backup codes' }).waitFor();
      await page.getByRole('button', { name: 'Continue' }).or(page.getByRole('link', { name: 'Continue' })).click();

      // Signed in on the account page, which the invitation sent them to: verified, 2FA on.
      await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
      assert.equal(new URL(page.url()).pathname, `/t/${TENANT}/account`);
      await page.getByText('Your email address is verified.').waitFor();
      await page.getByText('Two-factor authentication is on. Method: Authenticator app.').waitFor();

      // The link worked once.
      await page.goto(link);
      await page.getByRole('heading', { name: 'This link no longer works' }).waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('verify the email address, then change it, from the account page', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page } = await ctx.newPage();
    try {
      await page.goto(`${ctx.baseUrl}/t/${OPEN_TENANT}/account`);
      await signIn(page, PERSON);
      await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
      await page.getByText('Your email address is not verified yet.').waitFor();

      await page.getByRole('button', { name: 'Send verification email' }).click();
      await page.getByRole('status').filter({ hasText: 'We sent a link to your email address.' }).waitFor();
      const verify = linkWith(await mailTo(PERSON, (m) => m.body.includes('/email/verify/')), '/email/verify/');
      await page.goto(verify);
      await page.getByRole('button', { name: 'Verify email address' }).click();
      await page.getByRole('heading', { name: 'Your email address is verified' }).waitFor();
      await page.getByRole('link', { name: 'Go to your account' }).click();
      await page.getByText('Your email address is verified.').waitFor();
      assert.equal(await page.getByRole('button', { name: 'Send verification email' }).count(), 0);

      // "Change email address": nothing changes until the link sent to the new address is followed.
      await page.getByRole('button', { name: 'Change email address' }).click();
      await page.getByRole('heading', { name: 'Change email address' }).waitFor();
      await page.getByLabel('New email address').fill(NEW_ADDRESS);
      await page.getByRole('button', { name: 'Send link to new address' }).click();
      await page.getByRole('status').filter({ hasText: 'We sent a link to the new address.' }).waitFor();
      await page.getByText(PERSON, { exact: true }).waitFor();
      const change = linkWith(await mailTo(NEW_ADDRESS), '/email/change/');

      // Followed in another browser (a mail app): it asks first, then changes the address.
      const reader = await ctx.newPage();
      try {
        await reader.page.goto(change);
        await reader.page.getByText(`Change the email address of your account to ${NEW_ADDRESS}?`).waitFor();
        await reader.page.getByRole('button', { name: 'Change email address' }).click();
        await reader.page.getByRole('heading', { name: 'Your email address was changed' }).waitFor();
      } finally {
        await reader.context.close();
      }
      const notice = await mailTo(PERSON, (m) => m.body.includes('The email address of your account was changed.'));
      assert.match(notice.body, /If this was not you/);

      await page.reload();
      await page.getByText(NEW_ADDRESS, { exact: true }).waitFor();
      await page.getByText('Your email address is verified.').waitFor();
    } finally {
      await context.close();
    }
  });
});
