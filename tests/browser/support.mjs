// Shared machinery of the browser end-to-end tests: a real `tessera serve` on a
// free loopback port with a throw-away data directory (seeded with the CLI), a
// stand-in relying party at the redirect URI, Debian's Chromium driven by
// playwright-core, and helpers for the authorization request.
//
// The tessera binary is TESSERA_TEST_BIN, default target/debug/tessera relative
// to the repository root (build it with `cargo build --bin tessera`). Chromium
// is CHROMIUM_PATH, default /usr/bin/chromium. TESSERA_TEST_DEBUG=1 prints the
// server log at the end. (The server refuses unknown TESSERA_* variables, so
// the suite's own variables are all TESSERA_TEST_*, which it ignores.)

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

export { sleep };

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TESSERA_TEST_BIN = path.resolve(REPO_ROOT, process.env.TESSERA_TEST_BIN ?? 'target/debug/tessera');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results');
/**
 * The repository's theme folders, as an absolute path: the server and the CLI
 * resolve `themes_dir` against their working directory, so a test that needs a
 * theme passes `TESSERA_THEMES_DIR: THEMES_DIR` in the harness's `env`.
 */
export const THEMES_DIR = path.join(REPO_ROOT, 'themes');

export const CLI_TIMEOUT_MS = 60_000;
export const READY_TIMEOUT_MS = 30_000;
export const ACTION_TIMEOUT_MS = 15_000;
/** For the `before` hook: seeding, server start-up and browser launch. */
export const SETUP_TIMEOUT_MS = 120_000;
/** For the `after` hook. */
export const TEARDOWN_TIMEOUT_MS = 30_000;

export const base64url = (buf) => buf.toString('base64url');

export function pkce() {
  const verifier = base64url(randomBytes(32));
  const challenge = base64url(createHash('sha256').update(verifier).digest());
  return { verifier, challenge };
}

export function decodeJwtPart(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

export function freePort() {
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

/**
 * Collects what should not happen on a page: uncaught script errors, console
 * errors, sub-resources answering >= 400 and failed requests.
 */
export function watchPage(page, problems, redirectUri) {
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // "Failed to load resource" duplicates the HTTP status, which is judged
    // below (a 401 of a rejected form is expected).
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
    if (!req.url().startsWith(redirectUri)) {
      problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
    }
  });
  return problems;
}

/**
 * One tessera server with its data directory, relying party and browser.
 * Call `start(seed)` in `before` and `stop()` in `after`; `seed(h)` runs CLI
 * commands before the server starts (the tenant and client are created first).
 * `env` (optional) holds extra environment variables for the server and the
 * CLI, e.g. `TESSERA_SMS__*`; it can also be set as `h.extraEnv` before
 * `start`, when a value (a port) is known only then.
 */
