// One server's part of a mocha run: the case runs its `it`s await, started
// ahead in the runner's bounded pool so that mocha's serial order does not
// serialise openssl and servers. Each `it` awaits its own run's result.
import type { CaseDefinition, TlsLabel } from '../run/case.ts';
import { type Expectations } from '../run/expectations.ts';
import { runCases, type CaseResult, type RunOptions, type ServerProfile } from '../run/runner.ts';
import type { ServerAdapter } from '../types.ts';

/** A server the run checks, with its known deviations. */
export interface SessionTarget {
  adapter: ServerAdapter;
  expectations: Expectations;
}

/** What every case run of a session shares (the CLI's flags). */
export type SessionSettings = Omit<RunOptions, 'adapter' | 'cases' | 'expectations' | 'onResult' | 'onProfile' | 'profile' | 'select'>;

/** The key of one run of a case: its id and TLS label ('once' cases have one run, whichever version it takes). */
export function runKey(def: Pick<CaseDefinition, 'id' | 'tls'>, label: TlsLabel | 'once'): string {
  return def.tls === 'once' ? `${def.id} once` : `${def.id} ${label}`;
}

interface Pending {
  promise: Promise<CaseResult>;
  resolve(result: CaseResult): void;
  reject(error: unknown): void;
}

function pending(): Pending {
  let resolve!: (result: CaseResult) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<CaseResult>((res, rej) => { resolve = res; reject = rej; });
  // A run nobody awaits any more (mocha bailed, or the run was interrupted) must not become an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/** A gate that lets at most `width` sessions run their cases at once (servers are independent: two overlap well on two cores). */
export class Lanes {
  private free: number;
  private readonly queue: (() => void)[] = [];
  constructor(width: number) { this.free = width; }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => { this.queue.push(resolve); });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      if (next) next();
      else this.free += 1;
    };
  }
}

/** The case runs of one server in one mocha run. */
export class ServerSession {
  readonly target: SessionTarget;
  /** What the server speaks, once learnt (before its first case ran). */
  profile: ServerProfile | undefined;
  /** The fault that ended the session's runs (the server never starts, a broken adapter, an interrupt). */
  fatal: unknown;
  /** Called once when `fatal` is set. */
  onFatal: (() => void) | undefined;
  /** Milliseconds from the first run's start to the last run's end. */
  totalMs = 0;
  private readonly runs = new Map<string, Pending>();
  private readonly stop = new AbortController();
  private chain: Promise<void> = Promise.resolve();
  private began: number | undefined;
  private readonly settings: SessionSettings;
  private readonly lanes: Lanes;

  constructor(target: SessionTarget, settings: SessionSettings, lanes: Lanes) {
    this.target = target;
    this.lanes = lanes;
    const outer = settings.signal;
    if (outer) {
      if (outer.aborted) this.stop.abort(outer.reason);
      else outer.addEventListener('abort', () => { this.stop.abort(outer.reason); }, { once: true });
    }
    this.settings = { ...settings, signal: this.stop.signal };
  }

  get name(): string { return this.target.adapter.name; }

  /** Starts the given runs (those not started yet) in one batch, behind any batch already going. */
  schedule(runs: readonly { def: CaseDefinition; label: TlsLabel | 'once' }[]): void {
    const fresh = runs.filter((r) => !this.runs.has(runKey(r.def, r.label)));
    if (fresh.length === 0) return;
    const keys = new Set(fresh.map((r) => runKey(r.def, r.label)));
    for (const key of keys) this.runs.set(key, pending());
    const cases = [...new Set(fresh.map((r) => r.def))];
    this.chain = this.chain.then(() => this.runBatch(cases, keys));
  }

  /** The result of one run, starting it when it was not scheduled ahead. */
  result(def: CaseDefinition, label: TlsLabel | 'once'): Promise<CaseResult> {
    const key = runKey(def, label);
    if (!this.runs.has(key)) this.schedule([{ def, label }]);
    const run = this.runs.get(key);
    if (!run) throw new Error(`no run for ${key}`);
    return run.promise;
  }

  /** Abandons what has not finished (mocha bailed or was interrupted) and waits for its cleanup. */
  async close(): Promise<void> {
    this.stop.abort(new Error('the mocha run ended before this case ran'));
    await this.chain;
  }

  private async runBatch(cases: CaseDefinition[], keys: Set<string>): Promise<void> {
    const settle = (error: unknown): void => {
      for (const key of keys) this.runs.get(key)?.reject(error);
    };
    if (this.fatal !== undefined) { settle(this.fatal); return; }
    if (this.stop.signal.aborted) { settle(this.stop.signal.reason); return; }
    const release = await this.lanes.acquire();
    this.began ??= performance.now();
    try {
      await runCases({
        ...this.settings,
        adapter: this.target.adapter, expectations: this.target.expectations, cases,
        select: (def, label) => keys.has(runKey(def, label)),
        ...(this.profile ? { profile: this.profile } : {}),
        onProfile: (p) => { this.profile = p; },
        onResult: (r) => {
          const def = cases.find((c) => c.id === r.id);
          const key = def ? runKey(def, r.tls) : `${r.id} ${r.tls}`;
          this.runs.get(key)?.resolve(r);
        },
      });
      // A run the runner did not carry out (it never does, but a silent hole must not pass).
      settle(new Error('the runner returned no result for this run'));
    } catch (error) {
      if (this.fatal === undefined && !this.stop.signal.aborted) {
        this.fatal = error;
        this.onFatal?.();
      }
      settle(error);
    } finally {
      release();
      this.totalMs = Math.round(performance.now() - this.began);
    }
  }
}
