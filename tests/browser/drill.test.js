// A drill in a real browser, against one `bulwark serve` with live detection
// (drills need it): the administrator starts a shipped scenario from the
// Drills page at a high speed, follows the run's page until its inject has
// fired and detection raised an alert, stops it, resumes it, finishes it and
// reads the after-action report (objectives with their HSEEP ratings, the
// improvement plan). Every page reached is checked with axe-core; the run
// page and the report are screenshotted into target/browser/drill-*.png.
// The tests run in order and share the server and the account.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  alertText, enrolDirectly, enrolInBrowser, expectAccessible, heading, launch, newPage, signIn,
  startServer, submit, visit,
} from './helpers.js';

/** scenarios/stolen-api-key.yaml: one inject at 0s, 6 h long. */
const SCENARIO = {
  id: 'stolen-api-key',
  title: 'Stolen API key mass-revealing customers',
  injects: 1,
  objectives: [
    'Detect the harvesting',
    'Revoke the key and stop the reveals',
    'Know exactly whose data was revealed',
  ],
  rule: 'Mass Vault Reveals By One Principal',
};
/**
 * 120 times the scenario's clock: its 6 hours pass in 3 minutes, its 120
 * reveals in a second. (At the form's fastest, 10000x, the run is over in
 * about two seconds, before anyone could press Stop.)
 */
const SPEED = 120;

let server;
let browser;
const open = [];
/** An administrator who also holds the team role the scenario expects to act. */
const admin = { id: 'sam', name: 'Sam Reyes', roles: ['admin', 'security_lead'] };
let runId;

async function page() {
  const p = await newPage(browser);
  open.push(p);
  return p;
}

/** Clicks `locator` (a link or button) and waits for the page it leads to. */
async function clickThrough(p, locator) {
  const [response] = await Promise.all([p.waitForNavigation(), locator.click()]);
  return response;
}

/** Reloads until `check()` holds (bounded). */
async function untilReloaded(p, what, check, { timeout = 60_000, every = 1000 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what} on ${p.url()}`);
    await sleep(every);
    await p.reload();
  }
}

/** The run's state as the page states it ("State: <strong>…</strong>"). */
async function runState(p) {
  return (await p.locator('main p').filter({ hasText: /^State:/ }).locator('strong').first().textContent()).trim();
}

/** "Injects sent: N of M." */
async function injectsSent(p) {
  const m = (await p.locator('main').textContent()).match(/Injects sent: (\d+) of (\d+)\./);
  assert.ok(m, 'the run page counts the injects sent');
  return { sent: Number(m[1]), of: Number(m[2]) };
}

/** The text of the `n`th cell of table row `row`. */
async function cell(row, n) {
  return (await row.getByRole('cell').nth(n).textContent()).trim();
}

/** The score section (its heading says "so far" while the run goes on). */
function scoreSection(p) {
  return p.getByRole('region', { name: /^Score( so far)?$/ });
}

before(async () => {
  [server, browser] = await Promise.all([startServer({ name: 'drill', detection: true }), launch()]);
  Object.assign(admin, await enrolDirectly(await server.addOperator(admin)));
  admin.page = (await page()).page;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('an administrator who is also security lead starts a shipped scenario from the Drills page at a high speed', async () => {
  // The first operator, an administrator only, reads the drills but runs none
  // (administration gives no incidents:write).
  const { page: o } = await page();
  const ownerAuth = (await enrolInBrowser(o, server.enrolmentUrl, { name: 'Store owner' })).auth;
  let r = await signIn(o, server.url, { account: 'owner', code: (await ownerAuth.take()).code });
  assert.equal(r.status(), 200);
  await clickThrough(o, o.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Drills', exact: true }));
  assert.equal(await heading(o), 'Drills');
  assert.equal(await o.getByRole('region', { name: 'Start a drill' }).count(), 0, 'no Start form without incidents:write');

  const p = admin.page;
  r = await signIn(p, server.url, { account: admin.id, code: (await admin.auth.take()).code });
  assert.equal(r.status(), 200);
  assert.equal(await heading(p), `Hello, ${admin.name}`);
  await clickThrough(p, p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Drills', exact: true }));
  assert.equal(p.url(), `${server.url}/drills`);
  assert.equal(await heading(p), 'Drills');
  assert.match(await p.locator('main').textContent(), /No drill has run yet/);
  const start = p.getByRole('region', { name: 'Start a drill' });
  assert.equal(await start.count(), 1, 'the Start form');
  assert.equal(await start.getByRole('alert').count(), 0, 'live detection: drills can run here');
  assert.equal(await p.locator('main .error').count(), 0, 'live detection: drills can run here');
  assert.ok((await start.getByLabel('Scenario').locator('option').allTextContents()).some((t) => t.startsWith(SCENARIO.title)));
  await visit(p, 'drill-list');

  // A speed the server refuses is said so, on the same page.
  await start.getByLabel('Scenario').selectOption(SCENARIO.id);
  await start.getByLabel('Speed').fill('fast');
  r = await submit(p, 'Start');
  assert.equal(r.status(), 400);
  assert.match(await alertText(p), /from 1 to 10000/);

  await start.getByLabel('Scenario').selectOption(SCENARIO.id);
  await start.getByLabel('Speed').fill(String(SPEED));
  r = await submit(p, 'Start');
  assert.equal(r.status(), 200, `started: ${await alertText(p)}`);
  const m = new URL(p.url()).pathname.match(/^\/drills\/(\d+)$/);
  assert.ok(m, `lands on the run's page: ${p.url()}`);
  runId = Number(m[1]);
});

