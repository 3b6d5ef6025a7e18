// Accessibility, language and branding of tessera's pages in Chromium.
//
// 1. axe-core (rule sets wcag2a, wcag2aa, wcag21a, wcag21aa) finds no violations
//    on each page of the login journey in the default theme, and on the
//    password, second-factor and account pages in the kliniek-west theme.
// 2. A sign-in by keyboard alone, from the password page to the redirect URI,
//    with a visible focus indicator.
// 3. Dutch pages for a browser that prefers Dutch, and for `ui_locales=nl`.
// 4. Two tenants on one server, each with its own branding; screenshots.
// 5. No horizontal scrolling on the password page at 320 CSS pixels.
//
// One server holds two tenants: `acme` (no theme, so the default one) and
// `kliniek` (theme kliniek-west from the repository's themes/ folder). Run with
// `npm run test:browser` (see support.mjs for the settings).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import {
  RESULTS_DIR,
  SETUP_TIMEOUT_MS,
  TEARDOWN_TIMEOUT_MS,
  THEMES_DIR,
  createHarness,
} from './support.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const TEST_TIMEOUT_MS = 120_000;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

const PASSWORD = 'a long and accessible passphrase';
/** Switches on two-factor authentication during the axe journey of its tenant. */
const AXE_EMAIL = 'axe@example.com';
/** Signs in with the keyboard and in Dutch: password only, never enrolled. */
const PLAIN_EMAIL = 'keys@example.com';

/** The two tenants: the harness's own (default theme) and a themed one. */
const DEFAULT_TENANT = { slug: 'acme', name: 'Acme Corp', clientId: 'browser-e2e-a11y', theme: 'default' };
const THEMED_TENANT = { slug: 'kliniek', name: 'Kliniek West', clientId: 'browser-e2e-a11y-kliniek', theme: 'kliniek-west' };
// The theme's own wording, in the page's language (English pages here unless said otherwise).
const KLINIEK_WELCOME = 'Welcome to the patient portal of Kliniek West';
const KLINIEK_WELCOME_NL = 'Welkom bij het patiëntenportaal van Kliniek West';

const h = createHarness({
  tenant: DEFAULT_TENANT.slug,
  tenantName: DEFAULT_TENANT.name,
  clientId: DEFAULT_TENANT.clientId,
  env: { TESSERA_THEMES_DIR: THEMES_DIR },
});

before(
  () =>
    h.start((harness) => {
      harness.cli(['tenant', 'create', THEMED_TENANT.slug, '--name', THEMED_TENANT.name]);
      harness.cli(['tenant', 'update', THEMED_TENANT.slug, '--theme', THEMED_TENANT.theme]);
      harness.cli([
        'client', 'create',
        '--tenant', THEMED_TENANT.slug,
        '--client-id', THEMED_TENANT.clientId,
        '--redirect-uri', harness.redirectUri,
        '--public',
        '--first-party',
      ]);
      for (const tenant of [DEFAULT_TENANT, THEMED_TENANT]) {
        for (const email of [AXE_EMAIL, PLAIN_EMAIL]) {
          harness.cli(['user', 'create', '--tenant', tenant.slug, '--email', email, '--password-stdin'], PASSWORD);
        }
      }
    }),
  { timeout: SETUP_TIMEOUT_MS },
);

after(() => h.stop(), { timeout: TEARDOWN_TIMEOUT_MS });

// ---- RFC 6238 TOTP (as in two_factor.test.mjs, whose test checks it against the RFC vectors) ----

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

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

function totpNow(key) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

// ---- axe-core -------------------------------------------------------------------

/**
 * Runs axe-core in the page and returns its violations and incomplete results.
 *
 * tessera's CSP (`default-src 'none'; style-src 'self'; ...`) allows no script,
 * so page.addScriptTag (an inline <script>) would be blocked and show up as a
 * console error. page.evaluate goes through the DevTools protocol, which the
 * page's CSP does not govern, so axe runs without `bypassCSP` and the page is
 * checked exactly as it is served, CSP and all.
 */
