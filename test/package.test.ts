// The package as a user gets it: `npm pack`, installed into an empty project
// (offline first: the npm cache holds every dependency once `npm ci` ran), a
// TypeScript adapter typechecked there with a plain nodenext tsconfig, the
// installed CLI run against it, and two shards merged. Every step is bounded;
// the temporary project is removed even when a step fails.
import { expect } from 'chai';
import { execa, type Options } from 'execa';
import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tmp from 'tmp-promise';
import { ROOT } from './adapters-helpers.ts';

/** The environment of a user's shell: nothing of an enclosing `npm test` (npm_* variables) leaks into their npm. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_')) env[k] = v;
  return { ...env, NO_COLOR: '1', CI: '1', npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };
}

// The compiled harness with source maps (sources inlined), the mocha layer and the docs users read.
const MAX_TARBALL = 700 * 1024;

describe('the npm package, installed into an empty project', function () {
  this.timeout(480_000);
  let dir: tmp.DirectoryResult;
  let project: string;
  let tarball: string;
  const run = (file: string, args: readonly string[], opts: Options & { timeout: number }) =>
    execa(file, args, { cwd: project, env: userEnv(), extendEnv: false, reject: false, stdin: 'ignore', ...opts });

  before(async function () {
    dir = await tmp.dir({ prefix: 'mtls-package-', unsafeCleanup: true });
    project = path.join(dir.path, 'my-project');
    const packed = await execa('npm', ['pack', '--silent', '--pack-destination', dir.path], { cwd: ROOT, env: userEnv(), extendEnv: false, timeout: 180_000, stdin: 'ignore' });
    tarball = path.join(dir.path, packed.stdout.trim().split('\n').at(-1) ?? '');
    await execa('mkdir', [project], { timeout: 5_000 });
    await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'my-project', version: '1.0.0', private: true, type: 'module' }, null, 2) + '\n');
    const installed = await run('npm', ['install', '--save-dev', '--prefer-offline', '--no-audit', '--no-fund', tarball], { timeout: 180_000 });
    if (installed.exitCode !== 0) throw new Error(`npm install of the tarball failed (exit ${String(installed.exitCode)}): ${String(installed.stderr).slice(-2_000)}`);
  });

  after(async function () {
    await dir?.cleanup();
  });

  it('is a tarball under 700 KiB with the compiled entry, the expectations and a LICENSE, and none of the repository\'s own files', async function () {
    expect((await stat(tarball)).size).to.be.below(MAX_TARBALL);
    const listed = await execa('tar', ['-tzf', tarball], { timeout: 30_000 });
    const files = listed.stdout.split('\n').map((f) => f.replace(/^package\//, ''));
    expect(files).to.include.members(['LICENSE', 'README.md', 'package.json', 'bin/mtls-conformance.js', 'dist/harness/index.js', 'dist/harness/index.d.ts', 'dist/harness/cli/main.js', 'expectations/nginx.json', 'docs/contract.md', 'docs/specs.md']);
    const foreign = files.filter((f) => /^(test|scripts|\.ci|harness|spec|examples)\//.test(f) || (f.startsWith('docs/') && !['docs/contract.md', 'docs/verdicts.md', 'docs/specs.md'].includes(f)) || /(^|\/)(tsconfig[^/]*|eslint\.config\.js|\.mocharc\.(json|cjs))$/.test(f) || f.includes('broken'));
    expect(foreign).to.deep.equal([]);
    const pkg = JSON.parse(await readFile(path.join(project, 'node_modules', 'mtls-conformance', 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).to.equal('MIT');
    expect(await readFile(path.join(project, 'node_modules', 'mtls-conformance', 'LICENSE'), 'utf8')).to.match(/^MIT License\n\nCopyright \(c\) 2026 mtls-conformance contributors/);
  });

  it('typechecks a TypeScript adapter and a spec file of the team\'s own with a plain nodenext tsconfig (no allowImportingTsExtensions)', async function () {
    await copyFile(path.join(ROOT, 'test', 'fixtures', 'package-project', 'my-adapter.ts'), path.join(project, 'my-adapter.ts'));
    await copyFile(path.join(ROOT, 'examples', 'acme.spec.ts'), path.join(project, 'acme.spec.ts'));
    await writeFile(path.join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false,
        // The user's own @types/node; here the checkout's, so the test needs no download.
        types: ['node'], typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      },
      include: ['*.ts'],
    }, null, 2));
    const checked = await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { timeout: 180_000 });
    expect(`${String(checked.stdout)}${String(checked.stderr)}`).to.equal('');
    expect(checked.exitCode).to.equal(0);
  });

  it('runs the installed CLI with that spec file: the team\'s cases run and are reported', async function () {
    await copyFile(path.join(ROOT, 'examples', 'acme.spec.ts'), path.join(project, 'acme.spec.ts'));
    const cli = await run(path.join(project, 'node_modules', '.bin', 'mtls-conformance'), ['--spec', './acme.spec.ts', '--family', 'acme', '--report-dir', 'acme-reports'], { timeout: 120_000 });
    expect(cli.stderr).to.equal('');
    expect(cli.exitCode, String(cli.stdout)).to.equal(0);
    expect(String(cli.stdout).split('\n').at(-1)).to.equal('conformance: 3 passed, 0 failed, 0 skipped');
    expect(await readFile(path.join(project, 'acme-reports', 'invoice', 'junit.xml'), 'utf8')).to.include('acme::health-is-public');
  });

  it('runs the installed CLI against that adapter: the core cases pass', async function () {
    await copyFile(path.join(ROOT, 'test', 'fixtures', 'package-project', 'my-adapter.ts'), path.join(project, 'my-adapter.ts'));
    const cli = await run(path.join(project, 'node_modules', '.bin', 'mtls-conformance'), ['--server', './my-adapter.ts', '--core'], { timeout: 120_000 });
    expect(cli.stderr).to.equal('');
    expect(cli.exitCode, String(cli.stdout)).to.equal(0);
    expect(String(cli.stdout).split('\n').at(-1)).to.equal('conformance: 10 passed, 0 failed, 0 skipped');
    const report = JSON.parse(await readFile(path.join(project, 'reports', 'my-server', 'report.json'), 'utf8')) as { cases: { verdict: string }[] };
    expect(report.cases.map((c) => c.verdict)).to.deep.equal(Array.from({ length: 10 }, () => 'pass'));
  });

  it("runs the README's core-case commands as written, in the user's project", async function () {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const blocks = (lang: string): string[] => [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] ?? '');
    // The adapter the README shows is the one typechecked above; the program it shows is saved as it says.
    const adapter = (await readFile(path.join(ROOT, 'test', 'fixtures', 'package-project', 'my-adapter.ts'), 'utf8')).split('\n').slice(3).join('\n');
    expect(blocks('ts')).to.include(adapter);
    await writeFile(path.join(project, 'mtls-adapter.ts'), adapter);
    const program = blocks('js').find((b) => b.includes('process.argv.slice(2)'));
    if (program === undefined) throw new Error('README shows no server.mjs');
    await writeFile(path.join(project, 'server.mjs'), program);
    const commands = blocks('sh').flatMap((b) => b.replace(/\\\n\s*/g, '').split('\n')).map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter((l) => (l.startsWith('npx mtls-conformance') && l.includes('--core')) || l.startsWith('cp ') || l.startsWith('npx mtls-conformance merge'));
    expect(commands.length).to.be.above(5);
    for (const command of commands) {
      const done = await run('sh', ['-c', command], { timeout: 120_000 });
      expect(done.exitCode, `${command}\n${String(done.stdout).slice(-1_500)}\n${String(done.stderr)}`).to.equal(0);
      if (command.startsWith('npx')) expect(String(done.stdout).split('\n').at(-1), command).to.match(/^conformance: \d+ passed, 0 failed, 0 skipped$/);
    }
  });

  it('merges two shards of the reference server into one report and one matrix', async function () {
    const bin = path.join(project, 'node_modules', '.bin', 'mtls-conformance');
    const shards = await Promise.all([1, 2].map((i) => run(bin, ['--core', '--shard', `${i}/2`, '--report-dir', `shard-${i}`], { timeout: 120_000 })));
    expect(shards.map((s) => s.exitCode), shards.map((s) => String(s.stderr)).join('\n')).to.deep.equal([0, 0]);
    const merged = await run(bin, ['merge', 'shard-1', 'shard-2', '--report-dir', 'reports-all'], { timeout: 60_000 });
    expect(merged.stderr).to.equal('');
    expect(merged.exitCode).to.equal(0);
    expect(String(merged.stdout).split('\n').at(-1)).to.equal('conformance: 10 passed, 0 failed, 0 skipped');
    const report = JSON.parse(await readFile(path.join(project, 'reports-all', 'invoice', 'report.json'), 'utf8')) as { cases: { id: string }[] };
    expect(new Set(report.cases.map((c) => c.id)).size).to.equal(5);
    expect(await readFile(path.join(project, 'reports-all', 'index.html'), 'utf8')).to.include('data-server="invoice"');
  });
});
