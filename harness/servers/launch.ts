// What every real-server adapter (nginx, Apache, --server-cmd) does the same
// way: launch the program on a picked port as its own process group, wait for
// it to accept connections (bounded, abandoned on the start signal), pick again
// when the port was lost to a race, reload by a signal confirmed by polling,
// stop the whole group with a bound.
import { HarnessError } from '../errors.ts';
import { lostPort, NotReady, pollUntil, readLines, spawnGroup, startOnFreePort, waitUntilListening, type ManagedProcess } from './process.ts';

/** How to launch one real server on a port. */
export interface LaunchSpec {
  host: string;
  /** The command line for `port` (writing any config it reads first). */
  argv: (port: number) => Promise<readonly string[]>;
  /** Working directory of the program. */
  cwd?: string;
  /** Directory for FIFOs as stdout and stderr (the program may open /dev/stdout by path). */
  stdioDir?: string;
  /** Bound on accepting connections. */
  readyMs: number;
  /** What must hold too before the server counts as ready (a pid file written after binding). */
  ready?: () => Promise<boolean>;
  /** The lines that explain a failed start (default: the last 5 output lines). */
  tail?: (proc: ManagedProcess) => Promise<string[]>;
  /** The error for a failed start: what went wrong, and the lines that explain it. */
  failure: (error: unknown, tail: string[], argv: readonly string[], port: number) => HarnessError;
  /** The start signal: aborted when the suite abandons the start. */
  signal?: AbortSignal | undefined;
}

/** A real server that accepts connections on `port`. */
export interface Launched {
  proc: ManagedProcess;
  port: number;
  argv: readonly string[];
}

/** Thrown by a start the suite abandoned (its signal aborted). */
function abandoned(): NotReady {
  return new NotReady('the suite abandoned the start', false);
}

/**
 * Launches a real server on a free port and waits until it accepts connections; kills it and rejects when it
 * exits first, when `readyMs` passes or when the signal aborts; picks another port when the first was lost.
 */
export function launchServer(spec: LaunchSpec): Promise<Launched> {
  const { signal } = spec;
  // Read afresh each time (an abort lands while awaiting).
  const gaveUp = (): boolean => signal?.aborted === true;
  const launch = async (port: number): Promise<Launched> => {
    if (gaveUp()) throw spec.failure(abandoned(), [], [], port);
    const argv = await spec.argv(port);
    const proc = await spawnGroup(argv, { ...(spec.cwd !== undefined ? { cwd: spec.cwd } : {}), ...(spec.stdioDir !== undefined ? { stdioDir: spec.stdioDir } : {}) });
    // An abandoned start kills what it spawned at once, rather than at the next poll.
    const onAbort = (): void => { void proc.stop('SIGKILL', 0); };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await waitUntilListening(proc, spec.host, port, spec.readyMs, spec.ready, signal);
      return { proc, port, argv };
    } catch (error) {
      await proc.stop('SIGKILL', 0);
      const tail = spec.tail ? await spec.tail(proc) : proc.lines().slice(-5);
      throw Object.assign(spec.failure(error, tail, argv, port), { portLost: !gaveUp() && error instanceof NotReady && error.exitedEarly && lostPort(tail) });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };
  return startOnFreePort(spec.host, launch, (e) => (e as { portLost?: boolean }).portLost === true);
}

/** The logs of a server with an error log and an access log: error lines first (start-up comes before any request), then access, then its output. */
export function fileLogs(proc: ManagedProcess, errorLog: string, accessLog: string): () => Promise<string[]> {
  return async () => [
    ...(await readLines(errorLog)).map((l) => `error: ${l}`),
    ...(await readLines(accessLog)).map((l) => `access: ${l}`),
    ...proc.lines().map((l) => `stderr: ${l}`),
  ];
}

/** Sends `signal` to the server and polls until `confirmed` holds; rejects with `failure()` when the server exits or `timeoutMs` passes. */
export async function reloadBySignal(proc: ManagedProcess, signal: NodeJS.Signals, confirmed: () => Promise<boolean>, timeoutMs: number, failure: () => Promise<Error>): Promise<void> {
  process.kill(proc.pid, signal);
  const ok = await pollUntil(async () => proc.exitStatus() !== undefined || await confirmed(), timeoutMs);
  if (proc.exitStatus() !== undefined || !ok) throw await failure();
}

/** Stops the server's whole process group: SIGTERM, SIGKILL after `graceMs`. */
export function stopGroup(proc: ManagedProcess, graceMs: number): () => Promise<void> {
  return () => proc.stop('SIGTERM', graceMs);
}
