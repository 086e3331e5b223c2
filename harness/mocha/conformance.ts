// One session layer, from servers to reports, for the CLI, the docs, the bench
// and the tests: the selected cases registered as mocha tests (one suite per
// server when there are several), run by mocha with the project's reporter
// beside any other, and the reports of the servers that could be checked.
import Mocha from 'mocha';
import path from 'node:path';
import { CATALOGUE } from '../../spec/index.ts';
import { FAMILIES, type CaseDefinition } from '../run/case.ts';
import { HarnessError, messageOf } from '../errors.ts';
import { packageRoot } from '../run/package-root.ts';
import type { ServerReport } from '../run/results.ts';
import { ConformanceReporter, type ConformanceReporterOptions } from './reporter.ts';
import { ConformanceRun } from './run.ts';
import type { SessionSettings, SessionTarget } from './session.ts';
import type { TlsVersion } from '../types.ts';

/** The user's own families and cases, from the spec files the run loaded. */
export function userCases(run: ConformanceRun): CaseDefinition[] {
  const builtIn = new Map(CATALOGUE.map((c) => [c.id, c]));
  const seen = new Map<string, CaseDefinition>();
  for (const f of run.declared) {
    for (const def of f.cases) {
      if (builtIn.get(def.id) === def) continue;
      if (builtIn.has(def.id) || (seen.has(def.id) && seen.get(def.id) !== def)) {
        throw new HarnessError('ERR_MTLS_SPEC', `case id ${def.id} (in ${f.file ?? 'a spec file'}) is declared twice`, 'give every case an id of its own');
      }
      seen.set(def.id, def);
    }
  }
  return [...seen.values()];
}

/** Registers the selected cases as mocha tests: built-in families first, then the user's, under a suite per server when there are several. */
export function registerSelected(mocha: Mocha, run: ConformanceRun, cases: readonly CaseDefinition[], users: readonly CaseDefinition[]): void {
  const chosen = new Set(cases);
  const root = mocha.suite;
  const builtInFamilies = FAMILIES.map((family) => ({ family: family, cases: CATALOGUE.filter((c) => c.family === family && chosen.has(c)), file: path.join(packageRoot(), 'spec', `${family}.spec.ts`), parent: undefined as Mocha.Suite | undefined }));
  const userIds = new Set(users.map((u) => u.id));
  const declared = run.declared.map((f) => ({ ...f, cases: f.cases.filter((c) => userIds.has(c.id) && chosen.has(c)) }));
  const families = [...builtInFamilies, ...declared].filter((f) => f.cases.length > 0);
  run.sessions.forEach((session, index) => {
    const several = run.sessions.length > 1;
    const serverSuite = several ? Mocha.Suite.create(root, session.name) : undefined;
    for (const f of families) run.registerFamily(serverSuite ?? f.parent ?? root, f.family, f.cases, f.file, index);
  });
}

/** What runConformance needs beyond the run: the reporter's options, and the signal that interrupts the run. */
export type ConformanceOptions = Omit<ConformanceReporterOptions, 'run' | 'onReports'> & { signal?: AbortSignal };

/**
 * Runs the registered tests with mocha; returns the reports (written when `reportDir` is given) and mocha's failure
 * count (which includes plain tests of the user's spec files). Throws the fault that made a server uncheckable, an
 * interrupt, or a report that could not be written.
 */
export async function runConformance(mocha: Mocha, run: ConformanceRun, opts: ConformanceOptions): Promise<{ reports: ServerReport[]; failures: number }> {
  let reports: ServerReport[] = [];
  const { signal, ...reporter } = opts;
  mocha.reporter(ConformanceReporter as unknown as Mocha.ReporterConstructor, { ...reporter, run, onReports: (r: ServerReport[]) => { reports = r; } } satisfies ConformanceReporterOptions);
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run(resolve);
    const stopRun = (): void => { run.stopped = true; runner.abort(); };
    if (signal?.aborted) stopRun();
    signal?.addEventListener('abort', stopRun, { once: true });
    // A server that cannot be checked at all ends the run: no use awaiting every other test's error.
    for (const session of run.sessions) session.onFatal = stopRun;
  });
  const fatal = run.sessions.find((s) => s.fatal !== undefined)?.fatal;
  if (fatal !== undefined) throw fatal instanceof Error ? fatal : new Error(messageOf(fatal));
  if (signal?.aborted) throw new HarnessError('ERR_MTLS_INTERRUPTED', 'the run was interrupted', 'run it again');
  if (run.reportError !== undefined) throw run.reportError instanceof Error ? run.reportError : new Error(messageOf(run.reportError));
  return { reports, failures };
}

/** The catalogue (or `cases`) against servers, through mocha with no console output: the reports. For the docs, the bench and the tests. */
export async function checkServers(targets: readonly SessionTarget[], cases: readonly CaseDefinition[], settings: SessionSettings = {}, opts: Partial<ConformanceOptions> & { tls?: readonly TlsVersion[] } = {}): Promise<ServerReport[]> {
  const { tls, ...rest } = opts;
  const versions = tls ?? settings.tls;
  const run = new ConformanceRun({ targets: [...targets], settings: { ...settings, ...(versions ? { tls: versions } : {}) }, ...(versions ? { selection: { tls: versions } } : {}) });
  const mocha = new Mocha();
  registerSelected(mocha, run, cases, cases.filter((c) => !CATALOGUE.includes(c)));
  const { reports } = await runConformance(mocha, run, { version: rest.version ?? '', knownIds: rest.knownIds ?? [...CATALOGUE, ...cases].map((c) => c.id), ...rest });
  return reports;
}
