// --core, --name, merge, the matrix of every report in the report dir, empty
// shards and the words of the closing lines: run in process, a case or two each.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import tmp from 'tmp-promise';
import { main, selectCases } from '../harness/cli/main.ts';
import { runCases } from '../harness/run/runner.ts';
import { summaryLines } from '../harness/report/summary.ts';
import type { ServerAdapter } from '../harness/types.ts';
import { CATALOGUE } from '../spec/index.ts';

async function runCli(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

const CORE = ['trust::valid-client', 'trust::wrong-ca', 'trust::missing-cert', 'revocation::revoked-leaf', 'identity::cn-logged'];
const ONE = ['--grep', '^trust::valid-client', '--tls', '1.3'];

describe('--core, --name and --list', function () {
  it('--core selects the five core cases, and narrows --grep and --family', function () {
    expect(selectCases({ core: true }).map((c) => c.id)).to.deep.equal(CORE);
    expect(selectCases({ core: true, family: 'trust' }).map((c) => c.id)).to.deep.equal(CORE.slice(0, 3));
    expect(() => selectCases({ core: true, family: 'usage' })).to.throw(/^--core with --family usage selects no case/);
  });

  it('--list explains the ★ of core cases', async function () {
    const { code, out } = await runCli(['--list', '--core']);
    expect(code).to.equal(0);
    expect(out.filter((l) => l.includes('★'))).to.have.length(6);
    expect(out.at(-1)).to.equal('5 cases; ★ = core case, one of the five that --core selects (trust, revocation and identity basics every mTLS server must pass)');
  });

  it('--name names the report of any server, and is refused when malformed or with --server all', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      // A command that exits at once: its one-line error carries the name, and advice to fix it rather than wait longer.
      const exits = await runCli([...ONE, '--server-cmd', `${process.execPath} -e 0`, '--name', 'my-api', '--report-dir', dir]);
      expect(exits.code).to.equal(2);
      expect(exits.err).to.have.length(1);
      expect(exits.err[0]).to.match(/^mtls-conformance: server my-api never started: --server-cmd .*node: it exited \(exit code 0\) before listening on 127\.0\.0\.1:\d+; it printed nothing; run the command by hand to see why it exits/);
      expect(exits.err[0]).to.not.match(/timeout/);
      const missing = await runCli([...ONE, '--server-cmd', 'no-such-program-here {port}', '--report-dir', dir]);
      expect(missing.err[0]).to.match(/cannot run no-such-program-here: no such program; check the command and that the program is installed and executable$/);
      const named = await runCli([...ONE, '--name', 'reference', '--report-dir', dir]);
      expect(named.code).to.equal(0);
      expect(named.out[0]).to.equal('reference:');
      const report = JSON.parse(await readFile(path.join(dir, 'reference', 'report.json'), 'utf8')) as { server: string };
      expect(report.server).to.equal('reference');
    }, { unsafeCleanup: true });
    for (const [args, why] of [[['--name', 'My Server'], /^mtls-conformance: Expected --name to be a name of \[a-z0-9-\]\+, got "My Server"; use lower-case/], [['--server', 'all', '--name', 'x'], /--name names one server, but --server all runs every built-in/]] as const) {
      const { code, err } = await runCli([...args]);
      expect(code).to.equal(2);
      expect(err).to.have.length(1);
      expect(err[0]).to.match(why);
    }
  });
});

describe('the closing lines', function () {
  it('count in words that agree with the number', function () {
    const one = { passed: 0, failed: 2, skipped: 3, expectedFailures: 1, unexpectedPasses: 1, notApplicable: 1, errors: 1, warnings: 1 };
    expect(summaryLines('reports', [one])[1]).to.equal('(1 warning (policy; --strict fails them), 1 known deviation, 1 not applicable, 1 error, 1 unexpected pass)');
    expect(summaryLines('reports', [one, one])[1]).to.equal('(2 warnings (policy; --strict fails them), 2 known deviations, 2 not applicable, 2 errors, 2 unexpected passes)');
  });

  it('says "among 1 line" of a log with one line', async function () {
    // Serves verified clients and logs one start-up line, never the CN.
    const quiet: ServerAdapter = {
      name: 'logs-no-cn', capabilities: ['log-identity'],
      start: async (setup) => {
        const server = https.createServer({ cert: readFileSync(setup.tls.cert), key: readFileSync(setup.tls.key), ca: readFileSync(setup.tls.clientCa), requestCert: true, rejectUnauthorized: true }, (_req, res) => { res.end(setup.canary); });
        await new Promise<void>((resolve) => { server.listen(0, setup.host, resolve); });
        return {
          port: (server.address() as AddressInfo).port, logs: () => Promise.resolve(['listening']),
          stop: () => new Promise<void>((resolve) => { server.close(() => { resolve(); }); server.closeAllConnections(); }),
        };
      },
    };
    const results = await runCases({ adapter: quiet, cases: CATALOGUE.filter((c) => c.id === 'identity::cn-logged'), tls: ['1.3'] });
    expect(results[0]?.verdict).to.equal('fail');
    expect(results[0]?.message).to.match(/ among 1 line$/);
  });
});

