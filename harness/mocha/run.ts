// The catalogue as mocha tests: `describeCases(family, cases)` registers one
// `describe` per family and one `it` per case and TLS version. Each `it` awaits
// its own case run (started ahead, see session.ts) and asserts its verdict with
// chai. Two ways in:
// - the CLI (harness/cli/main.ts) creates a ConformanceRun, loads the spec files and
//   lets the run register every selected case under the servers it checks;
// - bare `npx mocha spec/<family>.spec.ts` (the repository's .mocharc.cjs): the
//   first describeCases creates a run against $MTLS_CONFORMANCE_SERVER.
// docs/specs.md is the user's guide to this API.
import Mocha from 'mocha';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseDefinition, TlsLabel } from '../run/case.ts';
import { HarnessError } from '../errors.ts';
import { runLabels, type CaseResult } from '../run/runner.ts';
import type { TlsVersion } from '../types.ts';
import * as chai from 'chai';
import { CaseRunError } from './chai.ts';
import { SKIPPED } from '../run/verdicts.ts';
import { Lanes, ServerSession, type SessionSettings, type SessionTarget } from './session.ts';

/** What a registered `it` stands for; the reporter reads it from the test object. */
export interface CaseTest {
  /** Index of the server's session in the run. */
  serverIndex: number;
  def: CaseDefinition;
  label: TlsLabel | 'once';
  /** Set once the run's result arrived (also for skipped verdicts). */
  result?: CaseResult;
}

const CASE_TEST = Symbol.for('mtls-conformance.case-test');

/** The case a mocha test stands for, when it is one of the suite's. */
export function caseTestOf(test: Mocha.Runnable): CaseTest | undefined {
  return (test as unknown as { [CASE_TEST]?: CaseTest })[CASE_TEST];
}

/** A family a spec file declared, waiting to be registered by the CLI's run. */
export interface DeclaredFamily {
  family: string;
  cases: readonly CaseDefinition[];
  /** The spec file that declared it. */
  file: string | undefined;
  /** The suite it was declared in (a user's own describe, or the root). */
  parent: Mocha.Suite | undefined;
}

/** The title of a case's `it`: its sentence and TLS version. */
export function testTitle(def: Pick<CaseDefinition, 'title'>, label: TlsLabel | 'once'): string {
  return `${def.title} [${label === 'once' ? 'best TLS version' : `TLS ${label}`}]`;
}

/** The `it`s of a case: one per TLS version it runs under ('once': one, under the best version the server speaks). */
export function caseLabels(def: CaseDefinition, versions: readonly TlsVersion[]): (TlsLabel | 'once')[] {
  return def.tls === 'once' ? ['once'] : runLabels(def, versions);
}

/** How a run's cases are chosen, beyond mocha's own --grep and .only. */
export interface RunSelection {
  /** TLS versions the its are registered for (default both). */
  tls?: readonly TlsVersion[];
}

/** One mocha run of the suite against one or more servers. */
export class ConformanceRun {
  readonly sessions: ServerSession[] = [];
  /** Families the spec files declared, in load order. */
  readonly declared: DeclaredFamily[] = [];
  /** Set when the run is cut short (interrupt, fatal fault): no report is written for unfinished servers. */
  stopped = false;
  /** Why the report files could not be written, when they could not. */
  reportError: unknown;
  /** mocha --grep as the runner applies it (bare mode), to start only the runs mocha will run. */
  grep: { re: RegExp; invert: boolean } | undefined;
  private readonly versions: readonly TlsVersion[];
  private readonly hooked = new WeakSet<Mocha.Suite>();
  /** Registers a family the moment it is declared (bare mode); the CLI registers after selecting. */
  readonly eager: boolean;
  private readonly pendingTargets: (() => Promise<{ targets: SessionTarget[]; settings: SessionSettings }>) | undefined;

  constructor(opts: { targets?: SessionTarget[]; settings?: SessionSettings; selection?: RunSelection; eager?: boolean; resolve?: () => Promise<{ targets: SessionTarget[]; settings: SessionSettings }> }) {
    this.versions = opts.selection?.tls ?? ['1.2', '1.3'];
    this.eager = opts.eager === true;
    this.pendingTargets = opts.resolve;
    if (opts.targets && opts.settings) this.addSessions(opts.targets, opts.settings);
  }

