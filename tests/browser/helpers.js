// Shared helpers of the console's browser tests: a real `bulwark serve` on a
// free loopback port with its own data directory, RFC 6238 codes computed from
// the secret the enrolment page shows, Debian's chromium driven by
// playwright-core, axe-core checks and full-page screenshots.
//
// Environment: BULWARK_BIN (the binary; scripts/browser builds it),
// BULWARK_SCREENSHOTS (where PNGs and server logs go; default target/browser),
// CHROMIUM (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = resolve(ROOT, process.env.BULWARK_BIN ?? 'target/debug/bulwark');
export const SHOTS = resolve(ROOT, process.env.BULWARK_SCREENSHOTS ?? 'target/browser');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const PASSPHRASE = 'browser tests: a passphrase nobody keeps';
const SMTP_SINK = resolve(ROOT, 'tests/fixtures/smtp_sink.py');

/** A password the policy accepts (long, not common, not personal). */
export const STRONG_PASSWORD = 'Lantern-harbour-quietly-79-oaks';

// ---------------------------------------------------------------- processes

function run(args, env) {
  return new Promise((ok, fail) => {
    const child = spawn(BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => {
      if (code === 0) ok(stdout);
      else fail(new Error(`bulwark ${args.join(' ')} exited ${code}:\n${stderr}`));
    });
  });
}

/** A loopback port nobody listens on right now. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.unref();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/**
 * A fresh data directory (`bulwark init --json`) and `bulwark serve` on it.
 * `idle` is `--session-idle`. `detection` runs live detection (off by
 * default: `--no-detection`); `args` are more `serve` flags. The server's log
 * goes to SHOTS/<name>-server.log.
 */
