// The examples run as a new user would run them: the TypeScript adapter copied
// to a directory outside the repository, and the Python server through
// --server-cmd; both run the whole catalogue and pass its core cases.
import { expect } from 'chai';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import tmp from 'tmp-promise';
import { ROOT, runCli } from './adapters-helpers.ts';

/** The core verdicts of a report, as `id tls verdict`. */
async function coreVerdicts(reportDir: string, server: string): Promise<string[]> {
  const report = JSON.parse(await readFile(path.join(reportDir, server, 'report.json'), 'utf8')) as { cases: { id: string; tls: string; core: boolean; verdict: string }[] };
  return report.cases.filter((c) => c.core).map((c) => `${c.id} ${c.tls} ${c.verdict}`);
}

describe('examples', function () {
  let dir: tmp.DirectoryResult;
  beforeEach(async function () {
    dir = await tmp.dir({ prefix: 'mtls-examples-', unsafeCleanup: true });
  });
  afterEach(async function () {
    await dir.cleanup();
  });

  it('runs the example TypeScript adapter from a directory outside the repository', async function () {
    for (const file of ['my-server.ts', 'my-server.adapter.ts']) await copyFile(path.join(ROOT, 'examples', file), path.join(dir.path, file));
    const run = await runCli(['--server', './my-server.adapter.ts', '--report-dir', 'reports'], { cwd: dir.path });
    expect(run.stderr).to.equal('');
    expect([0, 1]).to.include(run.exitCode);
    expect(run.stdout).to.match(/\nconformance: \d+ passed, \d+ failed, \d+ skipped$/);
    const core = await coreVerdicts(path.join(dir.path, 'reports'), 'my-server');
    expect(core).to.have.length(10);
    expect(core.filter((v) => !v.endsWith(' pass'))).to.deep.equal([]);
  });

  it('runs the Python server through --server-cmd with reload by SIGHUP', async function () {
    const command = 'python3 examples/python-mtls-server.py {host} {port} {cert} {key} {ca} {canary} {crl}';
    const reports = path.join(dir.path, 'reports');
    const run = await runCli(['--server-cmd', command, '--capabilities', 'crl,crl-reload,log-identity', '--reload-signal', 'HUP', '--report-dir', reports]);
    expect(run.stderr).to.equal('');
    expect([0, 1]).to.include(run.exitCode);
    const core = await coreVerdicts(reports, 'cmd-python3');
    expect(core).to.have.length(10);
    expect(core.filter((v) => !v.endsWith(' pass'))).to.deep.equal([]);
  });
});