async function runAxe(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations', 'incomplete'],
    });
    const brief = (r) => ({
      id: r.id,
      impact: r.impact,
      help: r.help,
      helpUrl: r.helpUrl,
      nodes: r.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
    });
    return {
      violations: result.violations.map(brief),
      incomplete: result.incomplete.map(brief),
      passed: result.passes.length,
    };
  }, AXE_TAGS);
}

/** One line per element: rule id, impact, target, help (and axe's summary of the failure). */
function formatResults(results) {
  return results
    .flatMap((r) =>
      r.nodes.map(
        (n) =>
          `  - ${r.id} [${r.impact}] ${n.target}: ${r.help} (${r.helpUrl})\n      ${n.html}` +
          (n.summary ? `\n      ${n.summary.replace(/\n/g, '\n      ')}` : ''),
      ),
    )
    .join('\n');
}

/**
 * Fails with a readable list unless axe finds no violations on the page. Results
 * axe could not decide (e.g. contrast over an image) are printed as diagnostics.
 */
async function expectNoAxeViolations(t, page, what) {
  const { violations, incomplete, passed } = await runAxe(page);
  t.diagnostic(`axe on ${what}: ${passed} rules passed, ${violations.length} violated, ${incomplete.length} to review`);
  if (incomplete.length > 0) {
    t.diagnostic(`axe needs review on ${what}:`);
    for (const line of formatResults(incomplete).split('\n')) t.diagnostic(line);
  }
  assert.equal(
    violations.length,
    0,
    `axe found ${violations.length} violated rule(s) on ${what} (${page.url()}):\n${formatResults(violations)}`,
  );
}

// ---- pages ------------------------------------------------------------------------

/** Opens the authorize URL and waits for the (English) password page. */
async function openPasswordPage(page, req) {
  const res = await page.goto(req.url, { waitUntil: 'load' });
  assert.equal(res?.status(), 200, `password page status (at ${page.url()})`);
  assert.ok(page.url().startsWith(`${h.baseUrl}/`), `left tessera for the password page: ${page.url()}`);
  await page.getByLabel('Email address').waitFor({ state: 'visible' });
}

async function signInWithPassword(page, tenant, email) {
  const req = h.authorizeRequest({}, { tenant: tenant.slug, clientId: tenant.clientId });
  await openPasswordPage(page, req);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  return req;
}

async function openAccount(page, tenant) {
  const res = await page.goto(`${h.baseUrl}/t/${tenant.slug}/account`, { waitUntil: 'load' });
  assert.equal(res?.status(), 200, `account page status (at ${page.url()})`);
  await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor({ state: 'visible' });
}

async function expectSecondFactorPage(page) {
  await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor({ state: 'visible' });
  await page.getByLabel('Verification code').waitFor({ state: 'visible' });
}

/** The header of the page: the tenant's name as text, or its logo. */
async function branding(page) {
  return page.evaluate(() => {
    const header = document.querySelector('header.brand');
    const name = header?.querySelector('.brand-name');
    const logo = header?.querySelector('img.brand-logo');
    return {
      name: name ? name.textContent.trim() : null,
      logo: logo ? { alt: logo.getAttribute('alt'), src: logo.getAttribute('src') } : null,
      background: header ? getComputedStyle(header).backgroundColor : null,
    };
  });
}

async function screenshot(page, name) {
  const { width, height } = page.viewportSize();
  const file = path.join(RESULTS_DIR, `${name}-${width}x${height}.png`);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(existsSync(file), `screenshot ${file} not written`);
}

// ---- 1. axe-core on the login journey ---------------------------------------------

/**
 * The login journey of one tenant, in order, on one "device" (then a second one
 * for the second factor). `pages` names the pages axe checks; the others are
 * still walked through, as the journey needs them.
 */
