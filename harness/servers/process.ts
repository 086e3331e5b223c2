// Servers that run as child processes (nginx, Apache, --server-cmd): a free
// port picked by the suite, the whole process group spawned detached and
// killed on stop, readiness by TCP connect polling with a bound, log files
// and output lines read back.
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { HarnessError } from '../errors.ts';
import { openStdioFifos } from './stdio-fifos.ts';
import { GROUP_KILL_WAIT_MS, GROUP_STOP_GRACE_MS } from '../run/bounds.ts';

/** Lines kept per process; older output is dropped so a chatty server cannot exhaust memory. */
const MAX_LINES = 20_000;

/** Process groups still alive; killed when the suite exits however it exits. */
const LIVE_GROUPS = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pgid of LIVE_GROUPS) killGroup(pgid, 'SIGKILL');
  });
}

/** Sends a signal to a whole process group; false when the group is gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** A server process, leader of its own process group. */
export interface ManagedProcess {
  /** Process id of the leader (and id of its process group). */
  pid: number;
  /** stdout and stderr lines so far, in arrival order. */
  lines(): string[];
  /** Exit code or signal once the leader has exited, else undefined. */
  exitStatus(): string | undefined;
  /** Resolves when the leader has exited. */
  exited: Promise<void>;
  /** Graceful signal to the group, SIGKILL after `graceMs`; idempotent. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Spawns `argv` detached (its own process group) with stdout and stderr captured as lines. */
export async function spawnGroup(argv: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdioDir?: string } = {}): Promise<ManagedProcess> {
  const [file, ...args] = argv;
  if (file === undefined || file === '') throw new HarnessError('ERR_MTLS_ADAPTER_START', 'empty server command', 'give the program to run');
  installExitHook();
  // With stdioDir, stdout and stderr are FIFOs there, which the program can also open by path (/dev/stderr).
  const fifos = opts.stdioDir === undefined ? undefined : await openStdioFifos(opts.stdioDir);
  let child;
  try {
    child = spawn(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', fifos?.stdout.write ?? 'pipe', fifos?.stderr.write ?? 'pipe'] });
  } finally {
    // The child holds its own copies; the harness's must go, or the read ends never see the end of output.
    fifos?.closeWriteEnds();
  }
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream): void => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const part of parts) lines.push(part.replace(/\r$/, ''));
      if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
    });
    stream.on('end', () => { if (rest !== '') lines.push(rest); rest = ''; });
  };
  const [out, errOut] = fifos ? [fifos.stdout.read, fifos.stderr.read] : [child.stdout, child.stderr];
  if (out) collect(out);
  if (errOut) collect(errOut);
  let status: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      status = signal !== null ? `killed by ${signal}` : `exit code ${code ?? '?'}`;
      resolve();
    });
  });
  return new Promise<ManagedProcess>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(new HarnessError('ERR_MTLS_ADAPTER_START', `cannot run ${file}: ${error.code === 'ENOENT' ? 'no such program' : error.message}`, 'check the command and that the program is installed and executable'));
    });
    child.once('spawn', () => {
      const pid = child.pid ?? 0;
      LIVE_GROUPS.add(pid);
      let stopping: Promise<void> | undefined;
      resolve({
        pid,
        lines: () => [...lines],
        exitStatus: () => status,
        exited,
        stop: (signal = 'SIGTERM', graceMs = GROUP_STOP_GRACE_MS) => {
          stopping ??= (async () => {
            if (status === undefined) {
              killGroup(pid, signal);
              if (!(await settlesWithin(exited, graceMs))) killGroup(pid, 'SIGKILL');
              await settlesWithin(exited, GROUP_KILL_WAIT_MS);
            }
            // Children that outlived the leader (a shell's background job, a worker) go too.
            killGroup(pid, 'SIGKILL');
            LIVE_GROUPS.delete(pid);
          })();
          return stopping;
        },
      });
    });
  });
}

/** True when `promise` settled within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A port that was free a moment ago: bind port 0, read it, release it. */
export function pickFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One TCP connect attempt, bounded. */
function tryConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => { socket.destroy(); resolve(ok); };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Why a server process did not become ready. */
export class NotReady extends Error {
  /** True when the process exited before listening. */
  readonly exitedEarly: boolean;
  constructor(message: string, exitedEarly: boolean) {
    super(message);
    this.exitedEarly = exitedEarly;
  }
}

