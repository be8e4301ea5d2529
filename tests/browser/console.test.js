// The console in a real browser, against one `bulwark serve`: enrolment of the
// first operator, sign-in and sign-out, replayed codes, recovery codes, a
// cross-site form post, adding an operator with step-up, the new operator's
// own pages, and where step-up may send the browser. Every page reached is
// checked with axe-core and screenshotted into target/browser/. The tests run
// in order and share the server and the accounts they create.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import {
  STRONG_PASSWORD, Authenticator, alertText, enrolDirectly, heading, launch, newPage,
  signIn, signOut, startServer, submit, submitSecondFactor, visit,
} from './helpers.js';

let server;
let browser;
const open = [];
/** What the tests learn about the accounts as they go. */
const owner = { id: 'owner', auth: null, codes: [] };
const ops = { id: 'ops', auth: null, codes: [] };
const lena = { id: 'lena', auth: null, link: null };
const sam = { id: 'sam', auth: null, codes: [] };

async function page() {
  const p = await newPage(browser);
  open.push(p);
  return p;
}

before(async () => {
  [server, browser] = await Promise.all([startServer({ name: 'console' }), launch()]);
  // A second administrator, enrolled without the browser, so that the
  // operator-management tests have TOTP steps of their own.
  const link = await server.addOperator({ id: ops.id, name: 'Ops Admin', roles: ['admin'] });
  Object.assign(ops, await enrolDirectly(link));
  const samLink = await server.addOperator({ id: sam.id, name: 'Sam Reyes', roles: ['pr_comms'] });
  Object.assign(sam, await enrolDirectly(samLink));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the first operator enrols from the one-time link; the link then no longer works', async () => {
  const { page: p } = await page();
  const shown = await p.goto(server.enrolmentUrl);
  assert.equal(shown.status(), 200);
  assert.equal(await heading(p), 'Set up your account, Store owner');
  assert.ok(await p.getByRole('img', { name: /QR code/ }).isVisible(), 'a QR code to scan');
  await visit(p, 'enrol');

  // The scan step: the key is also shown for typing in by hand.
  const secret = (await p.locator('code.secret').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/, 'a 160-bit base32 secret');
  owner.auth = new Authenticator(secret);

  // A common password is refused, with a message the person sees.
  await p.getByLabel(/^Password/).fill('password123');
  await p.getByLabel('The 6-digit code the app now shows').fill(owner.auth.peek());
  let r = await submit(p, 'Finish set-up');
  assert.equal(r.status(), 400);
  assert.match(await alertText(p), /common or breached passwords/);
  assert.ok(await p.getByRole('alert').isVisible());
  assert.equal(await p.getByLabel(/^Password/).inputValue(), '', 'the refused password is not echoed');
  assert.equal((await p.locator('code.secret').textContent()).trim(), secret, 'the same secret after a refusal');
  await visit(p, 'enrol-refused');

  // A wrong code is refused too (and spends nothing).
  await p.getByLabel(/^Password/).fill(STRONG_PASSWORD);
  const wrong = String((Number(owner.auth.peek()) + 1) % 1_000_000).padStart(6, '0');
  await p.getByLabel('The 6-digit code the app now shows').fill(wrong);
  r = await submit(p, 'Finish set-up');
  assert.equal(r.status(), 400);
  assert.match(await alertText(p), /the authenticator code: the code is wrong or expired/);

  // A strong password and the current code: the account is ready.
  await p.getByLabel(/^Password/).fill(STRONG_PASSWORD);
  await p.getByLabel('The 6-digit code the app now shows').fill((await owner.auth.take()).code);
  r = await submit(p, 'Finish set-up');
  assert.equal(r.status(), 200);
  assert.equal(await heading(p), 'Your account is ready');
  owner.codes = (await p.locator('ol.codes code').allTextContents()).map((c) => c.trim());
  assert.equal(owner.codes.length, 10, 'ten recovery codes');
  assert.equal(new Set(owner.codes).size, 10);
  assert.match(await p.locator('main').textContent(), /shown only now/);
  await visit(p, 'recovery-codes');

  // The link works once: a second visit shows a message, not the secret or the codes.
  r = await p.goto(server.enrolmentUrl);
  assert.equal(r.status(), 410);
  assert.equal(await heading(p), 'This link no longer works');
  assert.equal(await p.locator('code.secret').count(), 0);
  assert.ok(!(await p.content()).includes(owner.codes[0]), 'the recovery codes are not shown again');
  await visit(p, 'message-link-used');
  // Posting to it again does not enrol anyone either.
  const again = await p.request.post(server.enrolmentUrl, {
    form: { password: STRONG_PASSWORD, code: owner.auth.peek() },
  });
  assert.equal(again.status(), 410);

  // A made-up link.
  r = await p.goto(`${server.url}/enrol/bwe_not-a-real-link`);
  assert.equal(r.status(), 404);
  assert.equal(await heading(p), 'This link is not valid');
  await visit(p, 'message-link-invalid');
});