function axeJourney(tenant, pages) {
  describe(`axe-core finds no WCAG 2.1 A/AA violations: ${tenant.theme} theme (tenant ${tenant.slug})`, () => {
    const journey = { device: null, enrolled: false };

    async function device() {
      if (!journey.device) journey.device = await h.newPage(PHONE);
      journey.device.problems.length = 0;
      h.rp.callbacks.length = 0;
      return journey.device;
    }

    const check = (name) => pages.includes(name);
    const label = (name) => `the ${name} page (${tenant.theme} theme)`;

    after(async () => {
      await journey.device?.context.close().catch(() => {});
    });

    test('password page', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { page, problems } = await device();
      await openPasswordPage(page, h.authorizeRequest({}, { tenant: tenant.slug, clientId: tenant.clientId }));
      await expectNoAxeViolations(t, page, label('password'));
      assert.deepEqual(problems, []);
    });

    if (check('password with an error')) {
      test('password page showing an error', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const { page, problems } = await device();
        await openPasswordPage(page, h.authorizeRequest({}, { tenant: tenant.slug, clientId: tenant.clientId }));
        await page.getByLabel('Email address').fill(AXE_EMAIL);
        await page.getByLabel('Password').fill('not the password');
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await page.getByRole('alert').filter({ hasText: 'Incorrect email address or password.' }).waitFor();
        await expectNoAxeViolations(t, page, label('password (with an error)'));
        assert.deepEqual(problems, []);
      });
    }

    test('account page, then switching on an authenticator app', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      const { page, problems } = await device();
      await Promise.all([page.waitForURL(h.isCallback), signInWithPassword(page, tenant, AXE_EMAIL)]);

      await openAccount(page, tenant);
      await page.getByText('Two-factor authentication is off.').waitFor({ state: 'visible' });
      await expectNoAxeViolations(t, page, label('account'));

      await page.getByRole('link', { name: 'Switch on two-factor authentication' }).click();
      await page.getByRole('heading', { name: 'Choose how you verify that it is you' }).waitFor({ state: 'visible' });
      if (check('method choice')) await expectNoAxeViolations(t, page, label('method choice'));
      await page.getByRole('radio', { name: 'Authenticator app' }).check();
      await page.getByRole('button', { name: 'Continue' }).click();

      await page.getByRole('heading', { name: 'Set up your authenticator app' }).waitFor({ state: 'visible' });
      await page.getByRole('img', { name: 'QR code' }).waitFor({ state: 'visible' });
      const setupKey = (await page.getByRole('textbox', { name: 'Setup key' }).innerText()).trim();
      if (check('app setup')) await expectNoAxeViolations(t, page, label('app setup'));
      await page.getByLabel('Verification code').fill(totpNow(base32Decode(setupKey)));
      await page.getByRole('button', { name: 'Verify' }).click();

      await page.getByRole('list', { name: 'Backup codes' }).waitFor({ state: 'visible' });
      if (check('backup codes')) await expectNoAxeViolations(t, page, label('backup codes'));
      await page.getByRole('link', { name: 'Continue' }).click();

      await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor({ state: 'visible' });
      await page.getByText('Two-factor authentication is on. Method: Authenticator app.').waitFor({ state: 'visible' });
      journey.enrolled = true;
      await expectNoAxeViolations(t, page, label('account (two-factor authentication on)'));
      assert.deepEqual(problems, []);
    });

    test('second-factor page and backup-code page', { timeout: TEST_TIMEOUT_MS }, async (t) => {
      assert.ok(journey.enrolled, 'needs the authenticator app switched on by the previous test, which failed');
      // Another device: no session, no trusted-device cookie, so the second step is asked.
      const { context, page, callbacks, problems } = await h.newPage(PHONE);
      try {
        await signInWithPassword(page, tenant, AXE_EMAIL);
        await expectSecondFactorPage(page);
        assert.equal(callbacks.length, 0, 'reached the client without a second factor');
        await expectNoAxeViolations(t, page, label('second-factor'));

        if (check('backup code')) {
          await page.getByRole('link', { name: 'No access to trusted devices?' }).click();
          await page.getByRole('heading', { name: 'Use a backup code' }).waitFor({ state: 'visible' });
          await page.getByLabel('Backup code').waitFor({ state: 'visible' });
          await expectNoAxeViolations(t, page, label('backup-code'));
        }
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });

    if (check('error')) {
      test('error page (authorization request from an unknown client)', { timeout: TEST_TIMEOUT_MS }, async (t) => {
        const { page } = await device();
        const req = h.authorizeRequest({ client_id: 'no-such-client' }, { tenant: tenant.slug });
        const res = await page.goto(req.url, { waitUntil: 'load' });
        assert.equal(res?.status(), 400, 'unknown client');
        assert.ok(page.url().startsWith(`${h.baseUrl}/`), `an unknown client must not be redirected to: ${page.url()}`);
        await page.getByRole('heading', { level: 1 }).waitFor({ state: 'visible' });
        await page.getByRole('alert').waitFor({ state: 'visible' });
        await expectNoAxeViolations(t, page, label('error'));
        // The navigation itself answered 400 on purpose; watchPage judges sub-resources only.
        assert.deepEqual(journey.device.problems, []);
      });
    }
  });
}

