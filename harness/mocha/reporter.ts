// The project's mocha reporter. It always runs, beside the reporter the user
// chose (mocha's built-ins or any installed one, which it constructs on the same
// runner): it collects every case run's result from the tests and, when mocha
// is done, writes the report files (report.json, report.md, report.html,
// junit.xml per server, and the matrix). Verdicts mocha has no word for
// (not-applicable, expected-fail, warning) are pending tests to mocha; their
// verdict and reason travel on the test object and reach every report file.
import Mocha from 'mocha';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createProgress, type Progress } from '../report/console.ts';
import { HarnessError, messageOf } from '../errors.ts';
import { staleEntries } from '../run/expectations.ts';
import { summarize, writeMatrix, writeServerReport, type ServerReport } from '../report/files.ts';
import type { CaseResult } from '../run/runner.ts';
import { caseTestOf, type ConformanceRun } from './run.ts';

/** A mocha reporter class. */
export type ReporterClass = new (runner: Mocha.Runner, options?: Mocha.MochaOptions) => unknown;

/** What the CLI hands the reporter (as mocha's reporterOption). */
export interface ConformanceReporterOptions {
  run: ConformanceRun;
  /** The reporter the user chose; none = the suite's own console lines, printed by the CLI after the run. */
  inner?: ReporterClass;
  /** Options for the inner reporter (--reporter-option). */
  innerOptions?: Record<string, string>;
  /** Where the report files go; none = reports are built and handed over, not written. */
  reportDir?: string;
  version: string;
  shard?: { index: number; count: number };
  /** Every case id the run knows (built-in and the user's own), for stale expectation entries. */
  knownIds: readonly string[];
  /** Adds what the CLI knows to a report before it is written (the --baseline comparison). */
  decorate?: (report: ServerReport) => void;
  /** Receives the reports written, in server order. */
  onReports: (reports: ServerReport[]) => void;
  /** Live progress on a terminal (only with the suite's own console output). */
  progress?: NodeJS.WriteStream;
}

/** Resolves --reporter: a mocha built-in by name, else a module installed where the user runs (or a path). */
export async function loadReporter(name: string, cwd = process.cwd()): Promise<ReporterClass> {
  const builtIn = (Mocha.reporters as unknown as Record<string, ReporterClass | undefined>)[name];
  if (builtIn && name !== 'Base' && name !== 'base') return builtIn;
  let file: string;
  try {
    file = createRequire(path.join(cwd, 'package.json')).resolve(name.startsWith('.') ? path.resolve(cwd, name) : name);
  } catch {
    throw new HarnessError('ERR_MTLS_USAGE', `--reporter ${JSON.stringify(name)} is neither a mocha reporter nor an installed module`,
      `use one of ${Object.keys(Mocha.reporters).filter((r) => r !== 'Base' && r !== 'base').join(', ')}, or npm install the reporter`);
  }
  let loaded: unknown;
  try {
    loaded = await import(pathToFileURL(file).href);
  } catch (error) {
    throw new HarnessError('ERR_MTLS_USAGE', `--reporter ${name} could not be loaded (${messageOf(error).split('\n')[0] ?? ''})`, 'check that the module is a mocha reporter');
  }
  const mod = loaded as { default?: unknown };
  const candidate = typeof mod.default === 'function' ? mod.default : typeof (mod.default as { default?: unknown } | undefined)?.default === 'function' ? (mod.default as { default: unknown }).default : loaded;
  if (typeof candidate !== 'function') throw new HarnessError('ERR_MTLS_USAGE', `--reporter ${name} does not export a reporter class`, 'check that the module is a mocha reporter');
  return candidate as ReporterClass;
}

/** The results of the run, per server, in mocha's order: only tests that ran. */
export function collectResults(root: Mocha.Suite): Map<number, CaseResult[]> {
  const out = new Map<number, CaseResult[]>();
  const walk = (s: Mocha.Suite): void => {
    for (const test of s.tests) {
      const info = caseTestOf(test);
      if (!info?.result) continue;
      const list = out.get(info.serverIndex) ?? [];
      list.push(info.result);
      out.set(info.serverIndex, list);
    }
    for (const child of s.suites) walk(child);
  };
  walk(root);
  return out;
}

/** The reports of a finished run (servers whose runs were cut short by a fault have none). */
export function buildReports(root: Mocha.Suite, opts: Pick<ConformanceReporterOptions, 'run' | 'version' | 'shard' | 'knownIds' | 'decorate'>): ServerReport[] {
  const results = collectResults(root);
  const reports: ServerReport[] = [];
  opts.run.sessions.forEach((session, index) => {
    if (session.fatal !== undefined) return;
    const cases = results.get(index) ?? [];
    const report: ServerReport = {
      server: session.name, capabilities: session.target.adapter.capabilities, summary: summarize(cases),
      staleExpectations: staleEntries(session.target.expectations, opts.knownIds), cases,
      totalMs: session.totalMs, version: opts.version, ...(opts.shard ? { shard: opts.shard } : {}), ...(session.profile ? { tls: session.profile } : {}),
    };
    opts.decorate?.(report);
    reports.push(report);
  });
  return reports;
}

/** The reporter mocha runs: the chosen one inside, the report files when done. */
export class ConformanceReporter {
  private readonly runner: Mocha.Runner;
  private readonly opts: ConformanceReporterOptions;
  private readonly progress: Progress | undefined;

  constructor(runner: Mocha.Runner, options: Mocha.MochaOptions & { reporterOption?: ConformanceReporterOptions }) {
    this.runner = runner;
    const opts = options.reporterOption;
    if (!opts) throw new Error('ConformanceReporter needs its options (reporterOption)');
    this.opts = opts;
    if (opts.inner) new opts.inner(runner, { ...options, reporterOption: opts.innerOptions ?? {}, reporterOptions: opts.innerOptions ?? {} } as Mocha.MochaOptions);
    if (!opts.inner && opts.progress) {
      const total = (runner as unknown as { total?: number }).total ?? 0;
      const progress = createProgress(opts.run.servers.join(', '), total, opts.progress);
      this.progress = progress;
      const tick = (test: Mocha.Test): void => {
        const result = caseTestOf(test)?.result;
        if (result) progress.tick(result);
      };
      runner.on(Mocha.Runner.constants.EVENT_TEST_END, tick);
      runner.on(Mocha.Runner.constants.EVENT_TEST_PENDING, tick);
    }
  }

  /** Called by mocha when the run has ended: writes the reports, then lets mocha finish. */
  done(failures: number, fn: (failures: number) => void): void {
    this.progress?.done();
    void this.write().then(() => { fn(failures); }, (error: unknown) => {
      this.opts.run.reportError = error;
      fn(failures);
    });
  }

  private async write(): Promise<void> {
    const { run, reportDir } = this.opts;
    if (run.stopped) return;
    const reports = buildReports(this.runner.suite, this.opts);
    if (reportDir !== undefined) {
      for (const report of reports) await writeServerReport(reportDir, report, { version: this.opts.version });
      await writeMatrix(reportDir, reports);
    }
    this.opts.onReports(reports);
  }
}
