// A whole incident in a real browser, against one `bulwark serve` with live
// detection and its built-in sender pointed at a real SMTP server on loopback
// (tests/fixtures/smtp_sink.py): customers and a "stolen" API key that reveals
// them are set up through the HTTP API, an SQL injection in the web log raises
// an alert; in the console the incident commander opens an incident from the
// alert and assigns legal, the scope is computed from the stolen key's reads,
// legal reads the deadlines and the scope, renders the letters, checks the
// sample and approves after step-up; the letters reach the SMTP server once
// each; customer service answers "was I affected?" and the lookup is on the
// audit page. Every page reached is checked with axe-core and screenshotted
// into target/browser/incident-*.png. The tests run in order and share the
// server and the accounts.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  BIN, alertText, enrolInBrowser, heading, launch, newPage, signIn, startServer,
  startSmtpSink, submit, visit,
} from './helpers.js';

/** `serve --step-up-window`: short, so that approving letters asks for step-up. */
const STEP_UP = { flag: '10s', ms: 10_000 };
const FROM = 'Example Shop <privacy@shop.example>';
const ALERT_TITLE = 'SQL Injection Attempt On The Storefront';
/** The notice facts legal types in (TOML; as crates/server/tests/it/console.rs). */
const FACTS = `store = "Example Shop"
what_happened = "An attacker used a stolen storefront API key to read customer records."
breach_start = "2026-11-01"
store_actions = "We revoked the key and reset every affected password."
consequences = "Your e-mail address and password could be used to sign in to your account."
[contact]
phone = "1-800-555-0100"
email = "privacy@shop.example"
`;

/** Californians; the first three are read with the stolen key, the last is not. */
const CUSTOMERS = [
  { name: 'Ada Quillfeather', email: 'ada.quillfeather@example.test' },
  { name: 'Bartholomew Ingersoll', email: 'bart.ingersoll@example.test' },
  { name: 'Constance Yarrowby', email: 'constance.yarrowby@example.test' },
  { name: 'Desmond Untouched', email: 'desmond.untouched@example.test' },
];
const REVEALED = CUSTOMERS.slice(0, 3);
const UNTOUCHED = CUSTOMERS[3];

let sink;
let server;
let browser;
const open = [];
/** Routes of the API by operation id, from its OpenAPI document. */
const routes = {};
/** What the tests learn as they go. */
const keys = {};
let alertId;
let incidentId;
const owner = { id: 'owner', name: 'Store owner' };
const legal = { id: 'lena', name: 'Lena Park', roles: ['legal'], email: 'lena@shop.example' };
const ic = { id: 'ivan', name: 'Ivan Okafor', roles: ['incident_commander', 'security_lead'] };
const cs = { id: 'cara', name: 'Cara Mendes', roles: ['customer_service'] };

async function page() {
  const p = await newPage(browser);
  open.push(p);
  return p;
}

/** `serve` flags of this file (the step-up window flag must exist). */
function serveArgs(smtpPort) {
  const help = execFileSync(BIN, ['serve', '--help'], { encoding: 'utf8' });
  assert.match(help, /--step-up-window/, 'serve offers --step-up-window (approval needs step-up within this test)');
  return [
    // Only a critical alert opens an incident by itself: the commander opens
    // this one from the high SQL injection alert, in the console.
    '--auto-open-level', 'critical',
    '--smtp', `127.0.0.1:${smtpPort}`, '--smtp-security', 'none', '--smtp-from', FROM,
    '--poll-every', '1',
    '--step-up-window', STEP_UP.flag,
  ];
}

/** A call of the API operation `operationId` (path parameters from `params`). */
function call(operationId, { params = {}, query = '', ...rest } = {}) {
  const r = routes[operationId];
  assert.ok(r, `the OpenAPI document has ${operationId}`);
  const path = r.path.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k]));
  return server.api(r.method, path + query, rest);
}

/** Clicks `locator` (a button) and waits for the page it leads to. */
async function clickThrough(p, locator) {
  const [response] = await Promise.all([p.waitForNavigation(), locator.click()]);
  return response;
}

/** Follows a link of the main navigation. */
async function nav(p, name) {
  await clickThrough(p, p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }));
}