test('axe-core runs under the pages\' CSP and does report a violation', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  // Guards the checks above against passing because axe did not run: an input
  // without a label, added to a real password page, must be reported.
  const { context, page, problems } = await h.newPage(PHONE);
  try {
    await openPasswordPage(page, h.authorizeRequest());
    await page.evaluate(() => {
      const input = document.createElement('input');
      input.type = 'text';
      input.id = 'unlabelled-probe';
      document.querySelector('form').append(input);
    });
    const { violations } = await runAxe(page);
    const label = violations.find((v) => v.id === 'label');
    assert.ok(label, `axe missed an unlabelled input; it reported:\n${formatResults(violations)}`);
    assert.deepEqual(label.nodes.map((n) => n.target), ['#unlabelled-probe']);
    t.diagnostic('a failing check lists each element like this:');
    for (const line of formatResults([label]).split('\n')) t.diagnostic(line);
    t.diagnostic(`axe-core ${await page.evaluate(() => window.axe.version)}, tags ${AXE_TAGS.join(', ')}`);
    assert.deepEqual(problems, [], 'injecting axe must not trip the CSP');
  } finally {
    await context.close();
  }
});

axeJourney(DEFAULT_TENANT, ['password with an error', 'method choice', 'app setup', 'backup codes', 'backup code', 'error']);
axeJourney(THEMED_TENANT, []);

// ---- 2. keyboard only ---------------------------------------------------------------

/** Describes the focused element for messages: role-ish tag, name, id. */
const describeFocus = (page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'nothing (body)';
    const labels = el.labels ? [...el.labels].map((l) => l.textContent.trim()).join(' ') : '';
    return `<${el.tagName.toLowerCase()} id="${el.id}" type="${el.type ?? ''}"> "${labels || el.textContent.trim()}"`;
  });

/** Asserts the element with this role and accessible name has the focus, with a visible outline. */
async function expectFocus(page, role, name) {
  const target = page.getByRole(role, { name, exact: true });
  assert.equal(await target.count(), 1, `one ${role} named ${JSON.stringify(name)}`);
  const focused = await target.evaluate((el) => el === document.activeElement);
  assert.ok(focused, `expected the focus on ${role} ${JSON.stringify(name)}, it is on ${await describeFocus(page)}`);
  const outline = await target.evaluate((el) => {
    const style = getComputedStyle(el);
    return { style: style.outlineStyle, width: style.outlineWidth, color: style.outlineColor };
  });
  assert.notEqual(outline.style, 'none', `no focus outline on ${role} ${JSON.stringify(name)}: ${JSON.stringify(outline)}`);
  assert.notEqual(outline.width, '0px', `zero-width focus outline on ${role} ${JSON.stringify(name)}`);
}

