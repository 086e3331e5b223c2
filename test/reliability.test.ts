// Nothing outlives a run: the CLI runs as a subprocess against fixture adapters
// that pass, fail, throw, hang, crash or are interrupted, and afterwards its
// TMPDIR holds nothing of the suite's, no process carries the run's marker, and
// every port a fixture server listened on is closed. Scenarios run a few at a
// time, each in a workspace of its own.
import { expect } from 'chai';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fixtureAdapter, limit, makeWorkspace, removeWorkspace, runCli, SUBPROCESS_SLOTS, type CliRun, type CliRunOptions } from './fixtures/run-cli.ts';

/** Asserts the run left nothing behind and its fixture really started a server. */
function expectNothingLeft(run: CliRun): void {
  const context = `exit ${String(run.exitCode)}\n${run.stdout}\n${run.stderr}`;
  expect(run.events.filter((e) => e.event === 'listening').length, `no fixture server listened\n${context}`).to.be.above(0);
  expect(run.tmpLeft, `temp entries left\n${context}`).to.deep.equal([]);
  expect(run.processesLeft.map((p) => `${p.pid} ${p.command.slice(0, 80)}`), `processes left\n${context}`).to.deep.equal([]);
  expect(run.portsOpen, `ports left open\n${context}`).to.deep.equal([]);
}

/** Asserts stderr is free of stack traces. */
function expectNoStack(run: CliRun): void {
  expect(run.stderr).to.not.match(/\n\s+at /);
}

/** A CLI run and, for the pass scenario, what its reports contained. */
interface Outcome {
  run: CliRun;
  reports: { file: string; text: string }[];
}

const ONE = ['--grep', 'trust::valid-client', '--tls', '1.3'];

/** One scenario: a fixture adapter, extra flags, and how to interrupt it. */
interface Scenario {
  adapter: string;
  args: string[];
  options?: CliRunOptions;
  /** Files the user already has in the report dir, relative to it. */
  userFiles?: Record<string, string>;
}

const SCENARIOS = {
  passes: { adapter: 'well-behaved', args: ONE, userFiles: { 'notes.txt': 'mine\n', 'well-behaved/notes.txt': 'also mine\n', 'archive/2025/report.json': '{}\n' } },
  fails: { adapter: 'serves-anyone', args: ['--grep', 'trust::wrong-ca', '--tls', '1.3'] },
  throwsInStart: { adapter: 'throws-in-start', args: ONE },
  throwsInStartDebug: { adapter: 'throws-in-start', args: [...ONE, '--debug'] },
  hangsInStart: { adapter: 'hangs-in-start', args: [...ONE, '--start-timeout', '500ms'] },
  hangsInFirstStart: { adapter: 'hangs-in-first-start', args: ['--grep', 'trust::valid-client', '--concurrency', '1', '--start-timeout', '500ms'] },
  hangsInLaterStart: { adapter: 'hangs-in-a-later-start', args: ['--grep', 'trust::(valid-client|wrong-ca)', '--concurrency', '1', '--start-timeout', '500ms'] },
  hangsInStop: { adapter: 'hangs-in-stop', args: [...ONE, '--stop-timeout', '500ms'] },
  crashes: { adapter: 'crashes-mid-case', args: ONE },
  sigintInStart: { adapter: 'hangs-in-start', args: ONE, options: { interrupt: { event: 'listening', signal: 'SIGINT' } } },
  sigtermInProbe: { adapter: 'never-answers', args: ONE, options: { interrupt: { event: 'connected', signal: 'SIGTERM' } } },
  secondSigint: { adapter: 'hangs-in-stop', args: ONE, options: { interrupt: { event: 'stop', signal: 'SIGINT', again: true } } },
  caseHangs: { adapter: 'never-answers', args: [...ONE, '--case-timeout', '700ms'] },
  runTooLong: { adapter: 'never-answers', args: [...ONE, '--run-timeout', '1s'] },
} satisfies Record<string, Scenario>;

