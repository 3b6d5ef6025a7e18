// The cluster test, driven by scripts/cluster --test: three tessera instances on one PostgreSQL
// behind haproxy, every request through the balancer. Needs Node 20 (fetch) and nothing else.
// Settings come from the environment scripts/cluster sets (CLUSTER_*).
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run scripts/cluster --test)`);
  return value;
};
const BASE = env('CLUSTER_BASE_URL');
const ISSUER = `${BASE}/t/cluster`;
const CLIENT_ID = env('CLUSTER_CLIENT_ID');
const CLIENT_SECRET = env('CLUSTER_CLIENT_SECRET');
const REDIRECT = env('CLUSTER_REDIRECT_URI');
const PASSWORD = env('CLUSTER_PASSWORD');
const RUN_DIR = env('CLUSTER_RUN_DIR');
const GRACE = Number(process.env.CLUSTER_GRACE_SECONDS || '10');
const FAMILIES = Number(process.env.CLUSTER_FAMILIES || '24');
const DB_CUT = process.env.CLUSTER_DB_CUT === '1';

let failures = 0;
const check = (ok, message) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${message}`);
  if (!ok) failures += 1;
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;

/// A browser without redirects: keeps cookies by name.
class Browser {
  constructor() { this.cookies = new Map(); }
  async request(url, options = {}) {
    const headers = { ...(options.headers || {}) };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, { ...options, headers, redirect: 'manual', signal: AbortSignal.timeout(10000) });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    return response;
  }
}
const absolute = (location) => (location.startsWith('/') ? `${BASE}${location}` : location);
const csrf = (html) => {
  const match = html.match(/name="csrf_token" value="([^"]+)"/);
  if (!match) throw new Error('no CSRF token in the page');
  return match[1];
};
const servedBy = (response) => response.headers.get('x-served-by') || '?';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

function authorizeUrl(challenge) {
  const url = new URL(`${ISSUER}/authorize`);
  for (const [k, v] of Object.entries({
    response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT, scope: 'openid email offline_access',
    state: 'cluster', nonce: 'cluster', code_challenge: challenge, code_challenge_method: 'S256',
  })) url.searchParams.set(k, v);
  return url;
}

/// Signs in with the password (or by SSO when the browser has a session); the code and where
/// each step was served.
async function signIn(browser, email, password) {
  const { verifier, challenge } = pkce();
  const served = [];
  let response = await browser.request(authorizeUrl(challenge));
  served.push(servedBy(response));
  let location = response.headers.get('location') || '';
  if (!location.startsWith(REDIRECT)) {
    const loginUrl = absolute(location);
    response = await browser.request(loginUrl);
    served.push(servedBy(response));
    const html = await response.text();
    response = await browser.request(loginUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email, password, csrf_token: csrf(html) }),
    });
    served.push(servedBy(response));
    location = response.headers.get('location') || '';
    if (response.status !== 303 || !location.startsWith(REDIRECT)) {
      return { status: response.status, served };
    }
  }
  const code = new URL(location).searchParams.get('code');
  return { code, verifier, served, status: 303 };
}

async function token(form) {
  const response = await fetch(`${ISSUER}/token`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
    signal: AbortSignal.timeout(8000),
  });
  const text = await response.text();
  let body = {};
  try { body = JSON.parse(text); } catch { body = { raw: text }; }
  return { status: response.status, body, served: servedBy(response), retryAfter: response.headers.get('retry-after') };
}
const exchange = (code, verifier) =>
  token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
const refresh = (refreshToken) => token({ grant_type: 'refresh_token', refresh_token: refreshToken });

/// A refresh that retries with the same token on anything but an OAuth answer (connection
/// failures, 502/503/504, timeouts), as a careful client does; `invalid_grant` means logged out.
async function refreshWithRetries(refreshToken, stats) {
  for (;;) {
    try {
      const answer = await refresh(refreshToken);
      if (answer.status === 200) return answer.body.refresh_token;
      if (answer.status === 400 || answer.status === 401) {
        stats.loggedOut.push(`${answer.status} ${JSON.stringify(answer.body)} via ${answer.served}`);
        return null;
      }
      stats.retries += 1;
    } catch {
      stats.retries += 1;
    }
    await sleep(100);
  }
}