describe('keyboard only', () => {
  test('sign in with Tab, typing and Enter alone, and land on the redirect URI', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page, callbacks, problems } = await h.newPage(DESKTOP);
    try {
      const req = h.authorizeRequest();
      await openPasswordPage(page, req);

      // The email field has `autofocus`; from there on only the keyboard moves the focus.
      await expectFocus(page, 'textbox', 'Email address');
      await page.keyboard.type(PLAIN_EMAIL);
      await page.keyboard.press('Tab');
      await expectFocus(page, 'textbox', 'Password');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Tab');
      await expectFocus(page, 'button', 'Sign in');
      await Promise.all([page.waitForURL(h.isCallback), page.keyboard.press('Enter')]);

      assert.equal(callbacks.length, 1, `expected one callback, got ${JSON.stringify(callbacks)}`);
      const { claims } = await h.exchangeCode(h.callbackCode(page, req), req);
      assert.equal(claims.email, PLAIN_EMAIL);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('the tab order of the password page: email, password, Sign in, and nothing before', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page, problems } = await h.newPage(DESKTOP);
    try {
      await openPasswordPage(page, h.authorizeRequest());
      await expectFocus(page, 'textbox', 'Email address');
      // Nothing focusable precedes the email field: Shift+Tab leaves the document...
      await page.keyboard.press('Shift+Tab');
      assert.equal(await describeFocus(page), 'nothing (body)', 'something focusable comes before the email field');
      // ...and Tab from outside enters it at the email field, as for a user arriving without autofocus.
      await page.keyboard.press('Tab');
      await expectFocus(page, 'textbox', 'Email address');
      await page.keyboard.press('Tab');
      await expectFocus(page, 'textbox', 'Password');
      await page.keyboard.press('Tab');
      await expectFocus(page, 'button', 'Sign in');
      await page.keyboard.press('Shift+Tab');
      await expectFocus(page, 'textbox', 'Password');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  // WCAG 2.1 SC 1.4.11 (Non-text Contrast, AA): the focus indicator is visual
  // information needed to see a component's state, so it needs 3:1 against the
  // colours next to it. The outline (outline-offset 2px) sits on the card, so
  // its neighbour is the card's background on both sides.
  for (const tenant of [DEFAULT_TENANT, THEMED_TENANT]) {
    test(
      `the focus outline contrasts at least 3:1 with the card around it (${tenant.theme} theme)`,
      {
        timeout: TEST_TIMEOUT_MS,
      },
      async () => {
        const { context, page, problems } = await h.newPage(DESKTOP);
        try {
          await openPasswordPage(page, h.authorizeRequest({}, { tenant: tenant.slug, clientId: tenant.clientId }));
          for (const [role, name] of [['textbox', 'Email address'], ['textbox', 'Password'], ['button', 'Sign in']]) {
            if (role === 'textbox' && name === 'Email address') await expectFocus(page, role, name);
            else {
              await page.keyboard.press('Tab');
              await expectFocus(page, role, name);
            }
            const colours = await page.getByRole(role, { name, exact: true }).evaluate((el) => {
              let behind = el.parentElement;
              while (behind && ['transparent', 'rgba(0, 0, 0, 0)'].includes(getComputedStyle(behind).backgroundColor)) {
                behind = behind.parentElement;
              }
              return {
                outline: getComputedStyle(el).outlineColor,
                behind: behind ? getComputedStyle(behind).backgroundColor : 'rgb(255, 255, 255)',
              };
            });
            const ratio = contrastRatio(colours.outline, colours.behind);
            assert.ok(
              ratio >= 3,
              `focus outline ${colours.outline} on ${colours.behind} around ${role} "${name}": ${ratio.toFixed(2)}:1 < 3:1`,
            );
          }
          assert.deepEqual(problems, []);
        } finally {
          await context.close();
        }
      },
    );
  }
});

/** WCAG 2 contrast ratio of two `rgb(r, g, b)` colours. */
function contrastRatio(a, b) {
  const luminance = (css) => {
    const [r, g, bl] = css.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// ---- 3. Dutch -----------------------------------------------------------------------

async function expectDutchPasswordPage(page) {
  assert.equal(await page.locator('html').getAttribute('lang'), 'nl');
  await page.getByRole('heading', { name: 'Inloggen', level: 1 }).waitFor({ state: 'visible' });
  await page.getByRole('textbox', { name: 'E-mailadres', exact: true }).waitFor({ state: 'visible' });
  // A password field has no ARIA role; its label is what a screen reader announces.
  await page.getByLabel('Wachtwoord', { exact: true }).waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Inloggen', exact: true }).waitFor({ state: 'visible' });
  assert.equal(await page.getByText('Email address', { exact: true }).count(), 0, 'English label on a Dutch page');
}

describe('Dutch', () => {
  test('a browser that prefers Dutch gets the password page in Dutch, and can sign in', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page, callbacks, problems } = await h.newPage(PHONE, { locale: 'nl-NL' });
    try {
      const req = h.authorizeRequest();
      const res = await page.goto(req.url, { waitUntil: 'load' });
      assert.equal(res?.status(), 200);
      assert.match((await res.request().allHeaders())['accept-language'] ?? '', /^nl/, 'the browser asked for Dutch');
      await expectDutchPasswordPage(page);
      await screenshot(page, 'a11y-password-nl');

      await page.getByLabel('E-mailadres').fill(PLAIN_EMAIL);
      await page.getByLabel('Wachtwoord').fill(PASSWORD);
      await Promise.all([page.waitForURL(h.isCallback), page.getByRole('button', { name: 'Inloggen', exact: true }).click()]);
      assert.equal(callbacks.length, 1);
      h.callbackCode(page, req);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('ui_locales=nl gives Dutch in an English browser', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page, problems } = await h.newPage(PHONE, { locale: 'en-US' });
    try {
      const english = await page.goto(h.authorizeRequest().url, { waitUntil: 'load' });
      assert.match((await english.request().allHeaders())['accept-language'] ?? '', /^en/);
      assert.equal(await page.locator('html').getAttribute('lang'), 'en', 'without ui_locales the browser language wins');

      const res = await page.goto(h.authorizeRequest({ ui_locales: 'nl' }).url, { waitUntil: 'load' });
      assert.equal(res?.status(), 200);
      await expectDutchPasswordPage(page);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});

// ---- 4. branding -------------------------------------------------------------------

describe('two tenants, each with its own branding', () => {
  test('default theme: the tenant name as text; screenshots', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page, problems } = await h.newPage(PHONE);
    try {
      await openPasswordPage(page, h.authorizeRequest());
      const brand = await branding(page);
      assert.equal(brand.name, DEFAULT_TENANT.name, `header: ${JSON.stringify(brand)}`);
      assert.equal(brand.logo, null, 'the default theme has no logo');
      assert.equal(await page.getByText(KLINIEK_WELCOME).count(), 0, "another tenant's wording");
      assert.match(await page.title(), new RegExp(`${DEFAULT_TENANT.name}$`));
      for (const viewport of [PHONE, DESKTOP]) {
        await page.setViewportSize(viewport);
        await screenshot(page, `theme-${DEFAULT_TENANT.theme}-password`);
      }
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('kliniek-west theme: logo, wording and colours; screenshots', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { context, page, problems } = await h.newPage(PHONE);
    try {
      await openPasswordPage(page, h.authorizeRequest({}, { tenant: THEMED_TENANT.slug, clientId: THEMED_TENANT.clientId }));
      const brand = await branding(page);
      assert.equal(brand.name, null, `the tenant name is shown as text next to the logo: ${JSON.stringify(brand)}`);
      assert.ok(brand.logo, `no logo: ${JSON.stringify(brand)}`);
      assert.equal(brand.logo.alt, THEMED_TENANT.name, 'the logo is named after the tenant');
      assert.match(brand.logo.src, /^\/static\/kliniek-west\//, `logo URL ${brand.logo.src}`);
      const logo = page.getByRole('img', { name: THEMED_TENANT.name });
      await logo.waitFor({ state: 'visible' });
      const decoded = await logo.evaluate(async (img) => {
        await img.decode();
        return img.naturalWidth;
      });
      assert.ok(decoded > 0, 'the logo does not decode');
      await page.getByText(KLINIEK_WELCOME).waitFor({ state: 'visible' });
      assert.equal(brand.background, 'rgb(122, 31, 92)', 'header in the theme colour #7a1f5c');
      for (const viewport of [PHONE, DESKTOP]) {
        await page.setViewportSize(viewport);
        await screenshot(page, `theme-${THEMED_TENANT.theme}-password`);
      }
      assert.deepEqual(problems, []);

      // The other tenant on the same server keeps its own look.
      await openPasswordPage(page, h.authorizeRequest());
      assert.equal((await branding(page)).name, DEFAULT_TENANT.name);
      assert.equal(await page.getByText(KLINIEK_WELCOME).count(), 0);
    } finally {
      await context.close();
    }
  });

  // WCAG 2.1 SC 3.1.2 (Language of Parts, AA): text in another language than
  // the page's must carry its own lang, or screen readers read Dutch with
  // English pronunciation (and the other way round). axe cannot see this.
  test(
    'kliniek-west wording in the other language than the page is marked with its lang',
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      const { context, page, problems } = await h.newPage(PHONE);
      try {
        const sentences = { en: KLINIEK_WELCOME, nl: KLINIEK_WELCOME_NL };
        for (const pageLang of ['en', 'nl']) {
          const req = h.authorizeRequest({ ui_locales: pageLang }, { tenant: THEMED_TENANT.slug, clientId: THEMED_TENANT.clientId });
          await page.goto(req.url, { waitUntil: 'load' });
          assert.equal(await page.locator('html').getAttribute('lang'), pageLang);
          const shown = await page.evaluate((wanted) => {
            const found = {};
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
              for (const [lang, text] of Object.entries(wanted)) {
                if (node.data.includes(text)) found[lang] = node.parentElement.closest('[lang]')?.getAttribute('lang');
              }
            }
            return found;
          }, sentences);
          assert.ok(Object.keys(shown).length > 0, `no welcome wording on the ${pageLang} page`);
          for (const [lang, markedAs] of Object.entries(shown)) {
            assert.equal(markedAs, lang, `the ${lang} sentence on the ${pageLang} page is marked as lang=${markedAs}`);
          }
        }
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    },
  );
});

// ---- 5. narrow screens --------------------------------------------------------------

describe('320 CSS pixels wide', () => {
  for (const tenant of [DEFAULT_TENANT, THEMED_TENANT]) {
    test(`the password page does not scroll sideways (${tenant.theme} theme)`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const { context, page, problems } = await h.newPage({ width: 320, height: 640 });
      try {
        await openPasswordPage(page, h.authorizeRequest({}, { tenant: tenant.slug, clientId: tenant.clientId }));
        const widths = await page.evaluate(() => ({
          document: document.documentElement.scrollWidth,
          body: document.body.scrollWidth,
          viewport: window.innerWidth,
        }));
        assert.equal(widths.viewport, 320);
        assert.ok(widths.document <= 320, `the page is ${widths.document} px wide at 320 px: ${JSON.stringify(widths)}`);
        assert.ok(widths.body <= 320, `the body is ${widths.body} px wide at 320 px`);
        await screenshot(page, `theme-${tenant.theme}-password`);
        assert.deepEqual(problems, []);
      } finally {
        await context.close();
      }
    });
  }
});
