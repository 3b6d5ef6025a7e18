// Browser end-to-end test of tessera's sign-in page.
//
// Drives Debian's Chromium (/usr/bin/chromium, override with CHROMIUM_PATH)
// through playwright-core against a real `tessera serve` started on a free
// loopback port with a throw-away data directory. Run with:
//
//     npm run test:browser
//
// The tessera binary is TESSERA_TEST_BIN, default target/debug/tessera relative to
// the repository root (build it with `cargo build --bin tessera`).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TESSERA_TEST_BIN = path.resolve(REPO_ROOT, process.env.TESSERA_TEST_BIN ?? 'target/debug/tessera');
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const RESULTS_DIR = path.join(REPO_ROOT, 'test-results');

const TENANT = 'acme';
const CLIENT_ID = 'browser-e2e-spa';
const EMAIL = 'alice@example.com';
const PASSWORD = 'correct horse battery staple';

const CLI_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 60_000;
const ACTION_TIMEOUT_MS = 15_000;

/** State shared by the hooks and tests. */
const ctx = {
  port: 0,
  baseUrl: '',
  redirectUri: '',
  dataDir: '',
  server: null,
  serverLog: [],
  browser: null,
  rp: { server: null, callbacks: [] },
};

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function tesseraEnv() {
  return {
    ...process.env,
    TESSERA_LISTEN: `127.0.0.1:${ctx.port}`,
    TESSERA_PUBLIC_URL: ctx.baseUrl,
    TESSERA_DATA_DIR: ctx.dataDir,
  };
}

/** Runs one tessera CLI command to completion; throws unless it exits 0. */
function cli(args, input) {
  const res = spawnSync(TESSERA_TEST_BIN, args, {
    env: tesseraEnv(),
    input,
    encoding: 'utf8',
    timeout: CLI_TIMEOUT_MS,
  });
  if (res.error) throw new Error(`tessera ${args.join(' ')}: ${res.error.message}`);
  if (res.status !== 0) {
    throw new Error(
      `tessera ${args.join(' ')} exited with ${res.status ?? res.signal}\n` +
        `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`,
    );
  }
  return res.stdout;
}

function serverLogTail(lines = 40) {
  return ctx.serverLog.join('').split('\n').slice(-lines).join('\n');
}