  addSessions(targets: readonly SessionTarget[], settings: SessionSettings): void {
    // Two servers' cases overlap at most: enough to overlap one server's waits with another's work on two cores.
    const lanes = new Lanes(2);
    for (const target of targets) this.sessions.push(new ServerSession(target, settings, lanes));
  }

  /** Names of the servers, in run order (empty until known in bare mode). */
  get servers(): string[] { return this.sessions.map((s) => s.name); }

  /**
   * Registers a family's its under `parent`. `server` is the session index; with several servers each gets its own
   * suite (created by the caller), with one the family sits directly under `parent`.
   */
  registerFamily(parent: Mocha.Suite, family: string, cases: readonly CaseDefinition[], file: string | undefined, server = 0): Mocha.Suite {
    const suite = Mocha.Suite.create(parent, family);
    if (file !== undefined) suite.file = file;
    for (const def of cases) {
      for (const label of caseLabels(def, this.versions)) {
        const info: CaseTest = { serverIndex: server, def, label };
        const sessions = this.sessions;
        const test = new Mocha.Test(testTitle(def, label), async function (this: Mocha.Context) {
          this.timeout(0);
          const session = sessions[server];
          if (!session) throw new Error('no server session for this test');
          const result = await session.result(def, label);
          info.result = result;
          assertVerdict(this, result);
        });
        if (file !== undefined) test.file = file;
        (test as unknown as { [CASE_TEST]: CaseTest })[CASE_TEST] = info;
        suite.addTest(test);
      }
    }
    this.hook(parent);
    return suite;
  }

  /** Every suite test under `suite` that will run (after .only; mocha's --grep where known), in mocha's order. */
  private planned(suite: Mocha.Suite): { test: Mocha.Test; info: CaseTest }[] {
    const out: { test: Mocha.Test; info: CaseTest }[] = [];
    const walk = (s: Mocha.Suite): void => {
      if (s.isPending()) return;
      for (const test of s.tests) {
        const info = caseTestOf(test);
        if (!info || test.isPending()) continue;
        if (this.grep && this.grep.re.test(test.fullTitle()) === this.grep.invert) continue;
        out.push({ test, info });
      }
      for (const child of s.suites) walk(child);
    };
    walk(suite);
    return out;
  }

  /** Hooks on the root suite: start every planned run before the first test, close the sessions after the last. */
  private hook(suite: Mocha.Suite): void {
    let root = suite;
    while (root.parent) root = root.parent;
    if (this.hooked.has(root)) return;
    this.hooked.add(root);
    const start = (): Promise<void> => this.start(root);
    const close = (): Promise<void> => this.close();
    root.beforeAll('start the case runs', async function (this: Mocha.Context) {
      this.timeout(0);
      await start();
    });
    root.afterAll('stop the case runs', async function (this: Mocha.Context) {
      this.timeout(0);
      await close();
    });
  }

  /** Starts, per server, every run mocha will ask for. */
  async start(root: Mocha.Suite): Promise<void> {
    if (this.sessions.length === 0 && this.pendingTargets) {
      const { targets, settings } = await this.pendingTargets();
      this.addSessions(targets, settings);
    }
    const plan = this.planned(root);
    this.sessions.forEach((session, index) => {
      session.schedule(plan.filter((p) => p.info.serverIndex === index).map((p) => ({ def: p.info.def, label: p.info.label })));
    });
  }

  /** Abandons unfinished runs and waits for their cleanup. */
  async close(): Promise<void> {
    await Promise.all(this.sessions.map((s) => s.close()));
  }
}

// Process-wide, not module-wide: a user's spec file may reach this module through another loader (tsx's
// namespaced import, the compiled package), and must still find the CLI's run.
const GLOBAL = Symbol.for('mtls-conformance.mocha-run');
interface RunSlot { current?: ConformanceRun; bare?: () => ConformanceRun }
function slot(): RunSlot {
  const g = globalThis as unknown as { [GLOBAL]?: RunSlot };
  return (g[GLOBAL] ??= {});
}

/** The run spec files register into (the CLI sets one before loading them). */
export function setCurrentRun(run: ConformanceRun | undefined): void {
  if (run) slot().current = run;
  else delete slot().current;
}

