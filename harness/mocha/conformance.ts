// One session layer, from servers to reports, for the CLI, the docs, the bench
// and the tests: the selected cases registered as mocha tests (one suite per
// server when there are several), run by mocha with the project's reporter
// beside any other, and the reports of the servers that could be checked.
import Mocha from 'mocha';
import path from 'node:path';
import { CATALOGUE } from '../../spec/index.ts';
import type { CaseDefinition } from '../run/case.ts';
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

/**
 * Registers exactly `cases`, in their order, as mocha tests: a family suite per run of consecutive cases of one
 * family and spec file, under a suite per server when there are several. A case a spec file declared keeps that
 * file and the suite it was declared in; any other (the catalogue's) names its family's spec file.
 */
export function registerSelected(mocha: Mocha, run: ConformanceRun, cases: readonly CaseDefinition[]): void {
  const root = mocha.suite;
  const origin = new Map<CaseDefinition, { file: string | undefined; parent: Mocha.Suite | undefined }>();
  for (const f of run.declared) for (const def of f.cases) origin.set(def, { file: f.file, parent: f.parent });
  const groups: { family: string; cases: CaseDefinition[]; file: string | undefined; parent: Mocha.Suite | undefined }[] = [];
  for (const def of cases) {
    const from = origin.get(def) ?? { file: path.join(packageRoot(), 'spec', `${def.family}.spec.ts`), parent: undefined };
    const last = groups.at(-1);
    if (last && last.family === def.family && last.file === from.file && last.parent === from.parent) last.cases.push(def);
    else groups.push({ family: def.family, cases: [def], ...from });
  }
  run.sessions.forEach((session, index) => {
    const serverSuite = run.sessions.length > 1 ? Mocha.Suite.create(root, session.name) : undefined;
    for (const g of groups) run.registerFamily(serverSuite ?? g.parent ?? root, g.family, g.cases, g.file, index);
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
  registerSelected(mocha, run, cases);
  const { reports } = await runConformance(mocha, run, { version: rest.version ?? '', knownIds: rest.knownIds ?? [...CATALOGUE, ...cases].map((c) => c.id), ...rest });
  return reports;
}