export async function startServer({ name, idle = '30m', detection = false, args = [] }) {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-browser-'));
  const env = { ...process.env, BULWARK_PASSPHRASE: PASSPHRASE, NO_COLOR: '1' };
  await mkdir(SHOTS, { recursive: true });
  const logPath = join(SHOTS, `${name}-server.log`);
  const log = createWriteStream(logPath);

  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // A data directory per attempt: the enrolment link names the port.
    const data = join(dir, `data-${attempt}`);
    // Cheap argon2 (the minimum): sign-ins and enrolments stay fast.
    const first = JSON.parse(await run(
      ['init', '--data-dir', data, '--json', '--public-url', url,
        '--kdf-memory-mib', '8', '--kdf-iterations', '1'],
      env,
    ));
    const child = spawn(
      BIN,
      ['serve', '--data-dir', data, '--listen', `127.0.0.1:${port}`, '--public-url', url,
        '--session-idle', idle, ...(detection ? [] : ['--no-detection']), ...args],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // Never left running, whatever becomes of this test process.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    let exited = null;
    const exit = new Promise((done) => child.on('exit', (code, signal) => {
      exited = { code, signal };
      done();
    }));
    const deadline = Date.now() + 20_000;
    let up = false;
    while (!up && exited === null && Date.now() < deadline) {
      try {
        const r = await fetch(`${url}/healthz`);
        up = r.ok;
      } catch {
        await sleep(100);
      }
    }
    if (!up) {
      process.off('exit', reap);
      child.kill('SIGKILL');
      await exit;
      // The port may have been taken between freePort and the bind: retry.
      if (attempt < 3) continue;
      log.end();
      throw new Error(`bulwark serve did not come up (${JSON.stringify(exited)}); see ${logPath}`);
    }
    // The enrolment link must point at this server, for the browser to follow.
    assert.ok(first.enrolment_url.startsWith(`${url}/enrol/`), first.enrolment_url);
    return {
      url,
      port,
      data,
      enrolmentUrl: first.enrolment_url,
      /** The bootstrap API key (`admin` scope only). */
      adminKey: first.admin_key,
      /**
       * A call of the HTTP API with `key`; `body` is JSON unless it is a
       * string (sent as `type`). Returns the status and the parsed answer.
       */
      async api(method, path, { key = first.admin_key, body, type = 'application/json', headers = {} } = {}) {
        const init = { method, headers: { authorization: `Bearer ${key}`, ...headers } };
        if (body !== undefined) {
          init.headers['content-type'] = type;
          init.body = typeof body === 'string' ? body : JSON.stringify(body);
        }
        const r = await fetch(`${url}${path}`, init);
        const text = await r.text();
        let json = null;
        try {
          json = text ? JSON.parse(text) : null;
        } catch {
          json = text;
        }
        return { status: r.status, body: json };
      },
      /** `bulwark operators add`: returns the new operator's enrolment link. */
      async addOperator({ id, name, roles, email }) {
        const args = ['operators', 'add', '--data-dir', data, '--id', id, '--name', name,
          '--public-url', url, '--json'];
        for (const r of roles) args.push('--role', r);
        if (email) args.push('--email', email);
        return JSON.parse(await run(args, env)).enrolment_url;
      },
      async stop() {
        process.off('exit', reap);
        if (exited === null) {
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exit;
          clearTimeout(t);
        }
        log.end();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/**
 * A real SMTP server on a free loopback port (tests/fixtures/smtp_sink.py,
 * aiosmtpd): `messages()` reads what it accepted so far, one object per
 * message (`rcpt_to`, `to`, `subject`, `text`, …); a message is there once
 * the sink answered 250 to it.
 */
export async function startSmtpSink({ name }) {
  const dir = await mkdtemp(join(tmpdir(), 'bulwark-smtp-'));
  const file = join(dir, 'received.jsonl');
  await mkdir(SHOTS, { recursive: true });
  const log = createWriteStream(join(SHOTS, `${name}-smtp.log`));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // stdin stays open while this process lives: the sink ends with it.
    const child = spawn('python3', [SMTP_SINK, String(port), file], { stdio: ['pipe', 'pipe', 'pipe'] });
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.stderr.pipe(log, { end: false });
    const exit = new Promise((done) => child.on('exit', (code, signal) => done({ code, signal })));
    const ready = await Promise.race([
      new Promise((ok) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          if (out.includes('ready\n')) ok(true);
        });
      }),
      exit.then(() => false),
      sleep(30_000).then(() => false),
    ]);
    if (!ready) {
      process.off('exit', reap);
      child.kill('SIGKILL');
      await exit;
      // The port may have been taken between freePort and the bind: retry.
      if (attempt < 3) continue;
      log.end();
      throw new Error(`the SMTP sink did not start (is aiosmtpd installed? python3 -m pip install aiosmtpd); see ${name}-smtp.log`);
    }
    return {
      port,
      async messages() {
        let text = '';
        try {
          text = await readFile(file, 'utf8');
        } catch (e) {
          if (e.code !== 'ENOENT') throw e;
        }
        return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
      },
      async stop() {
        process.off('exit', reap);
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(t);
        log.end();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

// --------------------------------------------------------------------- TOTP

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Decode(text) {
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const v = B32.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${JSON.stringify(ch)}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 4226 HOTP, 6 digits, HMAC-SHA-1. */
export function hotp(key, counter) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(off) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

const STEP = 30;

/**
 * An authenticator app: RFC 6238 (30 s steps) from the base32 secret. The
 * server takes each step once per operator and at most one step away from
 * now, so `take()` hands out the earliest step later than the last one taken
 * that the server still accepts, waiting for the clock when there is none.
 */
export class Authenticator {
  constructor(secretBase32) {
    this.key = base32Decode(secretBase32);
    assert.equal(this.key.length, 20, 'a 160-bit TOTP secret');
    this.last = null;
  }

  codeAt(step) {
    return hotp(this.key, step);
  }

  /** A code valid now, without spending it (for a form the server refuses first). */
  peek() {
    return this.codeAt(Math.floor(Date.now() / 1000 / STEP) + 1);
  }

  /**
   * A code for a step not used before. `latest`: the step furthest ahead
   * (valid for the longest time: for a replay check).
   */
  async take({ latest = false } = {}) {
    for (;;) {
      const t = Date.now() / 1000;
      const now = Math.floor(t / STEP);
      const into = t - now * STEP;
      // The previous step only while the server will surely still see it as
      // one step back when the request arrives.
      const candidates = (latest ? [now + 1] : [into < 20 ? now - 1 : null, now, now + 1])
        .filter((s) => s !== null && (this.last === null || s > this.last));
      if (candidates.length) {
        const step = candidates[0];
        this.last = step;
        return { code: this.codeAt(step), step };
      }
      // Every acceptable step is spent: wait for the next window.
      await sleep(((now + 1) * STEP - t) * 1000 + 300);
    }
  }
}

// ------------------------------------------------------------------ browser

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true });
}

/**
 * A fresh browser context (no cookies) and a page in it. Script errors,
 * console errors (a CSP violation or an invalid `pattern` shows up as one) and
 * failed loads of a page's own resources (style sheet, script) are collected
 * in `problems`. A page answered 4xx on purpose (a refused form) logs a
 * "Failed to load resource" error for itself: that one is not a problem.
 */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${m.text()} (${page.url()})`);
    }
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message} (${page.url()})`));
  page.on('response', (r) => {
    const type = r.request().resourceType();
    if (r.status() >= 400 && type !== 'document' && !r.url().endsWith('/favicon.ico')) {
      problems.push(`${type} ${r.url()} answered ${r.status()} (${page.url()})`);
    }
  });
  return { context, page, problems };
}

