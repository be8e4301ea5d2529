// The Compliance page in a real browser: a quarterly external scan recorded
// with its ASV report uploaded through the page's form, the report then
// listed with its hash and downloaded back byte for byte; axe-clean, with a
// screenshot of the page after the upload; then the open findings of a
// discovered asset listed as tasks with their due dates.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { enrolDirectly, launch, newPage, signIn, startServer, visit } from './helpers.js';

let server;
let browser;

before(async () => {
  [server, browser] = await Promise.all([startServer({ name: 'compliance' }), launch()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a scan report uploaded on the Compliance page is kept, listed and downloads intact', async () => {
  const { auth } = await enrolDirectly(server.enrolmentUrl);
  const { page: p, problems } = await newPage(browser);
  await signIn(p, server.url, { account: 'owner', code: (await auth.take()).code });
  const res = await p.goto(`${server.url}/compliance`);
  assert.equal(res.status(), 200);
  const row = p.getByRole('row').filter({ hasText: 'pci-11.3.2-external-scan' });
  assert.equal(await row.count(), 1);

  // Without the report: refused, saying so.
  await Promise.all([p.waitForNavigation(), row.getByRole('button', { name: 'Record' }).click()]);
  assert.match(await p.content(), /attach the file/);

  const report = Buffer.from('%PDF-1.7\n% ASV external scan, Q4: PASS <b>no findings</b>\n');
  const again = p.getByRole('row').filter({ hasText: 'pci-11.3.2-external-scan' });
  await again.getByLabel('Reference').fill('Acme ASV, scan 2026-Q4');
  await again.getByLabel('Report or document').setInputFiles({
    name: 'asv-2026-q4.pdf', mimeType: 'application/pdf', buffer: report,
  });
  await Promise.all([p.waitForNavigation(), again.getByRole('button', { name: 'Record' }).click()]);
  const text = await p.locator('main').textContent();
  assert.match(text, /pci-11\.3\.2-external-scan recorded as done on \d{4}-\d{2}-\d{2}; next due/);

  // Listed among the completions with its file and hash; the file comes back as sent.
  const link = p.getByRole('link', { name: 'asv-2026-q4.pdf' });
  assert.equal(await link.count(), 1);
  const done = p.getByRole('row').filter({ has: link });
  assert.match(await done.textContent(), /scan_report/);
  assert.match(await done.textContent(), /Acme ASV, scan 2026-Q4/);
  assert.match(await done.textContent(), /sha256 [0-9a-f]{16}…/);
  const download = await p.request.get(new URL(await link.getAttribute('href'), server.url).href);
  assert.equal(download.status(), 200);
  assert.match(download.headers()['content-disposition'], /attachment/);
  assert.deepEqual(Buffer.from(await download.body()), report);
  // The report's markup is never rendered into the page.
  assert.equal(await p.locator('main b').count(), 0);
  await visit(p, 'compliance-report-uploaded');
  assert.deepEqual(problems, []);

  // What discovery saved into the asset inventory shows as tasks: a stored
  // PAN found three days ago is overdue; markup in a column name stays text.
  const day = (d) => new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
  const finding = (code, severity, column, seen) => ({
    code, severity, table: 'wp_wc_orders', column, requirement: `PCI DSS v4.0.1 ${code}`, first_seen: seen,
  });
  await writeFile(join(server.data, 'assets.json'), JSON.stringify([{
    name: 'woo', elements: ['email', 'card_number'], customers: 60, hosting: 'OVH', owner: 'ecommerce',
    facts: {
      source: 'sqlite:shop.db', scanned_at: new Date().toISOString(), columns: [],
      findings: [finding('stored-pan', 'critical', 'cc_number', day(3)),
        finding('weak-password-hash', 'high', '<b>user_pass</b>', day(0))],
    },
  }]));
  await p.goto(`${server.url}/compliance`);
  const pan = p.getByRole('row').filter({ hasText: 'stored-pan' });
  assert.equal(await pan.count(), 1);
  assert.match(await pan.textContent(), /woo: wp_wc_orders\.cc_number/);
  assert.match(await pan.textContent(), /overdue 3 days/);
  const weak = p.getByRole('row').filter({ hasText: 'weak-password-hash' });
  assert.match(await weak.textContent(), /<b>user_pass<\/b>/);
  assert.doesNotMatch(await weak.textContent(), /overdue/);
  assert.equal(await p.locator('main b').count(), 0);
  await visit(p, 'compliance-findings');
  assert.deepEqual(problems, []);
});
