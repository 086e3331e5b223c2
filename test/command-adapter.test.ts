// The command adapter (--server-cmd): argv splitting without a shell,
// placeholders, readiness, the whole process group stopped, reload by signal,
// and every bad flag or dead command ending the run with exit 2 and one line.
import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import { main } from '../harness/cli/main.ts';
import { runCases } from '../harness/run/runner.ts';
import { commandAdapter, fillPlaceholders, placeholderValues, splitCommandLine } from '../harness/servers/command.ts';
import { parseDuration } from '../harness/run/durations.ts';
import { childPids, startOnFreePort } from '../harness/servers/process.ts';
import type { ServerSetup } from '../harness/types.ts';
import { CATALOGUE } from '../spec/index.ts';
import { RELOAD_CASE } from './adapters-helpers.ts';

const PYTHON = 'python3 examples/python-mtls-server.py {host} {port} {cert} {key} {ca} {canary} {crl}';

/** Runs the CLI in-process; returns the exit code and what it printed. */
async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

/** Command lines of live processes whose argv contains `marker`. */
async function processesWith(marker: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) found.push(cmdline.replace(/\0/g, ' '));
  }
  return found;
}

describe('command adapter (--server-cmd)', function () {
  it('splits a command line into argv the way a shell quotes it, without running a shell', function () {
    expect(splitCommandLine(`server --cert {cert} -m 'a b' "c \\"d\\" $HOME" e\\ f ''`)).to.deep.equal(['server', '--cert', '{cert}', '-m', 'a b', 'c "d" $HOME', 'e f', '']);
    expect(splitCommandLine(`sh -c 'exec server --port {port}'`)).to.deep.equal(['sh', '-c', 'exec server --port {port}']);
    expect(() => splitCommandLine(`server 'open`)).to.throw(/unterminated single quote/);
    expect(() => splitCommandLine('   ')).to.throw(/--server-cmd is empty/);
  });

  it('fills known placeholders, leaves other braces alone, and makes unused values empty', function () {
    const setup: ServerSetup = {
      dir: '/d', host: '127.0.0.1', port: 0, tls: { cert: '/c.pem', key: '/k.pem', clientCa: '/ca.pem' },
      clientAuth: 'required', paths: { protected: '/' }, canary: 'canary-1', allowedClients: ['alice', 'bob'],
    };
    const values = placeholderValues(setup, 4433);
    expect(['{host}:{port}', '--crl={crl}', '{allowed_clients}', '${HOME}', '{nope}'].map((w) => fillPlaceholders(w, values)))
      .to.deep.equal(['127.0.0.1:4433', '--crl=', 'alice,bob', '${HOME}', '{nope}']);
  });

  it('parses durations with a unit and refuses bare numbers', function () {
    const accepted: [string, number][] = [['10s', 10_000], ['500ms', 500], ['1.5s', 1_500], ['2m', 120_000], ['1h', 3_600_000], [' 3s ', 3_000]];
    for (const [value, ms] of accepted) expect(parseDuration('ready-timeout', value), value).to.equal(ms);
    // A bare number is refused like any other malformed duration: its unit would be a guess.
    for (const bare of ['5', '10', '1.5', '0', ' 7 ']) {
      expect(() => parseDuration('case-timeout', bare), bare).to.throw(`Expected --case-timeout to be a duration with a unit, got ${JSON.stringify(bare)}`)
        .with.property('code', 'ERR_MTLS_USAGE');
    }
    for (const bad of ['0s', '-1s', '25h', 'soon', '10 s', '5sec', '']) {
      expect(() => parseDuration('ready-timeout', bad), bad).to.throw(/Expected --ready-timeout to be a duration such as 500ms, 10s or 2m/).with.property('code', 'ERR_MTLS_USAGE');
    }
  });

  it('refuses bad companion flags with exit 2 and one line', async function () {
    const runs = await Promise.all([
      cli(['--server-cmd', 'x', '--ready-timeout', 'soon']),
      cli(['--server-cmd', 'x', '--capabilities', 'crl,stapling']),
      cli(['--server-cmd', 'x', '--reload-signal', 'NOPE']),
      cli(['--server-cmd', 'x', '--capabilities', 'crl-reload']),
      cli(['--capabilities', 'crl']),
      cli(['--server-cmd', "x 'open"]),
    ]);
    const expected = [/--ready-timeout to be a duration .* got "soon"/, /unknown capability "stapling"/, /--reload-signal "NOPE" is not a signal/, /crl-reload needs --reload-signal/, /--capabilities applies only to --server-cmd/, /unterminated single quote/];
    runs.forEach((run, i) => {
      expect(run.code).to.equal(2);
      expect(run.err).to.have.length(1);
      expect(run.err[0]).to.match(expected[i] ?? /$^/);
    });
  });

  it('ends the run with exit 2 and the last output when the command exits before listening', async function () {
    const run = await cli(['--server-cmd', `sh -c 'echo "cannot open {cert}: boom" >&2; exit 3'`, '--grep', 'valid-client']);
    expect(run.code).to.equal(2);
    expect(run.err).to.have.length(1);
    expect(run.err[0]).to.match(/--server-cmd sh: it exited \(exit code 3\) before listening on 127\.0\.0\.1:\d+; its last output: cannot open \/.*server\.pem: boom/);
  });

  it('ends the run with exit 2 when the command never listens, and kills it', async function () {
    const run = await cli(['--server-cmd', 'sleep 31.4159', '--ready-timeout', '300ms', '--grep', 'valid-client', '--tls', '1.3']);
    expect(run.code).to.equal(2);
    expect(run.err[0]).to.match(/did not listen on 127\.0\.0\.1:\d+ within 300 ms; it printed nothing; it must listen on \{host\}:\{port\}/);
    expect(await processesWith('31.4159')).to.deep.equal([]);
  });

  it('runs a server that opens /dev/stderr and /dev/stdout by path (nginx, container-style logs) through the core cases', async function () {
    this.timeout(120_000);
    const command = 'test/fixtures/servers/nginx-stdio.sh {host} {port} {dir} {cert} {key} {ca} {crl} {canary}';
    const adapter = commandAdapter({ command, capabilities: ['crl', 'log-identity'], readyTimeoutMs: 10_000 });
    const core = CATALOGUE.filter((c) => c.core === true);
    const results = await runCases({ adapter, cases: core });
    expect(results.map((r) => `${r.id} ${r.tls} ${r.verdict}`)).to.deep.equal(core.flatMap((c) => ['1.2', '1.3'].map((tls) => `${c.id} ${tls} pass`)));
    const logged = results.find((r) => r.id === 'identity::cn-logged')?.evidence.logExcerpt ?? [];
    // Both by-path streams arrive: the error log's start-up notices and the access log's request line.
    expect(logged.some((l) => /\[notice\] .*nginx\//.test(l)), logged.join('\n')).to.equal(true);
    expect(logged.some((l) => /"GET \/ HTTP\/1\.1" 200 verify=SUCCESS dn="CN=/.test(l)), logged.join('\n')).to.equal(true);
  });

  it('kills the whole process group on stop, background children included', async function () {
    const adapter = commandAdapter({ command: `sh -c 'sleep 27.1828 & exec ${PYTHON}'`, capabilities: [], readyTimeoutMs: 10_000 });
    const results = await runCases({ adapter, cases: CATALOGUE.filter((c) => c.id === 'trust::valid-client'), tls: ['1.3'] });
    expect(results.map((r) => r.verdict)).to.deep.equal(['pass']);
    // A SIGKILLed process leaves /proc a moment after the signal: poll, within a bound, for the group to be gone.
    const deadline = Date.now() + 3_000;
    while ((await processesWith('27.1828')).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await processesWith('27.1828')).to.deep.equal([]);
    expect(await childPids(process.pid)).to.deep.equal([]);
  });

  it('reloads by rewriting the CRL in place and sending the reload signal', async function () {
    const adapter = commandAdapter({ command: PYTHON, capabilities: ['crl', 'crl-reload'], reloadSignal: 'SIGHUP', readyTimeoutMs: 10_000 });
    const results = await runCases({ adapter, cases: [RELOAD_CASE] });
    // Both TLS versions ran and passed, so the log check below is not vacuous.
    expect(results.map((r) => `${r.tls}:${r.verdict}:${r.message}`)).to.deep.equal(['1.2', '1.3'].map((tls, i) => `${tls}:pass:${results[i]?.message ?? ''}`));
    expect(results.every((r) => r.evidence.logExcerpt?.includes('reloaded CA and CRL'))).to.equal(true);
  });

  it('picks another port when the picked one is lost to a race, a bounded number of times', async function () {
    let calls = 0;
    const lost = Object.assign(new Error('lost'), { portLost: true });
    const port = await startOnFreePort('127.0.0.1', (p) => (++calls < 3 ? Promise.reject(lost) : Promise.resolve(p)), (e) => (e as { portLost?: boolean }).portLost === true);
    expect(calls).to.equal(3);
    expect(port).to.be.greaterThan(0);
    calls = 0;
    const error = await startOnFreePort('127.0.0.1', () => { calls++; return Promise.reject(lost); }, () => true).catch((e: unknown) => e);
    expect(error).to.equal(lost);
    expect(calls).to.equal(3);
  });
});