/** Follows a tab of the incident's navigation. */
async function tab(p, name) {
  await clickThrough(p, p.getByRole('navigation', { name: 'This incident' }).getByRole('link', { name, exact: true }));
}

async function until(what, check, { timeout = 20_000, every = 250 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

/** Fails if `text` holds a customer's name, surname or e-mail address. */
function noCustomerData(text, where) {
  for (const c of CUSTOMERS) {
    for (const v of [c.name, c.email, c.name.split(' ')[1]]) {
      assert.ok(!text.includes(v), `${where} shows ${JSON.stringify(v)}`);
    }
  }
}

before(async () => {
  sink = await startSmtpSink({ name: 'incident' });
  [server, browser] = await Promise.all([
    startServer({ name: 'incident', detection: true, args: serveArgs(sink.port) }),
    launch(),
  ]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await sink?.stop();
});

test('through the API: customers, a key that reads them, and an SQL injection that raises an alert', async () => {
  // The routes, from the document the server publishes.
  const doc = await server.api('GET', '/v1/openapi.json');
  assert.equal(doc.status, 200);
  for (const [path, ops] of Object.entries(doc.body.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (op.operationId) routes[op.operationId] = { method: method.toUpperCase(), path };
    }
  }
  const schema = doc.body.components.schemas.NewCustomer;
  const elements = schema.properties.fields.propertyNames.enum;
  for (const e of ['name', 'email', 'password']) assert.ok(elements.includes(e), `element ${e}`);

  const started = new Date(Date.now() - 60_000).toISOString();
  for (const c of CUSTOMERS) {
    const r = await call('create_customer', {
      body: {
        residency: { country: 'US', subdivision: 'US-CA' },
        // The store keeps password hashes; the vault seals them like any element.
        fields: { name: c.name, email: c.email, password: `$argon2id$v=19$m=65536,t=3,p=4$${Buffer.from(c.email).toString('base64url')}` },
      },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    c.id = r.body.id;
  }

  // The storefront's key, which an attacker steals and reads customers with.
  let r = await call('create_key', {
    body: { name: 'storefront app', scopes: ['vault:read', 'vault:reveal:name', 'vault:reveal:email', 'vault:reveal:password'] },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  keys.stolen = r.body;
  for (const c of REVEALED) {
    r = await call('get_customer', {
      params: { id: c.id }, query: '?fields=name,email,password', key: keys.stolen.key,
      headers: { 'x-bulwark-purpose': 'order support' },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.fields.email, c.email);
  }

  // The web server's log, shipped as JSON lines: one request is an SQL injection.
  r = await call('create_key', { body: { name: 'log shipper', scopes: ['events:write'] } });
  assert.equal(r.status, 201);
  keys.events = r.body;
  const now = new Date().toISOString();
  const lines = [
    { '@timestamp': now, 'source.ip': '203.0.113.77', 'http.request.method': 'GET', 'url.original': '/products?page=2', 'url.path': '/products', 'http.response.status_code': 200 },
    { '@timestamp': now, 'source.ip': '203.0.113.77', 'http.request.method': 'GET', 'url.original': '/products?id=1%27+OR+1=1--', 'url.path': '/products', 'http.response.status_code': 200 },
  ].map((l) => JSON.stringify(l)).join('\n');
  r = await call('ingest_events', { query: '?category=webserver', key: keys.events.key, body: lines, type: 'application/x-ndjson' });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal(r.body.accepted, 2);
  assert.equal(r.body.detections, 1, 'the SQL injection, and only it');
  assert.equal(r.body.new_alerts.length, 1);
  [alertId] = r.body.new_alerts;

  r = await call('list_alerts');
  assert.equal(r.status, 200);
  const alert = r.body.items.find((a) => a.id === alertId);
  assert.equal(alert?.rule_title, ALERT_TITLE);
  assert.equal(alert.level, 'high');

  // The responders' automation key: scope from the access log is audit data.
  r = await call('create_key', { body: { name: 'incident response', scopes: ['incidents:*', 'audit:read'] } });
  assert.equal(r.status, 201);
  keys.ir = r.body;
  keys.ir.since = started;
  r = await call('list_incidents', { key: keys.ir.key });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.items, [], 'no incident opened by itself (--auto-open-level critical)');
});

test('the first operator enrols; the team is added with `bulwark operators add` and each enrols from their link', async () => {
  const { page: p } = await page();
  owner.page = p;
  Object.assign(owner, await enrolInBrowser(p, server.enrolmentUrl, { name: owner.name }));
  let r = await signIn(p, server.url, { account: owner.id, code: (await owner.auth.take()).code });
  assert.equal(r.status(), 200);
  assert.equal(await heading(p), `Hello, ${owner.name}`);

  for (const op of [legal, ic, cs]) {
    op.link = await server.addOperator(op);
    assert.ok(op.link.startsWith(`${server.url}/enrol/`), op.link);
  }
  await Promise.all([legal, ic, cs].map(async (op) => {
    const { page: q } = await page();
    op.page = q;
    Object.assign(op, await enrolInBrowser(q, op.link, { name: op.name }));
  }));

  r = await p.goto(`${server.url}/operators`);
  assert.equal(r.status(), 200);
  for (const op of [legal, ic, cs]) {
    const row = p.getByRole('row').filter({ hasText: op.name });
    assert.match(await row.textContent(), /active/, `${op.id} is enrolled`);
  }
});

test('the incident commander opens an incident from the alert, assigns legal and adds a note', async (t) => {
  const p = ic.page;
  let r = await signIn(p, server.url, { account: ic.id, code: (await ic.auth.take()).code });
  assert.equal(r.status(), 200);
  assert.equal(await heading(p), `Hello, ${ic.name}`);
  assert.match(await p.getByRole('region', { name: 'Latest alerts' }).textContent(), new RegExp(ALERT_TITLE));

  await nav(p, 'Alerts');
  assert.equal(p.url(), `${server.url}/alerts`);
  assert.equal(await heading(p), 'Alerts');
  const row = p.getByRole('row').filter({ hasText: ALERT_TITLE });
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /high/);
  await visit(p, 'incident-alerts');

  await row.getByLabel('Classification').selectOption('sql_injection_exfiltration');
  r = await clickThrough(p, row.getByRole('button', { name: 'Open an incident' }));
  assert.equal(r.status(), 200, `an incident opens from an alert at the first click: ${await alertText(p)}`);
  const m = new URL(p.url()).pathname.match(/^\/incidents\/(\d+)$/);
  assert.ok(m, `lands on the incident page: ${p.url()}`);
  incidentId = Number(m[1]);
  assert.equal(await heading(p), `Incident ${incidentId}: ${ALERT_TITLE}`);
  const main = p.locator('main');
  assert.match(await main.textContent(), /SEV2/, 'a high alert is SEV2');
  assert.match(await main.textContent(), /sql injection exfiltration|SQL injection/i);
  assert.match(await p.locator('dl.facts').textContent(), new RegExp(`operator:${ic.id}`), 'opened by the commander');

  // Team: the legal operator holds the incident's legal role.
  await p.getByLabel('Role', { exact: true }).selectOption('legal');
  await p.getByLabel(/^Person/).fill(legal.id);
  r = await submit(p, 'Assign');
  assert.equal(r.status(), 200, await alertText(p));
  assert.equal(new URL(p.url()).pathname, `/incidents/${incidentId}`);
  const team = p.getByRole('region', { name: 'Team' });
  assert.match(await team.getByRole('row').filter({ hasText: /^Legal/ }).textContent(), new RegExp(legal.id));

  const note = 'Storefront key leaked in a public repository; scoping from the access log.';
  await p.getByLabel('Add a note').fill(note);
  r = await submit(p, 'Add note');
  assert.equal(r.status(), 200, await alertText(p));
  assert.match(await p.getByRole('region', { name: 'Timeline' }).textContent(), new RegExp(note));
  await visit(p, 'incident-page');

  await nav(p, 'Incidents');
  assert.equal(await heading(p), 'Incidents');
  const board = p.getByRole('row').filter({ hasText: ALERT_TITLE });
  assert.equal(await board.count(), 1);
  assert.equal(await board.getByRole('link', { name: ALERT_TITLE }).getAttribute('href'), `/incidents/${incidentId}`);
  await visit(p, 'incident-board');
});

test('the scope, computed through the API from the stolen key\'s reads, names exactly the customers it read', async (t) => {
  let r = await call('compute_scope', {
    params: { id: incidentId }, key: keys.ir.key,
    body: { principals: [`key:${keys.stolen.id}`], since: keys.ir.since },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.version, 1);
  const groups = r.body.summary.affected;
  assert.equal(groups.length, 1, JSON.stringify(groups));
  assert.equal(groups[0].jurisdiction, 'US-CA');
  assert.equal(groups[0].count, REVEALED.length);
  assert.deepEqual([...groups[0].elements].sort(), ['email', 'name', 'password']);

  r = await call('latest_scope', { params: { id: incidentId }, key: keys.ir.key });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.customers.map((c) => c.id).sort(), REVEALED.map((c) => c.id).sort());

  // The review report, as the commander sees it.
  const p = ic.page;
  await p.goto(`${server.url}/incidents/${incidentId}`);
  await tab(p, 'Review report');
  assert.equal(p.url(), `${server.url}/incidents/${incidentId}/report`);
  assert.equal(await heading(p), `Incident ${incidentId}: ${ALERT_TITLE}`);
  const report = await p.locator('pre.letter').textContent();
  assert.match(report, new RegExp(ALERT_TITLE));
  assert.match(report, /Scope v1: 3 customers affected/, 'the scope is on the timeline');
  assert.doesNotMatch(report, /No scope assessment was attached/, 'the review report carries the scope just computed');
  noCustomerData(await p.content(), 'the report');
  await visit(p, 'incident-report');
});

test('legal reads the deadlines and the scope, renders the letters and approves them after step-up', async (t) => {
  const p = legal.page;
  // Signed in with a recovery code: the next TOTP step is left for step-up.
  let r = await signIn(p, server.url, { account: legal.email, code: legal.codes[0] });
  assert.equal(r.status(), 200);
  const signedInAt = Date.now();
  assert.equal(await heading(p), `Hello, ${legal.name}`);
  await clickThrough(p, p.getByRole('region', { name: 'Open incidents' }).getByRole('link', { name: ALERT_TITLE }));
  assert.equal(p.url(), `${server.url}/incidents/${incidentId}`);

  // Deadlines: California's notice to the three individuals, with a live countdown.
  await tab(p, 'Deadlines');
  assert.equal(p.url(), `${server.url}/incidents/${incidentId}/deadlines`);
  assert.match(await p.locator('main').textContent(), /From scope version 1 \(3 people\)/);
  const ca = p.getByRole('row').filter({ hasText: 'US-CA' }).filter({ hasText: /^\s*individuals/ });
  assert.equal(await ca.count(), 1, 'one US-CA obligation to individuals');
  assert.match(await ca.textContent(), /California/);
  assert.match(await ca.textContent(), /Civ\. Code 1798\.82/);
  assert.equal((await ca.getByRole('cell').nth(2).textContent()).trim(), '3');
  const countdown = ca.locator('time[data-countdown]').first();
  await until('the countdown', async () => /^in \d+ d \d+ h \d+ min \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/.test((await countdown.textContent()).trim()), { timeout: 5000 });
  // Thirty calendar days from now (the incident was opened just now).
  const due = Date.parse(await countdown.getAttribute('datetime'));
  assert.ok(due > Date.now() + 29 * 86_400_000 && due < Date.now() + 32 * 86_400_000, `due ${new Date(due).toISOString()}`);
  assert.match(await countdown.textContent(), /^in (29|30|31) d /);
  await visit(p, 'incident-deadlines');

  await tab(p, 'Scope');
  assert.equal(p.url(), `${server.url}/incidents/${incidentId}/scope`);
  assert.match(await p.locator('main').textContent(), /Scope version 1: 3 people/);
  const group = p.getByRole('row').filter({ hasText: 'US-CA' });
  assert.match(await group.textContent(), /US-CA\s*3\s*/);
  for (const e of ['name', 'email', 'password']) assert.match(await group.textContent(), new RegExp(e));
  await visit(p, 'incident-scope');

  await tab(p, 'Letters');
  assert.equal(p.url(), `${server.url}/incidents/${incidentId}/letters`);
  assert.match(await p.locator('main').textContent(), /No letters rendered yet/);
  await visit(p, 'incident-letters-empty');

  // Render from the facts: a draft whose sample letter carries placeholders only.
  await p.getByLabel(/^Notice facts/).fill(FACTS);
  await p.getByLabel('Channel').selectOption('email');
  r = await submit(p, 'Render (nothing is sent before legal approval)');
  assert.equal(r.status(), 200, await alertText(p));
  assert.equal(p.url(), `${server.url}/incidents/${incidentId}/letters`);
  const v1 = p.getByRole('row').filter({ hasText: /^\s*v1 / });
  assert.match(await v1.textContent(), /draft/);
  assert.match(await v1.textContent(), /3 e-mail, 0 print/);
  const sample = p.locator('details').filter({ hasText: 'US-CA' });
  assert.equal(await sample.count(), 1, 'one sample for the one letter shape');
  await sample.locator('summary').click();
  const letter = await sample.locator('pre.letter').textContent();
  assert.match(letter, /\[customer name\]/);
  assert.match(letter, /Notice of Data Breach/i);
  assert.match(letter, /What Happened/);
  noCustomerData(await p.content(), 'the letters page');
  assert.deepEqual(await sink.messages(), [], 'nothing sent before approval');
  await visit(p, 'incident-letters-draft');

  // Approve: the second factor was given longer ago than the step-up window.
  const wait = signedInAt + STEP_UP.ms + 500 - Date.now();
  if (wait > 0) await sleep(wait);
  r = await submit(p, 'Approve v1');
  const stepUp = new URL(p.url());
  assert.equal(stepUp.pathname, '/step-up', 'approval asks for the second factor again');
  assert.equal(stepUp.searchParams.get('next'), `/incidents/${incidentId}/letters`);
  assert.equal(stepUp.searchParams.get('why'), 'letters-approve');
  assert.equal(await heading(p), 'Confirm it is you');
  const why = await p.locator('main').textContent();
  assert.match(why, /Approving letters needs your second factor again/);
  assert.match(why, /more than 10 seconds ago/, 'the step-up page states the window the server runs with');
  await visit(p, 'incident-step-up');
  await p.getByLabel('Code from your authenticator app').fill((await legal.auth.take()).code);
  r = await submit(p, 'Confirm');
  assert.equal(r.status(), 200, await alertText(p));
  assert.equal(p.url(), `${server.url}/incidents/${incidentId}/letters`, 'back on the letters');
  assert.match(await v1.textContent(), /draft/, 'not approved by the step-up alone');

  r = await submit(p, 'Approve v1');
  assert.equal(r.status(), 200, await alertText(p));
  assert.equal(p.url(), `${server.url}/incidents/${incidentId}/letters`);
  assert.match(await v1.textContent(), new RegExp(`approved by ${legal.id}`));
});

test('the built-in sender delivers exactly one letter per customer in scope; the Delivery table shows them sent', async () => {
  const want = REVEALED.map((c) => c.email).sort();
  await until('three letters at the SMTP server', async () => (await sink.messages()).length >= want.length, { timeout: 30_000 });
  // A few more of the sender's polls (every second): nothing is sent twice.
  await sleep(2500);
  const got = await sink.messages();
  assert.equal(got.length, want.length, `one message per customer: ${JSON.stringify(got.map((m) => m.rcpt_to))}`);
  assert.deepEqual(got.flatMap((m) => m.rcpt_to).sort(), want);
  assert.equal(new Set(got.map((m) => m.message_id)).size, got.length, 'distinct Message-IDs');
  for (const m of got) {
    const c = REVEALED.find((x) => x.email === m.rcpt_to[0]);
    assert.equal(m.mail_from, 'privacy@shop.example');
    assert.equal(m.from, FROM);
    assert.ok(m.to.includes(c.email), m.to);
    assert.ok(m.subject, 'a subject');
    assert.ok(m.text.includes(c.name), `the letter to ${c.email} names ${c.name}`);
    assert.ok(!m.text.includes('[customer name]'), 'no placeholder left');
    for (const other of CUSTOMERS.filter((x) => x !== c)) {
      assert.ok(!m.text.includes(other.name) && !m.text.includes(other.email), `the letter to ${c.email} names ${other.name}`);
    }
  }

  const p = legal.page;
  // The Delivery table's row (the versions' rows start with the version).
  const row = p.getByRole('row').filter({ hasText: /^\s*US-CA/ });
  await until('the Delivery table shows them sent', async () => {
    await p.reload();
    return (await row.count()) === 1 && /sent 3/.test(await row.textContent());
  }, { timeout: 15_000, every: 1000 });
  const text = await row.textContent();
  assert.match(text, /sent 3/);
  assert.match(text, /done/);
  assert.match(await p.locator('main').textContent(), /0 to go/);
  await visit(p, 'incident-letters-sent');
});

test('customer service looks customers up by e-mail with a purpose: affected, unknown, not affected', async () => {
  const p = cs.page;
  let r = await signIn(p, server.url, { account: cs.id, code: (await cs.auth.take()).code });
  assert.equal(r.status(), 200);
  await clickThrough(p, p.getByRole('link', { name: 'Look a customer up' }));
  assert.equal(p.url(), `${server.url}/lookup`);
  assert.equal(await heading(p), 'Was a customer affected?');
  await visit(p, 'incident-lookup');

  async function lookUp(email, purpose) {
    await p.getByLabel('Look up by').selectOption('email');
    await p.getByLabel('What the customer gave you').fill(email);
    await p.getByLabel(/^Purpose/).fill(purpose);
    const answer = await submit(p, 'Look up');
    assert.equal(answer.status(), 200, await alertText(p));
    return (await p.getByRole('status').filter({ hasText: 'Answer' }).textContent()).replace(/\s+/g, ' ');
  }

  const [ada] = REVEALED;
  let answer = await lookUp(ada.email, 'ticket 1');
  assert.match(answer, /The customer was affected/);
  assert.match(answer, new RegExp(`${incidentId}: ${ALERT_TITLE}`));
  assert.match(answer, /name, email, password|email, name, password/);
  assert.match(answer, /v1 email: sent/);
  noCustomerData(await p.content(), 'the lookup answer');
  await visit(p, 'incident-lookup-affected');

  answer = await lookUp('nobody@example.test', 'ticket 2');
  assert.match(answer, /No customer matches/);
  await visit(p, 'incident-lookup-no-match');

  answer = await lookUp(UNTOUCHED.email, 'ticket 3');
  assert.match(answer, /on file and was not affected/);
});

test('the lookups are on the audit page, in the access log with their purposes', async () => {
  const p = owner.page;
  await nav(p, 'Audit');
  assert.equal(p.url(), `${server.url}/audit`);
  assert.equal(await heading(p), 'Audit');
  const log = p.getByRole('region', { name: 'Access log (latest 100)' });
  const rows = log.getByRole('row').filter({ hasText: `operator:${cs.id}` });
  const texts = (await rows.allTextContents()).map((t) => t.replace(/\s+/g, ' '));
  assert.equal(texts.length, 3, texts.join('\n'));
  for (const [purpose, count] of [['ticket 1', 1], ['ticket 2', 0], ['ticket 3', 1]]) {
    const t = texts.find((x) => x.includes(purpose));
    assert.ok(t, `the lookup for ${purpose}: ${texts.join('\n')}`);
    assert.match(t, new RegExp(`\\(${count}\\)`), `${purpose} found ${count}`);
  }
  // The stolen key's reads and legal's rendering are there too.
  const stolen = await log.getByRole('row').filter({ hasText: `key:${keys.stolen.id}` }).allTextContents();
  assert.equal(stolen.filter((t) => t.includes('order support')).length, REVEALED.length);
  assert.ok(await log.getByRole('row').filter({ hasText: `operator:${legal.id}` }).count() >= 1, 'the render read names and addresses');
  noCustomerData(await p.content(), 'the audit page');
  await visit(p, 'incident-audit');
});

test('no page logged a console error, a CSP violation or a failed load', () => {
  const problems = open.flatMap((p) => p.problems);
  assert.deepEqual(problems, []);
});