test('sign-in (password, then second factor) lands on home; sign-out ends the session for good', async () => {
  const { context, page: p } = await page();
  // Nothing but /login without a session.
  await p.goto(`${server.url}/`);
  assert.equal(p.url(), `${server.url}/login`);
  assert.equal(await heading(p), 'Sign in');
  await visit(p, 'login');

  // A wrong password: one answer, shown, the account kept in the form.
  await p.getByLabel('Operator id or e-mail').fill(owner.id);
  await p.getByLabel('Password', { exact: true }).fill('not the password at all');
  let r = await submit(p, 'Continue');
  assert.equal(r.status(), 401);
  assert.equal(await alertText(p), 'the account or password is not right');
  assert.equal(await p.getByLabel('Operator id or e-mail').inputValue(), owner.id);
  await visit(p, 'login-refused');

  r = await signIn(p, server.url, {
    account: owner.id,
    code: (await owner.auth.take()).code,
    onSecondFactor: (sp) => visit(sp, 'second-factor'),
  });
  assert.equal(r.status(), 200);
  assert.equal(p.url(), `${server.url}/`);
  assert.equal(await heading(p), 'Hello, Store owner');
  assert.match(await p.locator('.roles').textContent(), /Administrator/);
  await visit(p, 'home');

  const cookie = (await context.cookies()).find((c) => c.name === 'bulwark');
  assert.ok(cookie, 'a session cookie');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.match(cookie.value, /^bws_/);

  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My sessions' }).click();
  await p.waitForURL(`${server.url}/sessions`);
  assert.equal(await heading(p), 'All sessions', 'an administrator sees every session');
  assert.match(await p.locator('tbody').textContent(), /browser \(this one\)/);
  await visit(p, 'sessions');

  await signOut(p, server.url);
  assert.equal((await context.cookies()).find((c) => c.name === 'bulwark'), undefined, 'the cookie is cleared');

  // The old cookie, kept by someone, opens nothing any more.
  const { context: thief, page: tp } = await page();
  await thief.addCookies([cookie]);
  for (const path of ['/', '/sessions', '/operators']) {
    await tp.goto(`${server.url}${path}`);
    assert.equal(tp.url(), `${server.url}/login`, `${path} with the old cookie`);
  }
});

test('a TOTP code that was already used is refused', async () => {
  const { page: p } = await page();
  const { code } = await owner.auth.take({ latest: true });
  let r = await signIn(p, server.url, { account: owner.id, code });
  assert.equal(r.status(), 200);
  assert.equal(await heading(p), 'Hello, Store owner');
  await signOut(p, server.url);

  r = await signIn(p, server.url, { account: owner.id, code });
  assert.equal(r.status(), 401);
  assert.equal(await heading(p), 'Second factor', 'still asked for a second factor');
  assert.equal(await alertText(p), 'the second factor: the code was already used; wait for the next one');
  await visit(p, 'second-factor-replayed');
  await p.goto(`${server.url}/`);
  assert.equal(p.url(), `${server.url}/login`, 'no session came of it');
});

test('a recovery code signs in once', async () => {
  const { page: p } = await page();
  const [first, second] = owner.codes;
  let r = await signIn(p, server.url, { account: owner.id, code: first });
  assert.equal(r.status(), 200);
  assert.equal(await heading(p), 'Hello, Store owner');
  await signOut(p, server.url);

  r = await signIn(p, server.url, { account: owner.id, code: first });
  assert.equal(r.status(), 401);
  assert.equal(await alertText(p), 'the recovery code is not right');
  await visit(p, 'second-factor-recovery-used');

  // The same sign-in goes on with another, unused code.
  r = await submitSecondFactor(p, second);
  assert.equal(r.status(), 200);
  assert.equal(await heading(p), 'Hello, Store owner');
  await signOut(p, server.url);
});

