// The catalogue as mocha specs: bare `npx mocha` on a spec file, the CLI
// driving mocha with a chosen reporter, a team's own spec file with --spec,
// and the verdicts mocha sees for servers that fail and that cannot be judged.
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defineCase } from '../harness/run/case.ts';
import { checkServers } from '../harness/mocha/conformance.ts';
import { NO_EXPECTATIONS } from '../harness/run/expectations.ts';
import invoice from '../harness/servers/invoice.ts';
import { CATALOGUE } from '../spec/index.ts';
import { fixtureAdapter, makeWorkspace, removeWorkspace, ROOT, runCli, type Workspace } from './fixtures/run-cli.ts';

describe('the catalogue under mocha', function () {
  this.timeout(180_000);
  let ws: Workspace;
  beforeEach(async function () { ws = await makeWorkspace(); });
  afterEach(async function () { await removeWorkspace(ws); });

  it('npx mocha spec/trust.spec.ts --grep "another company" runs exactly that case, under both TLS versions, and passes', async function () {
    const run = await execa('npx', ['mocha', 'spec/trust.spec.ts', '--grep', 'another company', '--reporter', 'json'], { cwd: ROOT, reject: false, timeout: 150_000, env: { TMPDIR: ws.tmp } });
    expect(run.exitCode, run.stderr).to.equal(0);
    const report = JSON.parse(run.stdout) as { stats: { tests: number; passes: number; pending: number; failures: number }; tests: { fullTitle: string }[] };
    expect(report.tests.map((t) => t.fullTitle)).to.deep.equal([
      "trust refuses a client signed by another company's CA [TLS 1.2]",
      "trust refuses a client signed by another company's CA [TLS 1.3]",
    ]);
    expect(report.stats).to.include({ tests: 2, passes: 2, failures: 0 });
  });

  it('--reporter tap prints TAP, and every report file is still written', async function () {
    const run = await runCli(ws, ['--grep', '^trust::(valid-client|wrong-ca) ', '--reporter', 'tap', '--report-dir', ws.reports]);
    expect(run.exitCode, run.stderr).to.equal(0);
    const lines = run.stdout.split('\n');
    expect(lines).to.include('1..4');
    expect(lines.filter((l) => /^ok \d+ trust /.test(l))).to.have.length(4);
    // The summary travels as TAP comments, so a TAP consumer still parses the stream.
    expect(lines.filter((l) => l.startsWith('conformance:'))).to.deep.equal([]);
    expect(lines.some((l) => /^# conformance: 4 passed, 0 failed/.test(l)), run.stdout).to.equal(true);
    for (const file of ['invoice/report.json', 'invoice/report.md', 'invoice/report.html', 'invoice/junit.xml', 'index.html']) {
      expect((await readFile(path.join(ws.reports, file), 'utf8')).length, file).to.be.greaterThan(0);
    }
  });

  it("a team's own spec file runs with --spec and shows in report.md, JUnit and the matrix like a built-in case", async function () {
    const run = await runCli(ws, ['--spec', path.join(ROOT, 'examples', 'acme.spec.ts'), '--family', 'acme', '--report-dir', ws.reports]);
    expect(run.exitCode, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/ {2}acme\n/);
    expect(run.stdout).to.include('conformance: 3 passed, 0 failed');
    const md = await readFile(path.join(ws.reports, 'invoice', 'report.md'), 'utf8');
    expect(md).to.include('`acme::health-is-public`').and.to.include('The load balancer probes /healthz');
    const junit = await readFile(path.join(ws.reports, 'invoice', 'junit.xml'), 'utf8');
    expect(junit).to.include('invoice: acme').and.to.include('acme::admin-needs-a-certificate');
    const matrix = await readFile(path.join(ws.reports, 'index.html'), 'utf8');
    expect(matrix).to.include('data-case="acme::health-is-public"');
  });

  it('a failing case fails its it with expected against observed; a plain mocha test of the user fails the run too', async function () {
    const spec = path.join(ws.root, 'team.spec.ts');
    await writeFile(spec, [
      "import assert from 'node:assert/strict';",
      "describe('team extras', function () { it('is a plain failing test', function () { assert.equal(1, 2); }); });",
      '',
    ].join('\n'));
    const run = await runCli(ws, ['--server', fixtureAdapter('serves-anyone'), '--grep', '^trust::wrong-ca ', '--tls', '1.3', '--spec', spec, '--reporter', 'json', '--report-dir', ws.reports]);
    expect(run.exitCode, run.stderr).to.equal(1);
    const report = JSON.parse(run.stdout) as { failures: { fullTitle: string; err: { message: string; expected?: string; actual?: string } }[] };
    const wrongCa = report.failures.find((f) => f.fullTitle.includes('another company'));
    expect(wrongCa?.err.message).to.match(/^trust::wrong-ca \[TLS 1\.3\]: fail: /);
    expect(wrongCa?.err).to.include({ expected: 'refused', actual: 'leaked' });
    expect(report.failures.map((f) => f.fullTitle)).to.include('team extras is a plain failing test');
    // The summary is not mixed into the JSON document on stdout.
    expect(run.stderr).to.include('conformance: 0 passed, 1 failed');
  });

  it('checkServers runs exactly the cases it is given: a case of no spec file, and a copy under another id', async function () {
    const wrongCa = CATALOGUE.find((c) => c.id === 'trust::wrong-ca');
    if (!wrongCa) throw new Error('trust::wrong-ca is missing');
    const own = defineCase({ ...wrongCa, id: 'team::wrong-ca-again', family: 'team' });
    const [report] = await checkServers([{ adapter: invoice, expectations: NO_EXPECTATIONS }], [wrongCa, own], {}, { tls: ['1.3'] });
    expect(report?.cases.map((c) => `${c.id} ${c.tls} ${c.verdict}`)).to.deep.equal(['trust::wrong-ca 1.3 pass', 'team::wrong-ca-again 1.3 pass']);
  });

  it('refuses an unknown reporter, a --spec that matches nothing and a spec file that does not load: exit 2, one line', async function () {
    const broken = path.join(ws.root, 'broken.spec.ts');
    await mkdir(ws.root, { recursive: true });
    await writeFile(broken, "import './does-not-exist.ts';\n");
    for (const [args, message] of [
      [['--reporter', 'no-such-reporter'], /--reporter "no-such-reporter" is neither a mocha reporter nor an installed module/],
      [['--spec', path.join(ws.root, 'nothing-*.spec.ts')], /--spec ".*nothing-\*\.spec\.ts" matches no file/],
      [['--spec', broken], /a --spec file failed to load: .*does-not-exist/],
      [['--family', 'nope', '--spec', path.join(ROOT, 'examples', 'acme.spec.ts')], /--family "nope" is not a family; use one of .*acme/],
    ] as const) {
      const run = await runCli(ws, [...args, '--report-dir', ws.reports]);
      expect(run.exitCode, run.stderr).to.equal(2);
      const lines = run.stderr.trim().split('\n');
      expect(lines, run.stderr).to.have.length(1);
      expect(lines[0]).to.match(message);
    }
  });
});
