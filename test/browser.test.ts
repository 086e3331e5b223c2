// The matrix page in a real headless browser (Debian's chromium through
// playwright-core): it loads without console errors, has one row per case and
// one column per server, filters work, and a cell's link lands on the case's
// section of that server's report.
import { expect } from 'chai';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import tmp from 'tmp-promise';
import { CATALOGUE } from '../spec/index.ts';
import { anchorOf } from '../harness/report/document.ts';
import { BUILT_IN_NAMES } from '../harness/servers/index.ts';
import { reportRun, type ReportRun } from './report-fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
// Offline machine: keep chromium from reaching for the network.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe('the matrix page in chromium', function () {
  this.timeout(60_000);
  let run: ReportRun;
  let browser: BrowserContext | undefined;
  let profile: tmp.DirectoryResult | undefined;
  let page: Page;
  const problems: string[] = [];

  before(async function () {
    this.timeout(120_000);
    await access(CHROMIUM).catch(() => { throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does it)`); });
    run = await reportRun();
    profile = await tmp.dir({ prefix: 'mtls-chromium-', unsafeCleanup: true });
    // A fresh profile per run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile.path, { executablePath: CHROMIUM, args: ARGS, headless: true, timeout: 30_000 });
    page = browser.pages()[0] ?? await browser.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (msg) => { if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`); });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('request', (req) => { if (!req.url().startsWith('file:')) problems.push(`network request: ${req.url()}`); });
  });

  after(async function () {
    await browser?.close();
    await profile?.cleanup();
  });

  it('loads without console errors or network requests', async function () {
    await page.goto(pathToFileURL(path.join(run.dir, 'index.html')).href);
    expect(await page.title()).to.equal('mTLS conformance matrix');
    expect(problems).to.deep.equal([]);
  });

  it('has one row per case and one column per server, with capabilities and totals in each header', async function () {
    await page.goto(pathToFileURL(path.join(run.dir, 'index.html')).href);
    const ids = new Set(run.reports.flatMap((r) => r.cases.map((c) => c.id)));
    expect(await page.locator('#matrix tbody tr').count()).to.equal(ids.size);
    const servers = await Promise.all((await page.locator('#matrix thead th[data-server]').all()).map((th) => th.getAttribute('data-server')));
    expect(servers).to.deep.equal(run.reports.map((r) => r.server));
    for (const row of await page.locator('#matrix tbody tr').all()) {
      const id = await row.getAttribute('data-case');
      // A cell links only where that server ran the case (the broken servers run the core cases).
      expect(await row.locator('td a').count(), id ?? '').to.equal(run.reports.filter((r) => r.cases.some((c) => c.id === id)).length);
    }
    const head = await page.locator('#matrix thead th[data-server="broken-no-reject"]').innerText();
    expect(head).to.match(/capabilities: crl, crl-reload/).and.to.match(/\d+ passed · \d+ failed/);
    const cell = page.locator('#matrix tbody tr[data-case="trust::wrong-ca"] td.v-fail');
    expect(await cell.count()).to.equal(1);
  });

  it('filters rows by family and by severity', async function () {
    await page.goto(pathToFileURL(path.join(run.dir, 'index.html')).href);
    const visible = (): Promise<number> => page.locator('#matrix tbody tr:visible').count();
    const all = await visible();
    await page.selectOption('#filter-family', 'trust');
    const trust = CATALOGUE.filter((c) => c.family === 'trust');
    expect(await visible()).to.equal(trust.length).and.to.be.lessThan(all);
    await page.selectOption('#filter-severity', 'low');
    expect(await visible()).to.equal(trust.filter((c) => c.severity === 'low').length);
    await page.selectOption('#filter-family', '');
    await page.selectOption('#filter-severity', '');
    expect(await visible()).to.equal(all);
  });

  it("lands on the case's section of the server's report when a cell is clicked", async function () {
    for (const [server, id] of [['broken-no-reject', 'trust::wrong-ca'], ['invoice', 'identity::cn-logged'], ['broken-crl-dropped', 'revocation::revoked-leaf']] as const) {
      await page.goto(pathToFileURL(path.join(run.dir, 'index.html')).href);
      const column = run.reports.findIndex((r) => r.server === server);
      await page.locator(`#matrix tbody tr[data-case="${id}"] td a`).nth(column).click();
      await page.waitForURL(`**/${server}/report.html#${anchorOf(id)}`);
      const target = page.locator(':target');
      expect(await target.getAttribute('id')).to.equal(anchorOf(id));
      const title = run.reports[column]?.cases.find((c) => c.id === id)?.title ?? '';
      expect(await target.innerText()).to.include(title);
      const box = await target.boundingBox();
      expect(box?.y ?? -1, 'the section is scrolled to the top').to.be.within(-1, 50);
    }
    expect(problems).to.deep.equal([]);
  });

  it('wraps long curl commands in report.html between words, never inside one', async function () {
    await page.setViewportSize({ width: 560, height: 900 });
    try {
      await page.goto(pathToFileURL(path.join(run.dir, 'invoice', 'report.html')).href);
      // Every visual line break inside a curl command: the character before it (or at it) must be a space.
      // The page script runs in the browser (the test's TypeScript has no DOM types).
      const splits = await page.evaluate<{ found: string[]; wrapped: number }>(`(() => {
        const found = [];
        let wrapped = 0;
        for (const code of Array.from(document.querySelectorAll('pre code'))) {
          if (!(code.textContent || '').includes('\\ncurl ')) continue;
          const details = code.closest('details');
          if (details) details.open = true;
          const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
          const chars = [];
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const t = n;
            for (let i = 0; i < t.data.length; i++) chars.push({ node: t, i, ch: t.data.charAt(i) });
          }
          const range = document.createRange();
          let top;
          let curl = false;
          for (let k = 0; k < chars.length; k++) {
            const c = chars[k];
            if (k === 0 || chars[k - 1].ch === '\\n') curl = chars.slice(k, k + 5).map((x) => x.ch).join('') === 'curl ';
            if (c.ch === '\\n') { top = undefined; continue; }
            range.setStart(c.node, c.i);
            range.setEnd(c.node, c.i + 1);
            const rect = range.getClientRects()[0];
            if (!rect) continue;
            if (curl && top !== undefined && rect.top > top + 1) {
              wrapped += 1;
              const before = (chars[k - 1] || { ch: ' ' }).ch;
              if (!/\\s/.test(before) && !/\\s/.test(c.ch)) found.push(chars.slice(Math.max(0, k - 12), k).map((x) => x.ch).join('') + '|' + chars.slice(k, k + 12).map((x) => x.ch).join(''));
            }
            top = rect.top;
          }
        }
        return { found, wrapped };
      })()`);
      expect(splits.wrapped, 'the viewport is narrow enough to wrap some commands').to.be.above(0);
      expect(splits.found).to.deep.equal([]);
    } finally {
      await page.setViewportSize({ width: 1280, height: 720 });
    }
  });

  it('shows the committed docs matrix with every catalogue case and built-in server, linking into conformance.html', async function () {
    const docs = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'docs');
    await page.goto(pathToFileURL(path.join(docs, 'index.html')).href);
    expect(await page.locator('#matrix tbody tr').count()).to.equal(CATALOGUE.length);
    expect(await page.locator('#matrix thead th[data-server]').count()).to.equal(BUILT_IN_NAMES.length);
    const last = CATALOGUE[CATALOGUE.length - 1];
    if (!last) throw new Error('the catalogue is empty');
    await page.locator(`#matrix tbody tr[data-case="${last.id}"] td a`).first().click();
    await page.waitForURL(`**/conformance.html#${anchorOf(last.id)}`);
    expect(await page.locator(':target').innerText()).to.include(last.title);
    expect(problems).to.deep.equal([]);
  });
});