test('the run page says it is a drill and shows the fired inject, the alert and the time to detect', async () => {
  const p = admin.page;
  const h1 = await heading(p);
  assert.match(h1, new RegExp(`^drill ${runId}\\s+${SCENARIO.title}$`), 'marked as a drill, with the scenario title');
  assert.equal(await p.locator('h1 .tag-drill').textContent(), `drill ${runId}`);
  const state = await runState(p);
  assert.ok(['running', 'finished'].includes(state), state);
  assert.match(await p.locator('main').textContent(), new RegExp(`at ${SPEED}x`));

  // The runner first makes the run's synthetic customers, then fires the
  // inject; its reveals trip the mass-reveal rule.
  const detection = scoreSection(p).getByRole('row').filter({ hasText: SCENARIO.rule });
  await untilReloaded(p, 'a fired inject and the alert', async () => {
    if ((await runState(p)) === 'finished') return true;
    const { sent } = await injectsSent(p);
    return sent >= 1 && (await detection.count()) === 1 && (await cell(detection, 2)) === 'met';
  });
  assert.deepEqual(await injectsSent(p), { sent: SCENARIO.injects, of: SCENARIO.injects });
  assert.equal(await cell(detection, 1), 'detection');
  assert.equal(await cell(detection, 3), 'system:detect');
  const score = scoreSection(p);
  const times = await score.locator('p').first().textContent();
  // Shown as the report shows them: "1m 15s", "2h 05m".
  const secs = (t) => {
    const m = t.match(/^(?:(\d+)h (\d+)m|(\d+)m (\d+)s)$/);
    assert.ok(m, `an elapsed time: ${t}`);
    return m[1] !== undefined ? Number(m[1]) * 3600 + Number(m[2]) * 60 : Number(m[3]) * 60 + Number(m[4]);
  };
  const ttd = times.match(/Time to detect: ([\dhms ]+?) \(target ([\dhms ]+?)\)/);
  assert.ok(ttd, `a time to detect: ${times}`);
  assert.ok(secs(ttd[1]) <= secs(ttd[2]), `detected within the target: ${times}`);
  assert.doesNotMatch(times, /\bnone\b/, 'no "none" where a time is not known yet');
  // The critical alert opened the drill's own incident.
  const incidents = p.getByRole('region', { name: 'Its incidents' }).getByRole('link', { name: /^Incident \d+$/ });
  assert.ok(await incidents.count() >= 1, 'the alert opened an incident of the drill');
  for (const o of SCENARIO.objectives) assert.match(await score.textContent(), new RegExp(o));
  await expectAccessible(p, 'drill-run-running');
});