/** Installs how bare mocha creates its run (harness/mocha/bare.ts, loaded by the repository's .mocharc). */
export function setBareFactory(factory: () => ConformanceRun): void {
  slot().bare = factory;
}

/** The run spec files register into now, if any. */
export function currentRun(): ConformanceRun | undefined {
  return slot().current;
}

const FAMILY_NAME = /^[a-z][a-z0-9-]*$/;

/** The spec file mocha is loading right now (undefined outside mocha's file loading), and the suite declarations land in. */
function loading(): { file: string | undefined; parent: Mocha.Suite } | undefined {
  if (typeof globalThis.describe !== 'function') return undefined;
  let file: string | undefined;
  const probe = globalThis.describe('', function (this: Mocha.Suite) { file = this.file; });
  const parent = probe.parent;
  if (!parent) return undefined;
  parent.suites = parent.suites.filter((s) => s !== probe);
  return { file, parent };
}

/** Families whose spec module was first evaluated while mocha loaded another file: registered when mocha loads theirs. */
const late = new Map<string, { family: string; cases: readonly CaseDefinition[] }[]>();
const listening = new WeakSet<Mocha.Suite>();

function validateFamily(family: string, cases: readonly CaseDefinition[]): void {
  if (!FAMILY_NAME.test(family)) throw new HarnessError('ERR_MTLS_SPEC', `describeCases: family ${JSON.stringify(family)} is not a name of [a-z0-9-]`, 'name it like trust or acme-api');
  for (const def of cases) {
    if (!def.id.startsWith(`${family}::`)) throw new HarnessError('ERR_MTLS_SPEC', `describeCases('${family}'): case id ${JSON.stringify(def.id)} does not start with "${family}::"`, `name it ${family}::<kebab-name>`);
    if (def.family !== family) throw new HarnessError('ERR_MTLS_SPEC', `describeCases('${family}'): case ${def.id} says family ${JSON.stringify(def.family)}`, `set family: '${family}'`);
  }
}

/**
 * Declares a family of cases in a spec file. Under mocha it registers `describe(family)` with one `it` per case
 * and TLS version; imported outside mocha (the CLI's catalogue, docs) it does nothing. `moduleUrl`
 * (`import.meta.url`) makes the registration happen only when mocha loads that very file as a spec, not when
 * another test file imports it for its data.
 */
export function describeCases(family: string, cases: readonly CaseDefinition[], moduleUrl?: string): void {
  validateFamily(family, cases);
  const at = loading();
  if (!at) return;
  const own = moduleUrl === undefined ? undefined : path.resolve(fileURLToPath(moduleUrl));
  if (own !== undefined && at.file !== own) {
    // Imported for its data by another file: register if mocha later loads this module as a spec (ESM runs it once).
    const list = late.get(own) ?? [];
    list.push({ family, cases });
    late.set(own, list);
    let root = at.parent;
    while (root.parent) root = root.parent;
    if (!listening.has(root)) {
      listening.add(root);
      root.on('pre-require', (_ctx: unknown, file: string) => {
        const families = late.get(path.resolve(file));
        if (!families) return;
        late.delete(path.resolve(file));
        for (const f of families) declare(f.family, f.cases, path.resolve(file), root);
      });
    }
    return;
  }
  declare(family, cases, at.file, at.parent);
}

function declare(family: string, cases: readonly CaseDefinition[], file: string | undefined, parent: Mocha.Suite): void {
  const s = slot();
  const run = s.current ?? (s.bare ? (s.current = s.bare()) : undefined);
  if (!run) throw new HarnessError('ERR_MTLS_SPEC', `describeCases('${family}') ran under mocha without the suite's setup`, 'run it through mtls-conformance --spec, or with the repository\'s .mocharc (it loads harness/mocha/bare.ts)');
  if (run.eager) run.registerFamily(parent, family, cases, file);
  else run.declared.push({ family, cases, file, parent });
}

/** Settles an `it` from its case run: pass returns, skipped verdicts skip (the reason travels on the test), failing ones throw. */
export function assertVerdict(ctx: Mocha.Context, result: CaseResult): void {
  if (result.verdict === 'error') throw new CaseRunError(`${result.id} [TLS ${result.tls}]: error: ${result.message}`);
  if (SKIPPED.includes(result.verdict)) ctx.skip();
  chai.expect(result).to.conform();
}