describe('shards and merge', function () {
  this.timeout(60_000);
  let dir: tmp.DirectoryResult;
  before(async function () {
    dir = await tmp.dir({ prefix: 'mtls-merge-', unsafeCleanup: true });
    for (const i of [1, 2]) {
      const { code } = await runCli(['--core', '--tls', '1.3', '--shard', `${i}/2`, '--report-dir', path.join(dir.path, `shard-${i}`)]);
      expect(code).to.equal(0);
    }
  });
  after(async function () {
    await dir.cleanup();
  });

  it('joins two shards into one report and one matrix, in catalogue order', async function () {
    const out = path.join(dir.path, 'merged');
    const { code, out: lines, err } = await runCli(['merge', path.join(dir.path, 'shard-1'), path.join(dir.path, 'shard-2'), '--report-dir', out]);
    expect(err).to.deep.equal([]);
    expect(code).to.equal(0);
    expect(lines.at(-1)).to.equal('conformance: 5 passed, 0 failed, 0 skipped');
    const report = JSON.parse(await readFile(path.join(out, 'invoice', 'report.json'), 'utf8')) as { cases: { id: string }[]; summary: { passed: number }; mergedFrom: string[] };
    expect(report.cases.map((c) => c.id)).to.deep.equal(CORE);
    expect(report.summary.passed).to.equal(5);
    expect(report.mergedFrom).to.have.length(2);
    expect((await readdir(path.join(out, 'invoice'))).sort()).to.deep.equal(['junit.xml', 'report.html', 'report.json', 'report.md']);
    const matrix = await readFile(path.join(out, 'index.html'), 'utf8');
    expect(matrix.match(/<tr data-case=/g)).to.have.length(5);
    expect(matrix).to.include('★ marks a core case, one of the five that <code>--core</code> runs.');
  });

  it('refuses overlapping or mismatched inputs with exit 2 and one line', async function () {
    const shard1 = path.join(dir.path, 'shard-1');
    const other = path.join(dir.path, 'other-caps');
    const text = await readFile(path.join(shard1, 'invoice', 'report.json'), 'utf8');
    const changed = JSON.parse(text) as { capabilities: string[]; shard?: unknown; cases: { id: string }[] };
    changed.capabilities = ['crl'];
    delete changed.shard;
    await runCli(['--grep', '^trust::wrong-ca', '--tls', '1.2', '--report-dir', other]);
    await writeFile(path.join(other, 'invoice', 'report.json'), JSON.stringify({ ...changed, cases: [] }));
    const future = path.join(dir.path, 'future');
    await mkdir(future, { recursive: true });
    await writeFile(path.join(future, 'report.json'), JSON.stringify({ ...changed, schemaVersion: 99 }));
    const refusals: [string[], RegExp][] = [
      [[shard1, shard1], /^mtls-conformance: merge: shard 1\/2 of invoice is in both .* and .*; merge each shard once$/],
      [[shard1, other], /^mtls-conformance: merge: two reports named invoice declare different capabilities .*; give each server its own --name and run again$/],
      [[shard1, future], /^mtls-conformance: merge: .*future\/report\.json: has schemaVersion 99, which this mtls-conformance does not read \(it reads 1 to \d+\); read it with the mtls-conformance version that wrote it, or run the suite again$/],
      [[shard1, path.join(dir.path, 'nothing-here')], /^mtls-conformance: merge: .*nothing-here is not a directory; pass the --report-dir of each run to merge$/],
      [[], /^mtls-conformance: merge was given no report dir to join; name the --report-dir of each run/],
    ];
    for (const [inputs, why] of refusals) {
      const { code, out, err } = await runCli(['merge', ...inputs, '--report-dir', path.join(dir.path, 'refused')]);
      expect(code, inputs.join(' ')).to.equal(2);
      expect(out).to.deep.equal([]);
      expect(err).to.have.length(1);
      expect(err[0]).to.match(why);
    }
  });

  it('an empty shard writes a report that says so, and exits 0 with a note', async function () {
    const out = path.join(dir.path, 'empty');
    const { code, out: lines } = await runCli(['--core', '--shard', '6/6', '--report-dir', out]);
    expect(code).to.equal(0);
    expect(lines).to.include('note: shard 6/6 holds none of the 5 selected cases (more shards than cases); nothing ran here, the other shards run them all');
    expect(await readFile(path.join(out, 'invoice', 'report.md'), 'utf8')).to.include('This shard holds no case');
    const report = JSON.parse(await readFile(path.join(out, 'invoice', 'report.json'), 'utf8')) as { shard: unknown };
    expect(report.shard).to.deep.equal({ index: 6, count: 6 });
  });

  it('index.html lists every server report in the report dir, not only the last run', async function () {
    const out = path.join(dir.path, 'two-runs');
    await runCli([...ONE, '--report-dir', out]);
    await runCli([...ONE, '--name', 'second', '--report-dir', out]);
    const matrix = await readFile(path.join(out, 'index.html'), 'utf8');
    expect([...matrix.matchAll(/<th scope="col" data-server="([^"]+)"/g)].map((m) => m[1])).to.deep.equal(['second', 'invoice']);
  });
});