describe('nothing outlives a run', function () {
  const outcomes = new Map<string, Promise<Outcome>>();

  before(function () {
    const slots = limit(SUBPROCESS_SLOTS);
    for (const [name, scenario] of Object.entries(SCENARIOS) as [string, Scenario][]) {
      outcomes.set(name, slots(async () => {
        const ws = await makeWorkspace();
        try {
          for (const [file, text] of Object.entries(scenario.userFiles ?? {})) {
            await mkdir(path.dirname(path.join(ws.reports, file)), { recursive: true });
            await writeFile(path.join(ws.reports, file), text);
          }
          const run = await runCli(ws, ['--server', fixtureAdapter(scenario.adapter), ...scenario.args, '--report-dir', ws.reports], scenario.options);
          const entries = await readdir(ws.reports, { recursive: true, withFileTypes: true }).catch(() => []);
          const reports = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => {
            const file = path.join(e.parentPath, e.name);
            return { file: path.relative(ws.reports, file), text: await readFile(file, 'utf8') };
          }));
          return { run, reports };
        } finally {
          await removeWorkspace(ws);
        }
      }));
    }
  });

  const outcome = async (name: keyof typeof SCENARIOS): Promise<Outcome> => {
    const found = outcomes.get(name);
    if (!found) throw new Error(`scenario ${name} did not run`);
    return found;
  };

  it('leaves nothing behind after a run that passes, and no private key reaches the reports', async function () {
    const { run, reports } = await outcome('passes');
    expect(run.exitCode, run.stderr).to.equal(0);
    expectNothingLeft(run);
    expect(reports.length).to.be.above(0);
    for (const r of reports) expect(r.text, r.file).to.not.include('PRIVATE KEY');
  });

  it("writes only inside its own subfolder of the report dir and leaves the user's files as they were", async function () {
    const { reports } = await outcome('passes');
    const before = SCENARIOS.passes.userFiles;
    for (const [file, text] of Object.entries(before)) expect(reports.find((r) => r.file === file)?.text, file).to.equal(text);
    // The matrix page (index.html) is the one file docs/contract.md puts at the top of the report dir.
    const written = reports.map((r) => r.file).filter((f) => !(f in before));
    expect(written.length).to.be.above(0);
    expect(written.filter((f) => !f.startsWith(`well-behaved${path.sep}`) && f !== 'index.html')).to.deep.equal([]);
  });

  it('leaves nothing behind after a run that fails', async function () {
    const { run } = await outcome('fails');
    expect(run.exitCode, run.stdout).to.equal(1);
    expect(run.stdout).to.match(/✗ refuses a client signed by another company's CA/);
    expectNothingLeft(run);
  });

  it('ends with exit 2 and one line when the adapter throws in start, and stops the server it left', async function () {
    const { run } = await outcome('throwsInStart');
    expect(run.exitCode).to.equal(2);
    expect(run.stderr).to.match(/^mtls-conformance: server throws-in-start never started: .*config check failed: unknown directive/m);
    expect(run.stderr).to.match(/stopped \d+ process(es)? the server adapter left running/);
    expectNoStack(run);
    expectNothingLeft(run);
  });

  it('ends with exit 2 when the adapter hangs in start, naming the bound', async function () {
    const { run } = await outcome('hangsInStart');
    expect(run.exitCode).to.equal(2);
    expect(run.stderr).to.match(/server hangs-in-start never started: server hangs-in-start did not start within 500 ms: start\(\) never resolved/);
    expectNothingLeft(run);
  });

  it('ends the run after one bound when the first start hangs, not after a second try', async function () {
    const { run } = await outcome('hangsInFirstStart');
    expect(run.exitCode, run.stdout).to.equal(2);
    expect(run.stderr).to.match(/never started: server hangs-in-first-start did not start within 500 ms: start\(\) never resolved; .*raise --start-timeout \(now 500 ms\)/);
    expect(run.events.filter((e) => e.event === 'start')).to.have.length(1);
    expectNothingLeft(run);
  });

  it('gives a start that hangs after a server has started an error verdict and goes on with the next case', async function () {
    const { run } = await outcome('hangsInLaterStart');
    expect(run.exitCode, run.stderr).to.equal(1);
    // The first start is the suite's TLS version check, so the first case's start is the one that hangs.
    expect(run.stdout).to.match(/! .*TLS 1\.2: error: server hangs-in-a-later-start did not start within 500 ms: start\(\) never resolved/);
    expect(run.stdout).to.match(/✓ refuses a client signed by another company's CA — TLS 1\.3/);
    expectNothingLeft(run);
  });

  it('gives advice that fits a start that threw, and shows where the adapter threw under --debug', async function () {
    const { run } = await outcome('throwsInStartDebug');
    expect(run.exitCode).to.equal(2);
    expect(run.stderr).to.not.match(/raise --start-timeout/);
    expect(run.stderr).to.match(/\ncaused by: Error: config check failed[^\n]*\n\s+at [^\n]*test\/fixtures\/child-server\.ts:\d+/);
  });

  it('gives a stop that hangs an error verdict and still ends its server', async function () {
    const { run } = await outcome('hangsInStop');
    expect(run.exitCode).to.equal(1);
    expect(run.stdout).to.match(/error: server hangs-in-stop did not stop within 500 ms: stop\(\) never resolved/);
    expect(run.stderr).to.match(/stopped \d+ process(es)? the server adapter left running/);
    expectNothingLeft(run);
  });

  it('gives a server that crashes mid-case an error verdict and leaves none of its workers', async function () {
    const { run } = await outcome('crashes');
    expect(run.exitCode).to.equal(1);
    expect(run.events.map((e) => e.event)).to.include('crash');
    expect(run.stdout).to.match(/error: server crashes-mid-case stopped listening on 127\.0\.0\.1:\d+ during the case/);
    expectNothingLeft(run);
  });

  it('exits 130 promptly on SIGINT during a start that never resolves', async function () {
    const { run } = await outcome('sigintInStart');
    expect(run.exitCode, run.stderr).to.equal(130);
    expect(run.stderr).to.match(/interrupted by SIGINT; servers stopped and temp dirs removed/);
    expect(run.afterSignalMs).to.be.below(2_000);
    expectNoStack(run);
    expectNothingLeft(run);
  });

  it('exits 143 promptly on SIGTERM during a probe the server never answers', async function () {
    const { run } = await outcome('sigtermInProbe');
    expect(run.exitCode, run.stderr).to.equal(143);
    expect(run.stderr).to.match(/interrupted by SIGTERM/);
    // The probe's own bound is 5 s: an exit well within it shows the probe was cut short, not waited out.
    expect(run.afterSignalMs).to.be.below(2_000);
    expectNothingLeft(run);
  });

  it('exits at once on a second SIGINT while cleanup waits on a stop that hangs, and still leaves nothing', async function () {
    const { run } = await outcome('secondSigint');
    expect(run.exitCode, run.stderr).to.equal(130);
    expect(run.stderr).to.match(/second SIGINT received; killed 1 remaining child process/);
    // The stop bound is 10 s: an exit well within it shows the second signal was obeyed.
    expect(run.afterSignalMs).to.be.below(2_000);
    expectNothingLeft(run);
  });

  it('gives a case that hangs an error verdict naming what hung and for how long', async function () {
    const { run } = await outcome('caseHangs');
    expect(run.exitCode).to.equal(1);
    expect(run.stdout).to.match(/error: the case did not finish within 700 ms: it hung while waiting for a probe with client 'client' against 127\.0\.0\.1:\d+ \(TLS 1\.3\) \(for \d+ ms\)/);
    expectNothingLeft(run);
  });

  it('ends a run that outlives --run-timeout with exit 2', async function () {
    const { run } = await outcome('runTooLong');
    expect(run.exitCode).to.equal(2);
    expect(run.stderr).to.match(/the run did not finish within 1 s; servers stopped and temp dirs removed; raise --run-timeout/);
    expectNothingLeft(run);
  });
});
