// The Payment pages in a real browser: a test store's checkout served on
// loopback, crawled from the console ("Crawl now"), its scripts authorised
// through the page's form; a script another script injects at run time then
// shows up as new with an incident; a CSP report whose script sample is
// markup is shown as text on the Alerts page, never rendered. Axe-clean, with
// screenshots.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { enrolDirectly, launch, newPage, signIn, startServer, submit, visit } from './helpers.js';

let server;
let browser;
let shop;
const files = new Map();

before(async () => {
  shop = createServer((req, res) => {
    const path = req.url.split('?')[0];
    const f = files.get(path);
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-store' });
    res.end(f.body);
  });
  await new Promise((done) => shop.listen(0, '127.0.0.1', done));
  [server, browser] = await Promise.all([
    startServer({ name: 'pagewatch', detection: true, args: ['--no-pagewatch'] }),
    launch(),
  ]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  shop?.close();
});

test('a checkout is crawled, authorised and an injected script caught from the console', async () => {
  const base = `http://127.0.0.1:${shop.address().port}`;
  files.set('/checkout', { type: 'text/html', body: '<!doctype html><title>Checkout</title><script src="/app.js"></script><form><input name="cc_number" aria-label="Card"></form>' });
  files.set('/app.js', { type: 'application/javascript', body: 'window.cart = 1;' });
  files.set('/skim.js', { type: 'application/javascript', body: "new Image().src = 'http://cdn-pay.localhost:1/c.gif';" });
  let r = await server.api('POST', '/v1/pagewatch/pages', { body: { url: `${base}/checkout`, name: 'checkout' } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const token = r.body.report_token;

  const { auth } = await enrolDirectly(server.enrolmentUrl);
  const { page: p, problems } = await newPage(browser);
  await signIn(p, server.url, { account: 'owner', code: (await auth.take()).code });
  await p.goto(`${server.url}/pagewatch`);
  assert.match(await p.locator('main').textContent(), /not crawled yet/);
  await visit(p, 'pagewatch-list');
  await Promise.all([p.waitForNavigation(), p.getByRole('link', { name: 'checkout' }).click()]);

  // The baseline: the store's script is inventoried as new.
  await submit(p, 'Crawl now');
  assert.match(await p.getByRole('status').textContent(), /Run \d+ recorded: 1 scripts/);
  const scripts = p.getByRole('table', { name: 'Scripts' });
  // The row of one script, by its name in the first cell (not the "loaded by" column).
  const exact = (u) => new RegExp(`^${u.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const scriptRow = (u) => scripts.getByRole('row').filter({ has: p.locator('td:first-child > code', { hasText: exact(u) }) });
  const row = scriptRow(`${base}/app.js`);
  assert.match(await row.textContent(), /new/);
  await row.getByLabel('Owner').fill('web team');
  await row.getByLabel('Justification').fill('the cart');
  await submit(p, 'Authorise');
  assert.match(await scriptRow(`${base}/app.js`).textContent(), /authorised/);

  // The attacker's loader: the skimmer appears only at run time.
  files.set('/app.js', { type: 'application/javascript', body: "window.cart = 1; var s = document.createElement('script'); s.src = '/skim.js'; document.head.appendChild(s);" });
  await submit(p, 'Crawl now');
  assert.match(await p.getByRole('status').textContent(), /incident \d+ with the evidence/);
  assert.match(await scriptRow(`${base}/skim.js`).textContent(), /new/);
  assert.match(await scriptRow(`${base}/app.js`).textContent(), /changed/);
  assert.equal(await p.getByRole('link', { name: /incident \d+/ }).count(), 1);
  await visit(p, 'pagewatch-page');

  // A CSP report with markup in its sample: text on the Alerts page.
  const hostile = '<img src=x id=injected onerror="document.title=1">';
  r = await server.api('POST', `/v1/csp-reports/${token}`, {
    type: 'application/csp-report',
    body: JSON.stringify({ 'csp-report': {
      'document-uri': `${base}/checkout`, 'effective-directive': 'script-src-elem',
      'blocked-uri': 'https://cdn.evil.example/skim.js', 'script-sample': hostile,
      'source-file': `${base}/<b id=bold>x</b>.js`,
    } }),
  });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await p.goto(`${server.url}/alerts`);
  assert.equal(await p.locator('#injected').count(), 0);
  assert.equal(await p.locator('main img').count(), 0);
  assert.equal(await p.locator('#bold').count(), 0);
  // The alert names the blocked host and the page's own fields, as text.
  const csp = p.getByRole('row').filter({ hasText: 'csp:checkout' });
  assert.match(await csp.textContent(), /bulwark\.csp\.blocked\.host=cdn\.evil\.example/);
  await visit(p, 'pagewatch-alerts');
  assert.deepEqual(problems, []);
});
