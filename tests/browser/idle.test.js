// Idle expiry, on a server of its own started with `--session-idle 8s`.
// This file mostly waits, so scripts/browser runs it beside console.test.js.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { alertText, enrolDirectly, heading, launch, newPage, signIn, startServer, visit } from './helpers.js';

const IDLE_MS = 8_000;
let server;
let browser;

before(async () => {
  [server, browser] = await Promise.all([startServer({ name: 'idle', idle: '8s' }), launch()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a session left idle for the idle timeout ends: the next page is the sign-in, saying why', async () => {
  const { auth } = await enrolDirectly(server.enrolmentUrl);
  const { page: p, problems } = await newPage(browser);
  const r = await signIn(p, server.url, { account: 'owner', code: (await auth.take()).code });
  assert.equal(r.status(), 200);
  const signedIn = Date.now();
  assert.equal(await heading(p), 'Hello, Store owner');

  // Activity keeps it alive past the idle time: a page every 3 s for 12 s.
  for (let i = 0; i < 4; i++) {
    await sleep(3_000);
    await p.goto(`${server.url}/sessions`);
    assert.equal(p.url(), `${server.url}/sessions`, `valid while active (${Date.now() - signedIn} ms)`);
  }
  const lastActive = Date.now();

  await sleep(Math.max(0, lastActive + IDLE_MS + 1_500 - Date.now()));
  await p.goto(`${server.url}/`);
  const at = new URL(p.url());
  assert.equal(at.pathname, '/login', 'redirected to sign in');
  assert.equal(at.searchParams.get('ended'), 'idle');
  assert.equal(await heading(p), 'Sign in');
  assert.equal(await alertText(p), 'Your session ended after 8 seconds without activity; sign in again.');
  await visit(p, 'login-session-ended');

  // Gone for good: the cookie does not come back to life.
  await p.goto(`${server.url}/sessions`);
  assert.equal(p.url(), `${server.url}/login`);
  assert.deepEqual(problems, []);
});
