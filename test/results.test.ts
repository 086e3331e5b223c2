// The results module without a server: the one rule of a failing run, --baseline
// counting with it, the report.json parser (a good file, an unknown schema
// version, not JSON, missing fields, a version 1 file) and a case of the user's
// own family rendered in report.md, junit.xml and the matrix from its result alone.
import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tmp from 'tmp-promise';
import { compareBaseline, parseBaseline } from '../harness/report/baseline.ts';
import { isHarnessError } from '../harness/errors.ts';
import { buildServerDoc } from '../harness/report/content.ts';
import { renderHtml, renderMatrix } from '../harness/report/html.ts';
import { renderJunit } from '../harness/report/junit.ts';
import { renderMarkdown } from '../harness/report/markdown.ts';
import { parseReport, readReportFile } from '../harness/report/read.ts';
import { writeServerReport } from '../harness/report/files.ts';
import { familiesOf, REPORT_SCHEMA_VERSION, runFails, summarize, VERDICTS, type CaseResult, type ServerReport, type Verdict } from '../harness/run/results.ts';

/** A judged case run of the user's own family: nothing about it is in the catalogue. */
function userResult(overrides: Partial<CaseResult> = {}): CaseResult {
  return {
    id: 'acme::health-is-public', title: 'serves /health without a client certificate', family: 'acme', severity: 'medium', core: false,
    about: {
      why: 'The load balancer probes /health without a certificate; refusing it takes the service out of rotation.',
      references: [{ title: 'Acme runbook: health checks', url: 'https://wiki.acme.example/health' }, { title: 'a reference that is not a web address', url: 'javascript:alert(1)' }],
      requires: ['path-authz'], preferredAlert: 'certificate_required', policy: 'Acme keeps /health public on every service.',
    },
    tls: '1.3', level: 'requirement', expected: 'accept', outcome: 'accepted', verdict: 'pass', message: "client none requesting /health: served (HTTP 200)",
    checks: [{ label: 'client none requesting /health', expected: 'accept', ok: true, observed: 'served (HTTP 200)' }],
    evidence: {}, pki: [{ name: 'root', subject: '/CN=Acme Root CA', issuer: 'root', summary: 'ec-p256' }], replay: '#!/usr/bin/env bash\n',
    openssl: { processes: 1, ms: 3 }, ms: 12, startedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function reportOf(cases: CaseResult[], server = 'acme-api'): ServerReport {
  return { server, capabilities: ['path-authz'], summary: summarize(cases), staleExpectations: [], cases };
}

/** The one-line message a parse fails with. */
function parseError(text: string): string {
  try {
    parseReport(text, 'old/report.json', '--baseline');
  } catch (error) {
    if (isHarnessError(error)) {
      expect(error.code).to.equal('ERR_MTLS_REPORT');
      return error.oneLine();
    }
    throw error;
  }
  throw new Error('the report was accepted');
}

describe('results', function () {
  it('fails a run on a failing verdict or a stale expectation, never on a warning, known deviation or not-applicable', function () {
    const run = (verdicts: Verdict[], stale: string[] = []): boolean => runFails({ summary: summarize(verdicts.map((verdict) => ({ verdict }))), staleExpectations: stale });
    expect(run(['pass', 'warning', 'expected-fail', 'not-applicable'])).to.equal(false);
    for (const v of ['fail', 'error', 'unexpected-pass'] as const) expect(run(['pass', v]), v).to.equal(true);
    expect(run(['pass'], ['trust::gone'])).to.equal(true);
    expect(run([])).to.equal(false);
    const s = summarize(VERDICTS.map((verdict) => ({ verdict })));
    expect(s).to.deep.equal({ passed: 1, failed: 3, skipped: 3, expectedFailures: 1, unexpectedPasses: 1, notApplicable: 1, errors: 1, warnings: 1 });
  });

  it('--baseline counts newly failing and newly passing with the same rule as the exit code', function () {
    const pairs: [Verdict, Verdict][] = [['pass', 'fail'], ['expected-fail', 'unexpected-pass'], ['warning', 'error'], ['error', 'pass'], ['unexpected-pass', 'pass'], ['fail', 'expected-fail'], ['pass', 'warning'], ['pass', 'not-applicable']];
    const now = pairs.map(([, after], i) => userResult({ id: `acme::case-${i}`, verdict: after }));
    const before = reportOf(pairs.map(([was], i) => userResult({ id: `acme::case-${i}`, verdict: was })));
    const diff = compareBaseline(parseBaseline(JSON.stringify({ schemaVersion: REPORT_SCHEMA_VERSION, ...before }), 'before.json'), reportOf(now));
    const names = (changes: typeof diff.newlyFailing): string[] => changes.map((c) => `${c.before}→${c.after}`);
    expect(names(diff.newlyFailing)).to.deep.equal(['pass→fail', 'expected-fail→unexpected-pass', 'warning→error']);
    expect(names(diff.newlyPassing)).to.deep.equal(['error→pass', 'unexpected-pass→pass']);
    expect(names(diff.changed)).to.deep.equal(['fail→expected-fail', 'pass→warning', 'pass→not-applicable']);
  });

  describe('the report.json parser', function () {
    it('reads back a report.json the writer wrote, schema version and all', async function () {
      await tmp.withDir(async ({ path: dir }) => {
        const report = reportOf([userResult(), userResult({ tls: '1.2', verdict: 'fail', message: 'expected the client to be served; it was refused' })]);
        await writeServerReport(dir, report);
        const file = path.join(dir, 'acme-api', 'report.json');
        expect((JSON.parse(await readFile(file, 'utf8')) as { schemaVersion: unknown }).schemaVersion).to.equal(REPORT_SCHEMA_VERSION);
        const read = await readReportFile(file);
        expect(read.report).to.deep.equal(report);
        expect(read.report).not.to.have.property('schemaVersion');
      }, { unsafeCleanup: true });
    });

    it('refuses an unknown schema version, saying which versions it reads', function () {
      const text = JSON.stringify({ schemaVersion: 99, ...reportOf([userResult()]) });
      expect(parseError(text)).to.equal(`--baseline old/report.json: has schemaVersion 99, which this mtls-conformance does not read (it reads 1 to ${REPORT_SCHEMA_VERSION}); read it with the mtls-conformance version that wrote it, or run the suite again`);
      expect(parseError(JSON.stringify({ schemaVersion: '2', ...reportOf([userResult()]) }))).to.match(/^--baseline old\/report\.json: has a schemaVersion that is not a whole number \("2"\); pass a report\.json/);
    });

    it('refuses a file that is not JSON, or not a report, in one line', function () {
      expect(parseError('{"server": "x",')).to.match(/^--baseline old\/report\.json: is not valid JSON \([^)\n]+\); pass a report\.json written by mtls-conformance \(<report-dir>\/<server>\/report\.json\)$/);
      expect(parseError('[1, 2]')).to.match(/: is not a JSON object \(is it a report\.json\?\);/);
      expect(parseError('{"name": "my-package", "version": "1.0.0"}')).to.match(/: has no "server" name/);
    });

    it('names the field a report lacks', function () {
      const good = { schemaVersion: REPORT_SCHEMA_VERSION, ...reportOf([userResult()]) };
      const without = (mutate: (r: Record<string, unknown> & { cases?: Record<string, unknown>[] }) => void): string => {
        const copy = JSON.parse(JSON.stringify(good)) as Record<string, unknown> & { cases?: Record<string, unknown>[] };
        mutate(copy);
        return parseError(JSON.stringify(copy));
      };
      expect(without((r) => { delete r.cases; })).to.match(/: has no "cases" list/);
      expect(without((r) => { delete (r['summary'] as Record<string, unknown>)['warnings']; })).to.match(/: has no number "summary\.warnings"/);
      expect(without((r) => { delete r.cases?.[0]?.['verdict']; })).to.match(/: cases\[0\] \(acme::health-is-public\) has verdict undefined, not one of pass, fail,/);
      expect(without((r) => { const first = r.cases?.[0]; if (first) first['verdict'] = 'great'; })).to.match(/has verdict "great"/);
      expect(without((r) => { delete r.cases?.[0]?.['checks']; })).to.match(/cases\[0\] \(acme::health-is-public\) has no "checks" list/);
      expect(without((r) => { delete r.cases?.[0]?.['about']; })).to.match(/cases\[0\] \(acme::health-is-public\) has no "about" with a string "why"/);
    });

    it('reads a version 1 report (no schemaVersion, no case metadata) for --baseline and merge', function () {
      const { about: _about, ...old } = userResult();
      const { warnings: _w, ...summary } = summarize([userResult()]);
      const report = parseReport(JSON.stringify({ ...reportOf([]), summary, cases: [old] }), 'v1.json');
      expect(report.cases[0]?.about).to.deep.equal({ why: '' });
      expect(report.summary.warnings).to.equal(0);
    });
  });

  it('renders a case of the user\'s own family in report.md, junit.xml and the matrix from its result alone', function () {
    const report = reportOf([userResult({ tls: '1.2' }), userResult()]);
    expect(familiesOf([{ family: 'acme' }, { family: 'trust' }, { family: 'zeta' }, { family: 'acme' }])).to.deep.equal(['trust', 'acme', 'zeta']);
    const md = renderMarkdown(buildServerDoc(report, {}));
    expect(md).to.include('| [acme](#family-acme) | 2 | 0 | 0 | 0 | 0 |');
    expect(md).to.include('## acme');
    expect(md).to.include('### ✓ serves /health without a client certificate');
    expect(md).to.include('`acme::health-is-public` · severity medium · needs path-authz');
    expect(md).to.include('**Why it matters.** The load balancer probes /health without a certificate');
    expect(md).to.include('**Policy.** Acme keeps /health public on every service.');
    expect(md).to.include('- [Acme runbook: health checks](https://wiki.acme.example/health)');
    // Only web addresses become links: a report.json may come from anyone.
    expect(md).to.include('- a reference that is not a web address (javascript:alert(1))');
    const html = renderHtml(buildServerDoc(report, {}));
    expect(html).to.include('<a href="https://wiki.acme.example/health">');
    expect(html).not.to.include('href="javascript:');
    const junit = renderJunit(report);
    expect(junit).to.include('<testsuite name="acme-api: acme" tests="2" failures="0" errors="0" skipped="0"');
    expect(junit).to.include('<testcase classname="acme-api.acme" name="acme::health-is-public [TLS 1.3] serves /health without a client certificate"');
    const matrix = renderMatrix([report], { href: (server, id) => `${server}/report.html#${id}` });
    expect(matrix).to.include('<tr data-case="acme::health-is-public" data-family="acme" data-severity="medium">');
    expect(matrix).to.include('<option value="acme">acme</option>');
  });

  it('junit.xml counts failures and errors apart, with the run\'s failing verdicts between them', async function () {
    const report = reportOf([userResult({ verdict: 'fail' }), userResult({ tls: '1.2', verdict: 'error' }), userResult({ id: 'acme::other', verdict: 'unexpected-pass' }), userResult({ id: 'acme::third', verdict: 'warning' })]);
    expect(renderJunit(report)).to.include('tests="4" failures="2" errors="1" skipped="1">');
    await tmp.withDir(async ({ path: dir }) => {
      const file = path.join(dir, 'r.json');
      await writeFile(file, JSON.stringify({ schemaVersion: REPORT_SCHEMA_VERSION, ...report }));
      expect(runFails((await readReportFile(file)).report)).to.equal(true);
    }, { unsafeCleanup: true });
  });
});