/** Fails on any axe violation of impact serious or critical on this page. */
export async function expectAccessible(page, name) {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const lesser = results.violations.filter((v) => !bad.includes(v));
  if (lesser.length) {
    // Reported, not failed on: the test log says what could be better.
    console.log(`axe (${name}, ${page.url()}): ${lesser.map((v) => `${v.id} [${v.impact}]`).join(', ')}`);
  }
  if (bad.length) {
    const detail = bad
      .map((v) => `- ${v.id} [${v.impact}]: ${v.help} (${v.helpUrl})\n` +
        v.nodes.map((n) => `    at ${JSON.stringify(n.target)}: ${n.failureSummary?.replace(/\n/g, ' ')}`).join('\n'))
      .join('\n');
    assert.fail(`accessibility violations on ${name} (${page.url()}):\n${detail}`);
  }
}

/** A full-page screenshot into SHOTS/<name>.png. */
export async function screenshot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Both of the above: every page the tests reach goes through this. */
export async function visit(page, name) {
  await expectAccessible(page, name);
  await screenshot(page, name);
}

/** The page's main heading. */
export async function heading(page) {
  return (await page.getByRole('heading', { level: 1 }).textContent()).trim();
}

/** The text of the page's alert (an error message), or null. */
export async function alertText(page) {
  const a = page.getByRole('alert');
  return (await a.count()) ? (await a.first().textContent()).trim() : null;
}

/**
 * Clicks the button named `name` and waits for the page it leads to (through
 * redirects); returns that page's response.
 */
export async function submit(page, name) {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.getByRole('button', { name, exact: true }).click(),
  ]);
  return response;
}

/**
 * Sign-in as a person does it: /login, the password, then the second factor.
 * `onSecondFactor(page)` runs on the second-factor page. Returns the response
 * of the page the second factor leads to.
 */
export async function signIn(page, baseUrl, { account, password = STRONG_PASSWORD, code, onSecondFactor }) {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Operator id or e-mail').fill(account);
  await page.getByLabel('Password', { exact: true }).fill(password);
  const r = await submit(page, 'Continue');
  assert.equal(r.status(), 200, `password accepted for ${account}: ${await alertText(page)}`);
  assert.equal(await heading(page), 'Second factor');
  if (onSecondFactor) await onSecondFactor(page);
  return submitSecondFactor(page, code);
}

/** Fills in the second-factor form already shown; returns the response. */
export async function submitSecondFactor(page, code) {
  await page.getByLabel(/^Code from your authenticator app/).fill(code);
  return submit(page, 'Sign in');
}

/** Signs out with the layout's button; lands on /login. */
export async function signOut(page, baseUrl) {
  await submit(page, 'Sign out');
  assert.equal(page.url(), `${baseUrl}/login`);
}

/**
 * Enrols an operator in the browser from their one-time link, as a person
 * does: reads the key off the page (the scan step), sets the password and
 * gives the current code. `onPage(page)` runs on the enrolment page and on
 * the recovery codes. Returns the authenticator and the recovery codes.
 */
export async function enrolInBrowser(page, link, { name, password = STRONG_PASSWORD, onPage } = {}) {
  const shown = await page.goto(link);
  assert.equal(shown.status(), 200, `the enrolment link ${link}`);
  if (name) assert.equal(await heading(page), `Set up your account, ${name}`);
  if (onPage) await onPage(page, 'enrol');
  const auth = new Authenticator((await page.locator('code.secret').textContent()).trim());
  await page.getByLabel(/^Password/).fill(password);
  await page.getByLabel('The 6-digit code the app now shows').fill((await auth.take()).code);
  const r = await submit(page, 'Finish set-up');
  assert.equal(r.status(), 200, `enrolled: ${await alertText(page)}`);
  assert.equal(await heading(page), 'Your account is ready');
  const codes = (await page.locator('ol.codes code').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10, 'ten recovery codes');
  if (onPage) await onPage(page, 'enrolled');
  return { auth, codes };
}

// ---------------------------------------------------------- setup shortcuts

/**
 * Enrols an operator without a browser (for accounts a test needs but does
 * not test the enrolment of): reads the secret from the enrolment page and
 * posts the form. Returns the authenticator and the recovery codes.
 */
export async function enrolDirectly(link, password = STRONG_PASSWORD) {
  const page = await (await fetch(link)).text();
  const m = page.match(/<code class="secret">([A-Z2-7=]+)<\/code>/);
  assert.ok(m, 'the enrolment page shows the secret');
  const auth = new Authenticator(m[1]);
  const { code } = await auth.take();
  const r = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ password, code }),
  });
  const done = await r.text();
  assert.equal(r.status, 200, done);
  const codes = [...done.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((x) => x[1]);
  assert.equal(codes.length, 10);
  return { auth, codes };
}