/**
 * Polls until `host:port` accepts TCP connections and `ready()` holds, while
 * the process is alive; throws NotReady when it exits first or `timeoutMs` passes.
 */
export async function waitUntilListening(proc: ManagedProcess, host: string, port: number, timeoutMs: number, ready: () => Promise<boolean> = () => Promise.resolve(true), signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    // The suite abandoned this start (its bound passed, the case or the run stopped): give up now rather than at the ready timeout.
    if (signal?.aborted === true) throw new NotReady('the suite abandoned the start', false);
    const status = proc.exitStatus();
    if (status !== undefined) throw new NotReady(`it exited (${status}) before listening on ${host}:${port}`, true);
    if (await tryConnect(host, port, Math.max(50, Math.min(500, deadline - Date.now()))) && await ready()) {
      // The connect may have reached another program on a lost port: only a live process counts.
      const after = proc.exitStatus();
      if (after !== undefined) throw new NotReady(`it exited (${after}) before listening on ${host}:${port}`, true);
      return;
    }
    if (Date.now() >= deadline) throw new NotReady(`it did not listen on ${host}:${port} within ${timeoutMs} ms`, false);
    // A poll interval between connect attempts, bounded by the deadline; not a readiness sleep.
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 100);
  }
}

/** True when a failed start looks like the picked port was taken meanwhile. */
export function lostPort(lines: readonly string[]): boolean {
  return lines.some((l) => /address already in use|EADDRINUSE|could not bind to address/i.test(l));
}

/** Picks a port and starts on it; picks again (at most `tries` times) when the port was lost to a race. */
export async function startOnFreePort<T>(host: string, start: (port: number) => Promise<T>, isPortLost: (error: unknown) => boolean, tries = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await pickFreePort(host);
    try {
      return await start(port);
    } catch (error) {
      if (attempt >= tries || !isPortLost(error)) throw error;
    }
  }
}

/** The lines of a text file; none when it does not exist yet. */
export async function readLines(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Process ids of the direct children of `pid` (Linux /proc). */
export async function childPids(pid: number): Promise<number[]> {
  try {
    const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
    return text.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** True while a process exists (zombies included until reaped). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `condition` until it holds or `timeoutMs` passes; returns whether it held. */
export async function pollUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    // A poll interval bounded by the deadline, not a fixed wait.
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 100);
  }
}

/**
 * Finds an executable: `override` (an environment variable's value) when set,
 * else the first of `candidates` (absolute paths, then names looked up on PATH).
 * Missing → ERR_MTLS_SERVER_MISSING with the install command.
 */
export async function findExecutable(what: string, candidates: readonly string[], override: { name: string; value: string | undefined }, install: string): Promise<string> {
  const executable = async (file: string): Promise<boolean> => {
    try {
      await access(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (override.value !== undefined && override.value !== '') {
    if (await executable(override.value)) return override.value;
    throw new HarnessError('ERR_MTLS_SERVER_MISSING', `${what} not found at ${override.value} (from ${override.name})`, `install it (${install}) or point ${override.name} at the binary`);
  }
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const candidate of candidates) {
    const options = path.isAbsolute(candidate) ? [candidate] : dirs.map((d) => path.join(d, candidate));
    for (const file of options) if (await executable(file)) return file;
  }
  throw new HarnessError('ERR_MTLS_SERVER_MISSING', `${what} is not installed (looked for ${candidates.join(', ')})`, `install it: ${install} (or set ${override.name} to the binary)`);
}

/** Quotes a value for nginx and Apache configs (double quotes, backslash escapes). */
export function quoteConfig(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) throw new HarnessError('ERR_MTLS_ADAPTER_START', `config value ${JSON.stringify(value)} holds a control character`, 'use plain paths and tokens');
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** Checks that a token (canary, path) is safe to write into a generated config. */
export function checkToken(what: string, value: string, pattern: RegExp): string {
  if (!pattern.test(value)) throw new HarnessError('ERR_MTLS_ADAPTER_START', `${what} ${JSON.stringify(value)} cannot be written into a generated server config`, `use characters matching ${String(pattern)}`);
  return value;
}