function instancePid(n) {
  return Number(readFileSync(`${RUN_DIR}/tessera${n}.pid`, 'utf8').trim());
}
function startInstance(n) {
  execFileSync(`${RUN_DIR}/start-instance`, [String(n)], { stdio: 'inherit' });
}
async function waitReady(n) {
  const port = Number(env(`CLUSTER_PORT_${n}`));
  for (let i = 0; i < 300; i += 1) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) return true;
    } catch { /* not yet */ }
    await sleep(100);
  }
  return false;
}

/// A command on haproxy's runtime socket.
function haproxy(command) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(`${RUN_DIR}/haproxy.sock`);
    let out = '';
    socket.on('data', (data) => { out += data; });
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
    socket.write(`${command}\n`);
  });
}

async function main() {
  const person = env('CLUSTER_EMAIL');
  const browser = new Browser();

  console.log('== sign in through the balancer');
  const first = await signIn(browser, person, PASSWORD);
  check(first.status === 303 && first.code, `signed in (steps served by ${first.served.join(', ')})`);
  check(new Set(first.served).size > 1, 'the sign-in steps were served by more than one instance');

  console.log('== code and refresh on different instances');
  const tokens = await exchange(first.code, first.verifier);
  check(tokens.status === 200, `code exchanged on ${tokens.served}`);
  const rotated = await refresh(tokens.body.refresh_token);
  check(rotated.status === 200, `refreshed on ${rotated.served}`);
  check(rotated.served !== tokens.served, `code (${tokens.served}) and refresh (${rotated.served}) on different instances`);

  console.log('== refresh races across instances');
  let current = rotated.body.refresh_token;
  for (let round = 0; round < 5; round += 1) {
    const answers = await Promise.all(Array.from({ length: 9 }, () => refresh(current)));
    const ok = answers.filter((a) => a.status === 200);
    const successors = new Set(ok.map((a) => a.body.refresh_token));
    const instances = new Set(answers.map((a) => a.served));
    check(successors.size === 1, `round ${round + 1}: 9 racing refreshes on ${[...instances].join(', ')}: exactly one rotation (${ok.length} answers carry it)`);
    check(answers.every((a) => a.status === 200), `round ${round + 1}: every racer is answered (the losers as retries of the winner)`);
    const next = [...successors][0];
    const after = await refresh(next);
    check(after.status === 200, `round ${round + 1}: the one successor rotates`);
    current = after.body.refresh_token;
  }

  console.log('== throttles are shared');
  const guesser = new Browser();
  const victim = env('CLUSTER_THROTTLED_EMAIL');
  const posts = new Set();
  const statuses = [];
  for (let i = 0; i < 8; i += 1) {
    // One request more than a sign-in makes, so that round-robin sends each password elsewhere.
    await fetch(`${BASE}/healthz`);
    const attempt = await signIn(guesser, victim, 'not the password');
    posts.add(attempt.served.at(-1));
    statuses.push(attempt.status);
  }
  check(posts.size === 3, `wrong passwords posted to ${[...posts].join(', ')}: ${statuses.join(' ')}`);
  check(statuses.slice(0, 5).every((s) => s === 401) && statuses.slice(5).includes(429), 'after 5 failures spread over three instances the guesser waits (1 s, 2 s, ...): the counters are shared');

  console.log(`== refresh load while instances die and restart (${FAMILIES} families)`);
  const families = [];
  for (let i = 0; i < FAMILIES; i += 1) {
    const sso = await signIn(browser, person, PASSWORD);
    const answer = await exchange(sso.code, sso.verifier);
    if (answer.status !== 200) throw new Error(`family ${i}: ${answer.status} ${JSON.stringify(answer.body)}`);
    families.push(answer.body.refresh_token);
  }
  const stats = { refreshes: 0, retries: 0, loggedOut: [] };
  let stop = false;
  const load = families.map(async (start) => {
    let tokenOf = start;
    while (!stop && tokenOf) {
      tokenOf = await refreshWithRetries(tokenOf, stats);
      if (tokenOf) stats.refreshes += 1;
    }
    return tokenOf;
  });
  await sleep(3000);
  const killed = instancePid(2);
  process.kill(killed, 'SIGKILL');
  console.log(`     killed tessera2 (pid ${killed}) with SIGKILL`);
  await sleep(4000);
  startInstance(2);
  check(await waitReady(2), 'tessera2 started again and is ready');
  await sleep(3000);
  process.kill(instancePid(3), 'SIGTERM');
  console.log('     stopped tessera3 with SIGTERM');
  await sleep(1500);
  startInstance(3);
  check(await waitReady(3), 'tessera3 started again and is ready');
  await sleep(4000);
  stop = true;
  const last = await Promise.all(load);
  const finals = await Promise.all(last.filter(Boolean).map((t) => refreshWithRetries(t, stats)));
  check(stats.loggedOut.length === 0, `no one logged out: ${stats.refreshes} refreshes, ${stats.retries} retried after a lost answer${stats.loggedOut.length ? `; refused: ${stats.loggedOut.slice(0, 3).join(' | ')}` : ''}`);
  check(finals.length === FAMILIES && finals.every(Boolean), `all ${FAMILIES} families still refresh afterwards`);

  if (DB_CUT) {
    // Two kinds of outage, each for a few seconds: connections refused (the database is down),
    // and connections that hang (a network that drops packets: a listener that never answers).
    let family = finals[0];
    const silent = net.createServer(() => { /* accepts and never answers */ });
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const cuts = {
      refused: async () => { await haproxy('disable server postgres/pg'); },
      hanging: async () => { await haproxy(`set server postgres/pg addr 127.0.0.1 port ${silent.address().port}`); },
    };
    for (const [kind, cut] of Object.entries(cuts)) {
      console.log(`== the database cut for a few seconds, connections ${kind} (CLUSTER_DB_CUT=1)`);
      await cut();
      await haproxy('shutdown sessions server postgres/pg');
      await sleep(500);
      const timings = [];
      for (let i = 0; i < 6; i += 1) {
        const started = Date.now();
        let status = 0;
        let retryAfter = null;
        try {
          const answer = await refresh(family);
          status = answer.status;
          retryAfter = answer.retryAfter;
        } catch { status = -1; }
        timings.push({ status, ms: Date.now() - started, retryAfter });
      }
      const health = await fetch(`${BASE}/healthz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
      // One wait for a connection (database.acquire_timeout_ms, 1 s); the first request an
      // instance serves after the cut may wait twice (the tenant's row, then the remembered one).
      const sorted = timings.map((t) => t.ms).sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)];
      check(timings.every((t) => t.status === 503 && t.retryAfter && t.ms < 2500) && median < 1500, `only fast 503s with Retry-After while it is away (each under 2.5 s, median under 1.5 s): ${JSON.stringify(timings)}`);
      check(health !== null && health.status === 200, '/healthz still answers');
      await haproxy('set server postgres/pg addr 127.0.0.1 port 5432');
      await haproxy('enable server postgres/pg');
      await haproxy('shutdown sessions server postgres/pg');
      let recovered = null;
      const until = Date.now() + 20000;
      while (!recovered && Date.now() < until) {
        const answer = await refresh(family).catch(() => null);
        if (answer && answer.status === 200) recovered = answer;
        else await sleep(250);
      }
      check(recovered !== null, 'refresh works again on its own once the database is back');
      if (recovered) family = recovered.body.refresh_token;
    }
    silent.close();
  }

  console.log(failures === 0 ? 'cluster test passed' : `cluster test FAILED: ${failures} check(s)`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(`cluster test FAILED: ${err.stack || err}`);
  process.exit(1);
});