export function createHarness({ tenant, tenantName, clientId, env = {} }) {
  const h = {
    tenant,
    clientId,
    extraEnv: env,
    port: 0,
    baseUrl: '',
    redirectUri: '',
    dataDir: '',
    server: null,
    serverLog: [],
    browser: null,
    rp: { server: null, callbacks: [] },
  };

  h.env = () => ({
    ...process.env,
    TESSERA_LISTEN: `127.0.0.1:${h.port}`,
    TESSERA_PUBLIC_URL: h.baseUrl,
    TESSERA_DATA_DIR: h.dataDir,
    ...h.extraEnv,
  });

  /** Runs one tessera CLI command to completion; throws unless it exits 0. */
  h.cli = (args, input) => {
    const res = spawnSync(TESSERA_TEST_BIN, args, {
      env: h.env(),
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
  };

  h.serverLogTail = (lines = 40) => h.serverLog.join('').split('\n').slice(-lines).join('\n');

  async function waitForHealthy() {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastError = 'no attempt made';
    while (Date.now() < deadline) {
      if (h.server.exitCode !== null || h.server.signalCode !== null) {
        throw new Error(
          `tessera serve exited early (${h.server.exitCode ?? h.server.signalCode})\n${h.serverLogTail()}`,
        );
      }
      try {
        const res = await fetch(`${h.baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
        const body = await res.text();
        if (res.status === 200 && body.trim() === 'ok') return;
        lastError = `status ${res.status}: ${body.slice(0, 200)}`;
      } catch (err) {
        lastError = err.cause?.code ?? err.message;
      }
      await sleep(200);
    }
    throw new Error(
      `tessera did not become healthy within ${READY_TIMEOUT_MS} ms (last: ${lastError})\n${h.serverLogTail()}`,
    );
  }

  async function stopServer() {
    const server = h.server;
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
      const url = new URL(req.url, h.redirectUri);
      // Chromium also asks this origin for /favicon.ico; only count the callback.
      if (`${url.origin}${url.pathname}` === h.redirectUri) h.rp.callbacks.push(url.toString());
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
      res.end('<!doctype html><html lang="en"><title>Relying party</title><p>callback received</p></html>');
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      // Port 0 then read back: no window in which another process can take it.
      server.listen(0, '127.0.0.1', () => {
        h.rp.server = server;
        resolve(server.address().port);
      });
    });
  }

  async function stopRelyingParty() {
    const server = h.rp.server;
    if (!server) return;
    server.closeAllConnections();
    await Promise.race([new Promise((resolve) => server.close(resolve)), sleep(2_000)]);
  }

  h.start = async (seed) => {
    assert.ok(
      existsSync(TESSERA_TEST_BIN),
      `tessera binary not found at ${TESSERA_TEST_BIN}; run \`cargo build --bin tessera\` or set TESSERA_TEST_BIN`,
    );
    assert.ok(existsSync(CHROMIUM_PATH), `Chromium not found at ${CHROMIUM_PATH}; apt-get install chromium`);
    mkdirSync(RESULTS_DIR, { recursive: true });

    h.port = await freePort();
    h.baseUrl = `http://localhost:${h.port}`;
    h.redirectUri = `http://localhost:${await startRelyingParty()}/callback`;
    h.dataDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-browser-'));

    h.cli(['tenant', 'create', tenant, '--name', tenantName]);
    h.cli([
      'client', 'create',
      '--tenant', tenant,
      '--client-id', clientId,
      '--redirect-uri', h.redirectUri,
      '--public',
      '--first-party',
    ]);
    await seed?.(h);

    h.server = spawn(TESSERA_TEST_BIN, ['serve'], {
      env: h.env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    h.server.stdout.on('data', (d) => h.serverLog.push(d.toString()));
    h.server.stderr.on('data', (d) => h.serverLog.push(d.toString()));
    // Last resort if the runner dies without running `after`.
    process.once('exit', () => h.server?.kill('SIGKILL'));

    await waitForHealthy();

    h.browser = await chromium.launch({
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
  };

  h.stop = async () => {
    try {
      await h.browser?.close();
    } catch (err) {
      console.error('closing the browser failed:', err);
    }
    await stopServer();
    await stopRelyingParty();
    if (process.env.TESSERA_TEST_DEBUG) {
      console.log(`tessera server log:\n${h.serverLogTail(200)}`);
    }
    if (h.dataDir) rmSync(h.dataDir, { recursive: true, force: true });
  };

  /**
   * A fresh browser context (own cookies, so another "device") with one watched page.
   * `contextOptions` go to browser.newContext (e.g. `locale`, which also sets the
   * Accept-Language header).
   */
  h.newPage = async (viewport = { width: 1280, height: 800 }, contextOptions = {}) => {
    const context = await h.browser.newContext({ ...contextOptions, viewport });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    const page = await context.newPage();
    const callbacks = h.rp.callbacks;
    callbacks.length = 0;
    const problems = watchPage(page, [], h.redirectUri);
    return { context, page, callbacks, problems };
  };

  /**
   * A fresh authorization request (PKCE, state, nonce) to the harness's tenant
   * and client; `extra` adds or replaces query parameters, and `target` names
   * another tenant and client seeded on the same server.
   */
  h.authorizeRequest = (extra = {}, target = {}) => {
    const { tenant: slug = tenant, clientId: client = clientId } = target;
    const { verifier, challenge } = pkce();
    const state = base64url(randomBytes(16));
    const nonce = base64url(randomBytes(16));
    const url = new URL(`${h.baseUrl}/t/${slug}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: client,
      redirect_uri: h.redirectUri,
      scope: 'openid email',
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...extra,
    }).toString();
    return { url: url.toString(), verifier, state, nonce };
  };

  /** Opens the authorize URL and waits for the login form. */
  h.openLoginPage = async (page, authorizeUrl) => {
    const res = await page.goto(authorizeUrl, { waitUntil: 'load' });
    assert.ok(res, 'navigation to the authorize endpoint produced no response');
    assert.equal(res.status(), 200, `login page status (landed on ${page.url()})`);
    assert.ok(
      page.url().startsWith(`${h.baseUrl}/`),
      `expected to stay on tessera for the login page, got ${page.url()}`,
    );
    await page.getByLabel('Email address').waitFor({ state: 'visible' });
    return res;
  };

  /** True for the relying party's callback URL (as a URL or string). */
  h.isCallback = (u) => u.toString().startsWith(h.redirectUri);

  /**
   * Checks the page is on the redirect URI with a code and the request's state,
   * and returns the code.
   */
  h.callbackCode = (page, req) => {
    const landed = new URL(page.url());
    assert.equal(`${landed.origin}${landed.pathname}`, h.redirectUri, `not on the redirect URI: ${landed}`);
    assert.equal(landed.searchParams.get('error'), null, `error on callback: ${landed}`);
    const code = landed.searchParams.get('code');
    assert.ok(code, `no code in ${landed}`);
    assert.equal(landed.searchParams.get('state'), req.state);
    assert.equal(landed.searchParams.get('iss'), `${h.baseUrl}/t/${tenant}`);
    return code;
  };

  /** Exchanges a code at the token endpoint; returns the tokens and the ID token's claims. */
  h.exchangeCode = async (code, req) => {
    const tokenRes = await fetch(`${h.baseUrl}/t/${tenant}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: h.redirectUri,
        client_id: clientId,
        code_verifier: req.verifier,
      }),
      signal: AbortSignal.timeout(10_000),
    });
    const tokenBody = await tokenRes.text();
    assert.equal(tokenRes.status, 200, `token endpoint: ${tokenBody}`);
    const tokens = JSON.parse(tokenBody);
    assert.equal(typeof tokens.id_token, 'string', 'no id_token');
    const parts = tokens.id_token.split('.');
    assert.equal(parts.length, 3, 'id_token is not a compact JWS');
    const claims = decodeJwtPart(parts[1]);
    assert.equal(claims.nonce, req.nonce);
    return { tokens, claims };
  };

  return h;
}