/** A web site of its own on another loopback port, serving `html` at every path. */
async function otherSite(html) {
  let hits = 0;
  const http = createServer((req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise((ok) => http.listen(0, '127.0.0.1', ok));
  return {
    port: http.address().port,
    hits: () => hits,
    close: () => {
      http.closeAllConnections();
      return new Promise((ok) => http.close(ok));
    },
  };
}

/** An attacker's page whose form posts itself to `action` as soon as it loads. */
function attacker(action) {
  return otherSite(`<!doctype html><html lang="en"><title>You won</title>
<form id="f" method="post" action="${action}"><input type="hidden" name="x" value="1"></form>
<script>document.getElementById('f').submit()</script></html>`);
}

test('a form posted from another site is refused and the session lives on', async () => {
  const { page: p } = await page();
  const r = await signIn(p, server.url, { account: owner.id, code: owner.codes[2] });
  assert.equal(r.status(), 200);

  const evil = await attacker(`${server.url}/logout`);
  try {
    // Another port of 127.0.0.1 (same site, other origin: the cookie goes
    // along) and localhost (another site: SameSite=Strict keeps it back).
    for (const [origin, site] of [[`http://127.0.0.1:${evil.port}`, 'same-site'], [`http://localhost:${evil.port}`, 'cross-site']]) {
      const [post] = await Promise.all([
        p.waitForResponse((x) => x.url() === `${server.url}/logout` && x.request().method() === 'POST'),
        p.goto(`${origin}/`),
      ]);
      const headers = await post.request().allHeaders();
      assert.equal(headers['sec-fetch-site'], site, `the browser says ${site}`);
      assert.equal(headers.origin, origin);
      assert.equal(post.status(), 403, `the post from ${origin} is refused`);
      assert.match(await post.text(), /cross-site-request/);
      await p.goto(`${server.url}/`);
      assert.equal(p.url(), `${server.url}/`, `still signed in after the post from ${origin}`);
      assert.equal(await heading(p), 'Hello, Store owner');
    }
  } finally {
    await evil.close();
  }
  await signOut(p, server.url);
});

test('an administrator adds an operator on /operators (with step-up) and is shown the enrolment link', async () => {
  const { page: p } = await page();
  let r = await signIn(p, server.url, { account: ops.id, code: (await ops.auth.take()).code });
  assert.equal(r.status(), 200);
  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operators' }).click();
  await p.waitForURL(`${server.url}/operators`);
  assert.equal(await heading(p), 'Operators');
  await visit(p, 'operators');

  async function fillAndAdd() {
    await p.getByLabel(/^Id/).fill(lena.id);
    await p.getByLabel('Name', { exact: true }).fill('Lena Park');
    await p.getByLabel(/^E-mail/).fill('lena@shop.example');
    await p.getByRole('checkbox', { name: 'Legal' }).check();
    return submit(p, 'Add and show the enrolment link');
  }

  let steppedUp = false;
  async function stepUp() {
    assert.equal(await heading(p), 'Confirm it is you');
    await visit(p, 'step-up');
    await p.getByLabel('Code from your authenticator app').fill((await ops.auth.take()).code);
    const s = await submit(p, 'Confirm');
    assert.equal(s.status(), 200);
    assert.equal(p.url(), `${server.url}/operators`, 'back where the step-up was asked');
    steppedUp = true;
  }

  r = await fillAndAdd();
  if (new URL(p.url()).pathname === '/step-up') {
    // Sensitive: the second factor again first; the form is filled in anew.
    await stepUp();
    r = await fillAndAdd();
  }
  assert.equal(r.status(), 200);
  const notice = p.getByRole('status');
  assert.match(await notice.textContent(), /Enrolment link for lena/);
  lena.link = (await notice.locator('code').textContent()).trim();
  assert.match(lena.link, new RegExp(`^${server.url}/enrol/bwe_[A-Za-z0-9_-]+$`));
  const row = p.getByRole('row').filter({ hasText: 'Lena Park' });
  assert.match(await row.textContent(), /legal.*not enrolled/s);
  await visit(p, 'operators-added');

  if (!steppedUp) {
    // Signed in a moment ago, so no step-up was needed; the page is still
    // reachable directly and returns to where it was asked from.
    await p.goto(`${server.url}/step-up?next=%2Foperators&why=operator-add`);
    await stepUp();
  }
  // The step-up rotated the session id; the session goes on.
  await p.goto(`${server.url}/`);
  assert.equal(await heading(p), 'Hello, Ops Admin');
  await signOut(p, server.url);
});

test('the operator added in the console enrols from the link shown and sees only their role', async () => {
  assert.ok(lena.link, 'the previous test showed a link');
  const { page: p } = await page();
  await p.goto(lena.link);
  assert.equal(await heading(p), 'Set up your account, Lena Park');
  assert.match(await p.locator('main').textContent(), /lena@shop\.example/);
  lena.auth = new Authenticator((await p.locator('code.secret').textContent()).trim());
  // Her own name in the password is refused.
  await p.getByLabel(/^Password/).fill('LenaPark2024');
  await p.getByLabel('The 6-digit code the app now shows').fill(lena.auth.peek());
  let r = await submit(p, 'Finish set-up');
  assert.equal(r.status(), 400);
  assert.match(await alertText(p), /contains your name, id or e-mail address/);
  await p.getByLabel(/^Password/).fill(STRONG_PASSWORD);
  await p.getByLabel('The 6-digit code the app now shows').fill((await lena.auth.take()).code);
  r = await submit(p, 'Finish set-up');
  assert.equal(await heading(p), 'Your account is ready');

  r = await signIn(p, server.url, { account: 'lena@shop.example', code: (await lena.auth.take()).code });
  assert.equal(r.status(), 200);
  assert.equal(await heading(p), 'Hello, Lena Park');
  assert.ok(await p.getByRole('heading', { name: 'Letters awaiting legal approval' }).isVisible());
  const nav = p.getByRole('navigation', { name: 'Main' });
  assert.equal(await nav.getByRole('link', { name: 'Operators' }).count(), 0, 'no Operators link for legal');
  await visit(p, 'home-legal');

  r = await p.goto(`${server.url}/operators`);
  assert.equal(r.status(), 403);
  assert.equal(await heading(p), 'Not for your role');
  await visit(p, 'message-not-for-your-role');

  await p.goto(`${server.url}/sessions`);
  assert.equal(await heading(p), 'Your sessions', 'only her own sessions');
  assert.equal(await p.locator('tbody tr').count(), 1);
  await signOut(p, server.url);
});

test('step-up returns only to a page of this site', async (t) => {
  const { page: p, problems } = await page();
  const other = await otherSite('<!doctype html><html lang="en"><title>Sign in</title><h1>Not Bulwark</h1></html>');
  try {
    const r = await signIn(p, server.url, { account: sam.id, code: sam.codes[0] });
    assert.equal(r.status(), 200);
    assert.ok(await p.getByRole('heading', { name: 'Public updates' }).isVisible(), 'the PR home');
    await visit(p, 'home-pr-comms');
    // A tab inside the path: browsers drop tabs and newlines from URLs, so
    // `/<TAB>/host/x` is `//host/x`, another site.
    const next = `/\t/127.0.0.1:${other.port}/phish`;
    await p.goto(`${server.url}/step-up?next=${encodeURIComponent(next)}&why=letters-approve`);
    assert.equal(await heading(p), 'Confirm it is you');
    await visit(p, 'step-up-next');
    // What the server answers, seen on the way (the browser gets it as is).
    let location = null;
    await p.route(`${server.url}/step-up`, async (route) => {
      const answer = await route.fetch({ maxRedirects: 0 });
      location = answer.headers().location ?? null;
      await route.fulfill({ response: answer });
    });
    const failed = [];
    p.on('requestfailed', (x) => failed.push(`${x.url()}: ${x.failure()?.errorText}`));
    await p.getByLabel('Code from your authenticator app').fill((await sam.auth.take()).code);
    const csp = /violates the following Content Security Policy directive: "form-action 'self'"/;
    const cspReport = p.waitForEvent('console', { predicate: (m) => csp.test(m.text()), timeout: 10_000 })
      .catch(() => null);
    // Settled when the redirect is refused or followed, wherever it leads.
    const settled = Promise.race([
      p.waitForEvent('requestfailed', { timeout: 10_000 }),
      p.waitForEvent('framenavigated', {
        predicate: (f) => f === p.mainFrame() && !f.url().startsWith(`${server.url}/step-up`),
        timeout: 10_000,
      }),
    ]);
    await p.getByRole('button', { name: 'Confirm' }).click();
    await settled;
    await p.waitForLoadState();
    assert.ok(location !== null, 'the step-up was accepted with a redirect');
    // The page's `form-action 'self'` makes Chromium refuse to follow a form's
    // redirect off the site: the browser stays, and says why.
    assert.equal(other.hits(), 0, `the browser went to the other site (${p.url()}; Location ${JSON.stringify(location)})`);
    assert.equal(new URL(p.url()).origin, server.url);
    if (new URL(location, server.url).origin !== server.url) {
      assert.ok(await cspReport, `blocked by the CSP (failed: ${failed.join(', ')})`);
      // Expected here: not a problem of the page.
      problems.splice(0, problems.length, ...problems.filter((x) => !csp.test(x)));
    }

    await t.test('the server redirects only to a path of this site', () => {
      const target = new URL(location, server.url);
      assert.equal(target.origin, server.url, `Location: ${JSON.stringify(location)} leads to ${target.href}`);
    });
  } finally {
    await other.close();
  }
});

test('no page logged a console error, a CSP violation or a failed load', () => {
  const problems = open.flatMap((p) => p.problems);
  assert.deepEqual(problems, []);
});