async function waitForHealthy() {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = 'no attempt made';
  while (Date.now() < deadline) {
    if (ctx.server.exitCode !== null || ctx.server.signalCode !== null) {
      throw new Error(
        `tessera serve exited early (${ctx.server.exitCode ?? ctx.server.signalCode})\n${serverLogTail()}`,
      );
    }
    try {
      const res = await fetch(`${ctx.baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.status === 200 && body.trim() === 'ok') return;
      lastError = `status ${res.status}: ${body.slice(0, 200)}`;
    } catch (err) {
      lastError = err.cause?.code ?? err.message;
    }
    await sleep(200);
  }
  throw new Error(
    `tessera did not become healthy within ${READY_TIMEOUT_MS} ms (last: ${lastError})\n${serverLogTail()}`,
  );
}

async function stopServer() {
  const server = ctx.server;
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(5_000).then(() => true)]);
  if (timedOut) {
    server.kill('SIGKILL');
    await Promise.race([exited, sleep(2_000)]);
  }
}

/**
 * A stand-in relying party on its own loopback port: it records every request
 * to its callback and answers with a small page.
 *
 * page.route() cannot do this job: Playwright does not hand requests that
 * come from following a redirect to route handlers (its docs: "The handler
 * will only be called for the first url if the response is a redirect"), and
 * tessera reaches the client through a 303 after the sign-in POST, so a route
 * on the redirect URI is never called and Chromium would hit a closed port.
 */
function startRelyingParty() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, ctx.redirectUri);
    // Chromium also asks this origin for /favicon.ico; only count the callback.
    if (`${url.origin}${url.pathname}` === ctx.redirectUri) ctx.rp.callbacks.push(url.toString());
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
    res.end('<!doctype html><html lang="en"><title>Relying party</title><p>callback received</p></html>');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Port 0 then read back: no window in which another process can take it.
    server.listen(0, '127.0.0.1', () => {
      ctx.rp.server = server;
      resolve(server.address().port);
    });
  });
}

async function stopRelyingParty() {
  const server = ctx.rp.server;
  if (!server) return;
  server.closeAllConnections();
  await Promise.race([new Promise((resolve) => server.close(resolve)), sleep(2_000)]);
}

const base64url = (buf) => buf.toString('base64url');

function pkce() {
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

function authorizeRequest() {
  const { verifier, challenge } = pkce();
  const state = base64url(randomBytes(16));
  const nonce = base64url(randomBytes(16));
  const url = new URL(`${ctx.baseUrl}/t/${TENANT}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: ctx.redirectUri,
    scope: 'openid email',
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.toString(), verifier, state, nonce };
}

function decodeJwtPart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

/**
 * A fresh browser context (own cookies) with a page whose navigations to the
 * relying party's redirect URI are answered locally and recorded.
 */
async function newPage(viewport = { width: 1280, height: 800 }) {
  const context = await ctx.browser.newContext({ viewport });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  const page = await context.newPage();
  const callbacks = ctx.rp.callbacks;
  callbacks.length = 0;
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // "Failed to load resource" duplicates the HTTP status, which is judged
    // below (the 401 of a rejected sign-in is expected).
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${msg.text()}`);
    }
  });
  page.on('response', (res) => {
    if (!res.request().isNavigationRequest() && res.status() >= 400) {
      problems.push(`subresource ${res.url()} answered ${res.status()}`);
    }
  });
  page.on('requestfailed', (req) => {
    if (!req.url().startsWith(ctx.redirectUri)) {
      problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
    }
  });
  return { context, page, callbacks, problems };
}

/** Opens the authorize URL and waits for the login form. */
async function openLoginPage(page, authorizeUrl) {
  const res = await page.goto(authorizeUrl, { waitUntil: 'load' });
  assert.ok(res, 'navigation to the authorize endpoint produced no response');
  assert.equal(res.status(), 200, `login page status (landed on ${page.url()})`);
  assert.ok(
    page.url().startsWith(`${ctx.baseUrl}/`),
    `expected to stay on tessera for the login page, got ${page.url()}`,
  );
  await page.getByLabel('Email address').waitFor({ state: 'visible' });
  return res;
}

before(
  async () => {
    assert.ok(
      existsSync(TESSERA_TEST_BIN),
      `tessera binary not found at ${TESSERA_TEST_BIN}; run \`cargo build --bin tessera\` or set TESSERA_TEST_BIN`,
    );
    assert.ok(existsSync(CHROMIUM_PATH), `Chromium not found at ${CHROMIUM_PATH}; apt-get install chromium`);
    mkdirSync(RESULTS_DIR, { recursive: true });

    ctx.port = await freePort();
    ctx.baseUrl = `http://localhost:${ctx.port}`;
    ctx.redirectUri = `http://localhost:${await startRelyingParty()}/callback`;
    ctx.dataDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-browser-'));

    cli(['tenant', 'create', TENANT, '--name', 'Acme Corp']);
    cli([
      'client', 'create',
      '--tenant', TENANT,
      '--client-id', CLIENT_ID,
      '--redirect-uri', ctx.redirectUri,
      '--public',
      '--first-party',
    ]);
    cli(['user', 'create', '--tenant', TENANT, '--email', EMAIL, '--password-stdin'], PASSWORD);

    ctx.server = spawn(TESSERA_TEST_BIN, ['serve'], {
      env: tesseraEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    ctx.server.stdout.on('data', (d) => ctx.serverLog.push(d.toString()));
    ctx.server.stderr.on('data', (d) => ctx.serverLog.push(d.toString()));
    // Last resort if the runner dies without running `after`.
    process.once('exit', () => ctx.server?.kill('SIGKILL'));

    await waitForHealthy();

    ctx.browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      timeout: 30_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  },
  { timeout: 120_000 },
);

after(
  async () => {
    try {
      await ctx.browser?.close();
    } catch (err) {
      console.error('closing the browser failed:', err);
    }
    await stopServer();
    await stopRelyingParty();
    if (process.env.TESSERA_E2E_DEBUG) {
      console.log(`tessera server log:\n${serverLogTail(200)}`);
    }
    if (ctx.dataDir) rmSync(ctx.dataDir, { recursive: true, force: true });
  },
  { timeout: 30_000 },
);

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
        page.getByRole('button', { name: 'Sign in' }).click(),
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
        page.getByRole('button', { name: 'Sign in' }).click(),
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
      await page.getByRole('button', { name: 'Sign in' }).waitFor({ state: 'visible' });
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
