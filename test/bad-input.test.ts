// Bad input ends the run with exit 2 and one line on stderr that names the
// thing, the problem and the fix: never a stack trace, never a silent pass,
// nothing of the user's deleted. One row per input; rows run as subprocesses.
import { expect } from 'chai';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fixtureAdapter, limit, SUBPROCESS_SLOTS, makeWorkspace, removeWorkspace, runCli, type Workspace } from './fixtures/run-cli.ts';

/** One bad input: the arguments (built in the row's workspace), and the line it must produce. */
interface Row {
  input: string;
  args: (ws: Workspace) => Promise<string[]> | string[];
  env?: (ws: Workspace) => Promise<Record<string, string>> | Record<string, string>;
  message: RegExp;
}

const USER_FILE = 'results of last quarter\n';

const ROWS: Row[] = [
  { input: 'an unknown flag', args: () => ['--frobnicate'], message: /^Unknown option '--frobnicate'; see mtls-conformance --help$/ },
  { input: 'a positional argument', args: () => ['nginx'], message: /Unexpected argument 'nginx'/ },
  { input: 'a flag without its value', args: () => ['--grep'], message: /Option '--grep <value>' argument missing/ },
  { input: 'a bad --tls value', args: () => ['--tls', '1.1'], message: /^--tls "1\.1" is not a TLS version the suite runs; use --tls 1\.2 or --tls 1\.3$/ },
  { input: 'a bad --concurrency value', args: () => ['--concurrency', '0'], message: /^Expected --concurrency to be an integer from 1 to 64, got "0"/ },
  { input: 'a bad --case-timeout value', args: () => ['--case-timeout', 'soon'], message: /^Expected --case-timeout to be a duration such as 500ms, 10s or 2m, got "soon"/ },
  { input: 'an invalid --grep regex', args: () => ['--grep', '('], message: /^--grep "\(" is not a valid regular expression .*; escape special characters/ },
  { input: '--grep matching no case', args: () => ['--grep', 'no-such-case-anywhere'], message: /^--grep "no-such-case-anywhere" selects no case; run with --list/ },
  { input: 'an unknown --family', args: () => ['--family', 'ciphers'], message: /^--family "ciphers" is not a family; use one of trust, /i },
  { input: '--family and --grep matching no case together', args: () => ['--family', 'revocation', '--grep', 'valid-client'], message: /^--family revocation with --grep "valid-client" selects no case/ },
  {
    input: 'a malformed expectations file',
    args: async (ws) => { await writeFile(path.join(ws.root, 'exp.json'), '{"trust::*": '); return ['--expectations', path.join(ws.root, 'exp.json')]; },
    message: /^expectations file .*exp\.json is not valid JSON .*; it must be a JSON object/,
  },
  {
    input: 'an expectations entry without a reason',
    args: async (ws) => { await writeFile(path.join(ws.root, 'exp.json'), '{"trust::wrong-ca": "  "}'); return ['--expectations', path.join(ws.root, 'exp.json')]; },
    message: /^expectations file .*exp\.json: entry "trust::wrong-ca" has no reason; give every known deviation a sentence/,
  },
  { input: 'a missing expectations file', args: (ws) => ['--expectations', path.join(ws.root, 'none.json')], message: /^cannot read expectations file .*none\.json \(ENOENT\); check the path/ },
  { input: 'an unknown built-in server', args: () => ['--server', 'caddyy'], message: /^unknown server "caddyy"; use one of invoice/ },
  { input: 'a missing adapter module', args: (ws) => ['--server', path.join(ws.root, 'nope.ts')], message: /^adapter module .*nope\.ts not found; check the path given to --server$/ },
  {
    input: 'an adapter module with a syntax error',
    args: async (ws) => { await writeFile(path.join(ws.root, 'adapter.ts'), 'const port: number = ;\nexport default {};\n'); return ['--server', path.join(ws.root, 'adapter.ts')]; },
    message: /^adapter module .*adapter\.ts failed to load: Unexpected ";" \(line 1, column 21\); fix the module so that it imports cleanly$/,
  },
  {
    input: 'an adapter module of the wrong shape (no start)',
    args: async (ws) => { await writeFile(path.join(ws.root, 'adapter.mjs'), 'export default { name: "mine", capabilities: [] };\n'); return ['--server', path.join(ws.root, 'adapter.mjs')]; },
    message: /^adapter .*adapter\.mjs: has no start function; add start\(setup\) returning a RunningServer$/,
  },
  {
    input: 'an adapter module with an unknown capability',
    args: async (ws) => { await writeFile(path.join(ws.root, 'adapter.mjs'), 'export default { name: "mine", capabilities: ["stapling"], start() {} };\n'); return ['--server', path.join(ws.root, 'adapter.mjs')]; },
    message: /^adapter .*adapter\.mjs: unknown capability "stapling"; use only crl, /,
  },
  {
    input: 'an adapter module without a default export',
    args: async (ws) => { await writeFile(path.join(ws.root, 'adapter.mjs'), 'export const adapter = {};\n'); return ['--server', path.join(ws.root, 'adapter.mjs')]; },
    message: /^adapter module .*adapter\.mjs has no default export; export the adapter/,
  },
  { input: 'a missing openssl', args: () => [], env: (ws) => ({ MTLS_CONFORMANCE_OPENSSL: path.join(ws.root, 'no-such-openssl') }), message: /^openssl not found: could not run `.*no-such-openssl`; install OpenSSL 3\.0 or newer/ },
  {
    input: 'a too-old openssl',
    args: () => [],
    env: async (ws) => {
      const fake = path.join(ws.root, 'openssl');
      await writeFile(fake, '#!/bin/sh\necho "OpenSSL 1.1.1w  11 Sep 2023"\n', { mode: 0o755 });
      return { MTLS_CONFORMANCE_OPENSSL: fake };
    },
    message: /^OpenSSL 1\.1\.1w .* is too old: the suite needs OpenSSL 3\.0 or newer .*; install OpenSSL 3\.0 or newer/,
  },
  {
    input: 'a report dir that is a file',
    args: async (ws) => { await writeFile(path.join(ws.root, 'results.txt'), USER_FILE); return ['--report-dir', path.join(ws.root, 'results.txt')]; },
    message: /^report dir .*results\.txt is a file, not a directory; pass --report-dir a directory path$/,
  },
  {
    input: 'a report dir below a file',
    args: async (ws) => { await writeFile(path.join(ws.root, 'results.txt'), USER_FILE); return ['--report-dir', path.join(ws.root, 'results.txt', 'reports')]; },
    message: /^report dir .*results\.txt\/reports cannot be created \(ENOTDIR: part of its path is a file/,
  },
  {
    input: 'a report dir that is not writable',
    args: async (ws) => {
      // root writes anywhere a mode allows nothing, so it gets a directory no one can write into.
      if (process.getuid?.() === 0) return ['--report-dir', '/proc/self'];
      const dir = path.join(ws.root, 'locked');
      await mkdir(dir);
      await chmod(dir, 0o500);
      return ['--report-dir', dir];
    },
    message: /^report dir .* is not writable \((?:EACCES|ENOENT|EPERM)\); pass --report-dir a directory you can write to$/,
  },
];

describe('bad input ends the run with exit 2 and one clear line', function () {
  const runs = new Map<string, Promise<{ exitCode: number | undefined; stdout: string; stderr: string; planted: boolean; userFile: string | undefined }>>();

  before(function () {
    // Rows run a few at a time: each is a subprocess in a workspace of its own.
    const slots = limit(SUBPROCESS_SLOTS);
    for (const row of ROWS) {
      runs.set(row.input, slots(async () => {
        const ws = await makeWorkspace();
        try {
          const args = await row.args(ws);
          const env = row.env ? await row.env(ws) : {};
          // Whether the row gave the user a file of their own, looked at before the run so a deleted one is caught.
          const planted = await readFile(path.join(ws.root, 'results.txt'), 'utf8').then(() => true, () => false);
          const run = await runCli(ws, ['--grep', 'trust::valid-client', '--tls', '1.3', ...args], { env });
          const userFile = await readFile(path.join(ws.root, 'results.txt'), 'utf8').catch(() => undefined);
          return { exitCode: run.exitCode, stdout: run.stdout, stderr: run.stderr, planted, userFile };
        } finally {
          await chmod(path.join(ws.root, 'locked'), 0o700).catch(() => undefined);
          await removeWorkspace(ws);
        }
      }));
    }
  });

  for (const row of ROWS) {
    it(`refuses ${row.input}`, async function () {
      const run = await runs.get(row.input);
      if (!run) throw new Error('row did not run');
      const lines = run.stderr.split('\n').filter(Boolean);
      expect(run.exitCode, run.stderr).to.equal(2);
      expect(lines, 'exactly one line on stderr').to.have.length(1);
      expect(lines[0]).to.match(/^mtls-conformance: /);
      expect(lines[0]?.replace(/^mtls-conformance: /, '')).to.match(row.message);
      expect(run.stdout, 'nothing on stdout: no case ran').to.equal('');
      if (run.planted) expect(run.userFile, "the user's file is untouched").to.equal(USER_FILE);
    });
  }

  it('keeps a fixture adapter module loadable, so the rows above fail for their own reason', async function () {
    const ws = await makeWorkspace();
    try {
      const run = await runCli(ws, ['--server', fixtureAdapter('well-behaved'), '--grep', 'trust::valid-client', '--tls', '1.3', '--report-dir', ws.reports]);
      expect(run.exitCode, run.stderr).to.equal(0);
    } finally {
      await removeWorkspace(ws);
    }
  });
});
