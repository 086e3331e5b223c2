// Console output and --baseline: grouped by family with the refusal observed,
// a live progress count only on a terminal outside CI, and the changes since an
// earlier report.json in the console and in report.md.
import { expect } from 'chai';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tmp from 'tmp-promise';
import { compareBaseline, parseBaseline } from '../harness/report/baseline.ts';
import { main } from '../harness/cli/main.ts';
import { createProgress, formatResults, wantsProgress } from '../harness/report/console.ts';
import { reportRun, type ReportRun } from './report-fixture.ts';

async function runCli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

describe('console output and --baseline', function () {
  let run: ReportRun;
  before(async function () {
    this.timeout(120_000);
    run = await reportRun();
  });

  it('prints one line per case and TLS version under its family, with the refusal observed', function () {
    const lines = formatResults(run.reports[0] ?? { server: '', capabilities: [], summary: {} as never, staleExpectations: [], cases: [] });
    expect(lines[0]).to.equal('invoice:');
    expect(lines).to.include('  trust');
    expect(lines).to.include('    ✓ refuses a client that sends no certificate — TLS 1.3: alert certificate_required');
  });

  it('explains a failure in one sentence', function () {
    const broken = run.reports.find((r) => r.server === 'broken-no-reject');
    const lines = formatResults(broken ?? run.reports[0] as never);
    expect(lines).to.include("    ✗ refuses a client signed by another company's CA — TLS 1.3: client 'client' requesting /: expected the client to be refused; it was served the protected resource (HTTP 200) under TLS 1.3");
  });

  it('draws live progress only on a terminal outside CI', function () {
    const written: string[] = [];
    const tty = { isTTY: true, write: (t: string) => written.push(t) };
    expect(wantsProgress(tty, {})).to.equal(true);
    expect(wantsProgress(tty, { CI: 'true' })).to.equal(false);
    expect(wantsProgress({ isTTY: false, write: () => true }, {})).to.equal(false);
    createProgress('invoice', 2, { isTTY: false, write: (t: string) => written.push(t) }, {}).tick({ id: 'a::b', tls: '1.3', verdict: 'pass' });
    createProgress('invoice', 2, tty, { CI: '1' }).tick({ id: 'a::b', tls: '1.3', verdict: 'pass' });
    expect(written).to.deep.equal([]);
    const progress = createProgress('invoice', 2, tty, {});
    progress.tick({ id: 'trust::wrong-ca', tls: '1.3', verdict: 'fail' });
    progress.done();
    expect(written.join('')).to.include('invoice: 1/2 (1 failed) ✗ trust::wrong-ca TLS 1.3');
  });

  it('finds newly failing, newly passing, added and removed cases against a baseline', function () {
    const current = run.reports.find((r) => r.server === 'broken-no-reject');
    if (!current) throw new Error('no broken-no-reject report');
    const retired = current.cases[0];
    if (!retired) throw new Error('no case in broken-no-reject');
    const old = {
      ...current,
      cases: [
        ...current.cases.filter((c) => c.id !== 'identity::cn-logged').map((c) => ({ ...c, verdict: c.id === 'trust::wrong-ca' ? 'pass' : c.id === 'trust::valid-client' ? 'fail' : c.verdict })),
        { ...retired, id: 'trust::retired-case', title: 'a case no longer in the catalogue', tls: '1.3', verdict: 'pass' },
      ],
    };
    const diff = compareBaseline(parseBaseline(JSON.stringify(old), '/somewhere/old/report.json'), current);
    expect(diff.source).to.equal('report.json');
    expect(diff.newlyFailing.map((c) => `${c.id} ${c.tls}`)).to.deep.equal(['trust::wrong-ca 1.2', 'trust::wrong-ca 1.3']);
    expect(diff.newlyPassing.map((c) => `${c.id} ${c.tls}`)).to.deep.equal(['trust::valid-client 1.2', 'trust::valid-client 1.3']);
    expect(diff.added).to.deep.equal(['identity::cn-logged TLS 1.2', 'identity::cn-logged TLS 1.3']);
    expect(diff.removed).to.deep.equal(['trust::retired-case TLS 1.3']);
  });

  it('shows the changes since --baseline in the console and in report.md', async function () {
    this.timeout(30_000);
    await tmp.withDir(async ({ path: dir }) => {
      const report = JSON.parse(await readFile(path.join(run.dir, 'invoice', 'report.json'), 'utf8')) as { cases: { id: string; verdict: string }[] };
      for (const c of report.cases) if (c.id === 'trust::wrong-ca') c.verdict = 'fail';
      report.cases = report.cases.filter((c) => c.id !== 'trust::missing-cert');
      const baseline = path.join(dir, 'old.json');
      await writeFile(baseline, JSON.stringify(report));
      const { code, out } = await runCli(['--grep', '^trust::', '--report-dir', path.join(dir, 'reports'), '--baseline', baseline]);
      expect(code).to.equal(0);
      expect(out).to.include('  since old.json:');
      expect(out).to.include('    newly passing: trust::wrong-ca TLS 1.3 (fail → pass)');
      expect(out).to.include('    added: trust::missing-cert TLS 1.2, trust::missing-cert TLS 1.3');
      expect(out.at(-1)).to.match(/^conformance: \d+ passed, 0 failed, 0 skipped$/);
      const md = await readFile(path.join(dir, 'reports', 'invoice', 'report.md'), 'utf8');
      expect(md).to.include('## Changes since the baseline');
      expect(md).to.match(/\*\*Newly passing \(2\)\*\*\n\n- \[`trust::wrong-ca`\]\(#trust--wrong-ca\) TLS 1\.2: fail → pass/);
      expect(md).to.include('- `trust::missing-cert TLS 1.3`');
      // Cases --grep left out are not compared, and not "removed".
      expect(md).to.not.include('- `revocation::revoked-leaf TLS 1.2`');
      expect(md).to.match(/Not compared: \d+ case runs of the baseline that this run's selection left out\./);
      expect(out).to.satisfy((lines: string[]) => lines.some((l) => /^ {4}not compared: \d+ case runs of the baseline that this run's selection left out$/.test(l)));
      expect(out.join('\n')).to.not.match(/removed: .*revocation::revoked-leaf/);
    }, { unsafeCleanup: true });
  });

  it('says when the baseline is a run of another server, or of none this run included', async function () {
    this.timeout(30_000);
    await tmp.withDir(async ({ path: dir }) => {
      const report = JSON.parse(await readFile(path.join(run.dir, 'invoice', 'report.json'), 'utf8')) as { server: string };
      report.server = 'nginx';
      const baseline = path.join(dir, 'nginx.json');
      await writeFile(baseline, JSON.stringify(report));
      const one = await runCli(['--grep', '^trust::valid-client', '--tls', '1.3', '--report-dir', path.join(dir, 'reports'), '--baseline', baseline]);
      expect(one.out).to.include('  since nginx.json (a run of another server, nginx): no change');
      report.server = 'retired-server';
      await writeFile(baseline, JSON.stringify(report));
      const all = await runCli(['--server', 'all', '--grep', '^trust::valid-client', '--tls', '1.3', '--report-dir', path.join(dir, 'reports'), '--baseline', baseline]);
      expect(all.out).to.include(`note: --baseline ${baseline} is a run of retired-server, which this run did not include; nothing was compared`);
    }, { unsafeCleanup: true });
  });

  it('refuses an unreadable or malformed baseline with one line and exit 2', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const bad = path.join(dir, 'bad.json');
      await writeFile(bad, '{"server": "invoice"}');
      const future = path.join(dir, 'future.json');
      await writeFile(future, '{"schemaVersion": 99, "server": "invoice"}');
      const cases: [string, RegExp][] = [
        [path.join(dir, 'missing.json'), /cannot be read \(ENOENT\); pass a report\.json written by mtls-conformance/],
        [bad, /: has no "cases" list \(is it a report\.json\?\); pass a report\.json written by mtls-conformance/],
        [future, /: has schemaVersion 99, which this mtls-conformance does not read \(it reads 1 to \d+\); read it with the mtls-conformance version that wrote it/],
      ];
      for (const [file, why] of cases) {
        const { code, out, err } = await runCli(['--report-dir', path.join(dir, 'r'), '--baseline', file]);
        expect(code).to.equal(2);
        expect(out).to.deep.equal([]);
        expect(err).to.have.length(1);
        expect(err[0]).to.match(why).and.to.match(/^mtls-conformance: --baseline \S+\.json: /);
      }
    }, { unsafeCleanup: true });
  });
});