test('Stop stops the run, Resume resumes it, Finish now ends and scores it', async () => {
  const p = admin.page;
  assert.equal(await runState(p), 'running', `still running at ${SPEED}x`);
  let r = await submit(p, 'Stop');
  assert.equal(r.status(), 200, await alertText(p));
  assert.equal(p.url(), `${server.url}/drills/${runId}`);
  assert.equal(await runState(p), 'stopped');
  assert.equal(await p.getByRole('button', { name: 'Stop', exact: true }).count(), 0);
  await expectAccessible(p, 'drill-run-stopped');

  r = await submit(p, 'Resume');
  assert.equal(r.status(), 200, await alertText(p));
  assert.equal(await runState(p), 'running');
  assert.equal(await p.getByRole('button', { name: 'Resume', exact: true }).count(), 0);

  r = await submit(p, 'Finish now and score');
  assert.equal(r.status(), 200, await alertText(p));
  assert.equal(p.url(), `${server.url}/drills/${runId}`);
  assert.equal(await runState(p), 'finished');
  assert.match(await p.locator('main').textContent(), /finished \d{4}-\d\d-\d\dT/);
  for (const name of ['Stop', 'Resume', 'Finish now and score']) {
    assert.equal(await p.getByRole('button', { name, exact: true }).count(), 0, `no ${name} once finished`);
  }
  const score = p.getByRole('region', { name: 'Score', exact: true });
  assert.equal(await score.count(), 1, 'the final score, no longer "so far"');
  const objectives = await score.getByRole('listitem').allTextContents();
  assert.equal(objectives.length, SCENARIO.objectives.length);
  for (const [i, o] of SCENARIO.objectives.entries()) {
    assert.match(objectives[i], new RegExp(`^${o}: [PSMU] — `), objectives[i]);
  }
  // Nobody revoked the key: containment was not performed.
  assert.match(objectives[1], /: U — Unable to be performed/);
  // No time to contain without a containment: a dash, not "none ms".
  assert.match(await score.locator('p').first().textContent(), /time to contain: — \(target \d+[hm] \d+[ms]\)/);
  await visit(p, 'drill-run');
});

test('the after-action report lists the objectives with their ratings and an improvement plan', async () => {
  const p = admin.page;
  await clickThrough(p, p.getByRole('link', { name: 'After-action report' }));
  assert.equal(p.url(), `${server.url}/drills/${runId}/report`);
  assert.equal(await heading(p), `drill ${runId} After-action report`);
  const report = await p.locator('pre.letter').textContent();
  assert.match(report, new RegExp(`After-action report — ${SCENARIO.title} \\(DRILL\\)`));
  assert.match(report, new RegExp(`Drill run ${runId} · finished`));
  assert.match(report, /## Objectives \(HSEEP ratings\)/);
  for (const o of SCENARIO.objectives) {
    assert.match(report, new RegExp(`\\| ${o} \\| \\*\\*[PSMU]\\*\\* — [A-Z][a-z]`), `${o} is rated`);
  }
  assert.match(report, /\| Revoke the key and stop the reveals \| \*\*U\*\* — Unable to be performed \|/);
  assert.match(report, /## Improvement plan\n\n1\. /, 'an improvement plan with items');
  assert.match(report, /: not done; train the role and update the playbook — owner: security_lead/);
  assert.match(report, /## Injects sent\n\n- 0s: harvest/);
  await visit(p, 'drill-report');

  // Back on the Drills page: the run, finished, and its improvement items.
  await clickThrough(p, p.getByRole('link', { name: 'Back to the run' }));
  assert.equal(p.url(), `${server.url}/drills/${runId}`);
  await clickThrough(p, p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Drills', exact: true }));
  const row = p.getByRole('region', { name: 'Runs' }).getByRole('row').filter({ hasText: SCENARIO.id });
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), new RegExp(`finished\\s*${SPEED}x`));
  const plan = p.getByRole('region', { name: 'Improvement plan' });
  assert.ok(await plan.getByRole('link', { name: `drill ${runId}` }).count() >= 1, 'the run\'s items are on the plan');
});

test('no page logged a console error, a CSP violation or a failed load', () => {
  const problems = open.flatMap((p) => p.problems);
  assert.deepEqual(problems, []);
});
