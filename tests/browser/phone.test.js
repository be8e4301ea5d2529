// The console on a phone: a narrow touch viewport, every main page readable
// without sideways scrolling of the page itself (wide tables scroll within
// their own box), the navigation reachable, axe-clean.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { SHOTS, enrolDirectly, expectAccessible, heading, launch, signIn, startServer } from './helpers.js';

let server;
let browser;

before(async () => {
  [server, browser] = await Promise.all([startServer({ name: 'phone' }), launch()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('on a phone every main page fits the screen and keeps its navigation', async () => {
  const { auth } = await enrolDirectly(server.enrolmentUrl);
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const p = await context.newPage();
  const r = await signIn(p, server.url, { account: 'owner', code: (await auth.take()).code });
  assert.equal(r.status(), 200);
  assert.equal(await heading(p), 'Hello, Store owner');
  for (const [path, name] of [['/', 'home'], ['/incidents', 'incidents'], ['/alerts', 'alerts'],
    ['/audit', 'audit'], ['/compliance', 'compliance'], ['/drills', 'drills'], ['/operators', 'operators'], ['/sessions', 'sessions'], ['/password', 'password']]) {
    const res = await p.goto(`${server.url}${path}`);
    assert.equal(res.status(), 200, path);
    const { scroll, inner } = await p.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      inner: window.innerWidth,
    }));
    assert.ok(scroll <= inner + 1, `${path} is ${scroll}px wide on a ${inner}px screen`);
    assert.ok(await p.getByRole('button', { name: 'Sign out' }).isVisible(), `${path}: sign-out reachable`);
    assert.ok(await p.getByRole('navigation', { name: 'Main' }).isVisible(), `${path}: navigation reachable`);
    await expectAccessible(p, `phone-${name}`);
    await p.screenshot({ path: `${SHOTS}/phone-${name}.png`, fullPage: true });
  }
  await context.close();
});
