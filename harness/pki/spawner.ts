// Starts the short-lived commands of harness/pki/openssl.ts (its only user) from a
// small long-lived shell instead of from the suite's own process. A fork copies
// the parent's page tables: from a suite of a few hundred MB every spawn costs
// its main thread about 5 ms and the kernel as much again, while a shell of a
// megabyte forks in a fraction of that, on its own CPU.
//
// The helper is a POSIX sh reading one command per line of its script. It
// lives while a run holds it (holdSpawner), so no process of it outlives a run;
// without a holder every command is started directly, as it is with
// MTLS_CONFORMANCE_SPAWNER=0.
// It keeps the contract of the direct call: the same argv, cwd and environment,
// a timeout, cancellation by AbortSignal (the command is killed: SIGTERM, then
// SIGKILL), stdout and stderr without their final newline. A command whose
// arguments a line cannot carry (a newline in one) is started directly, and so
// is every command of a process whose helper did not answer its first one.
import { execa } from 'execa';
import path from 'node:path';
import tmp from 'tmp-promise';
import { FORCE_KILL_MS, SPAWNER_START_MS } from '../run/bounds.ts';
import { readOwnFile } from '../run/own-files.ts';

/** What harness/pki/openssl.ts reads of a finished command (a subset of execa's result). */
export interface CommandResult {
  stdout: string;
  stderr: string;
  failed: boolean;
  timedOut: boolean;
  isCanceled: boolean;
  message: string;
}

/** How to run one command. */
export interface CommandOptions {
  cwd: string;
  /** Added to the suite's environment. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Kills the command (SIGTERM, then SIGKILL) when aborted. */
  signal?: AbortSignal;
}

/** The word after `sh -s` on the helper's command line: how process listings tell it from what an adapter left running. */
export const SPAWNER_TITLE = 'mtls-conformance-spawner';

/**
 * The helper: `sh -s` reads this script from its stdin, then one line per command: `run ID SLOT 'dir' N 'K=V'...
 * 'file' 'arg'... &` (every word single-quoted) starts `file` in `dir` with N variables added, in the background.
 * The shell reads its script in blocks, where its `read` builtin would take the pipe a byte at a time (not to read
 * past the line: a line per command cost a run about 250,000 read calls). The helper answers `ID p PID` once the
 * command runs and `ID x STATUS O E` when it ends, its stdout and stderr in SLOT.o and SLOT.e of the helper's own
 * temp dir ($2), O and E saying whether each is non-empty (a slot is reused once its command has been read, so no
 * file is removed). Background commands of a non-interactive shell ignore SIGINT: an interrupted suite ends them
 * itself (stdin closes, or a kill by pid). On the end of its stdin or on SIGTERM the helper stops what runs and exits.
 */
const HELPER_SCRIPT = `out=$2
run() {
  id=$1; slot=$2; dir=$3; n=$4; shift 4
  while [ "$n" -gt 0 ]; do export "$1"; shift; n=$((n - 1)); done
  if ! cd "$dir" 2>"$out/$slot.e"; then echo "$id x 126 0 1"; return; fi
  "$@" </dev/null >"$out/$slot.o" 2>"$out/$slot.e" &
  pid=$!
  trap 'kill -TERM $pid 2>/dev/null; wait $pid; echo "$id x 143 0 0"; exit 0' TERM
  echo "$id p $pid"
  wait $pid
  rc=$?
  o=0; e=0
  if [ -s "$out/$slot.o" ]; then o=1; fi
  if [ -s "$out/$slot.e" ]; then e=1; fi
  echo "$id x $rc $o $e"
}
stop() { for j in $(jobs -p); do kill -TERM "$j" 2>/dev/null; done; wait; exit 0; }
trap '' INT
trap stop TERM
trap stop EXIT
`;

/** The helper's shell, writing the outputs of its commands into `outDir`. */
function startShell(outDir: string) {
  const shell = execa('/bin/sh', ['-s', SPAWNER_TITLE, outDir], {
    stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false, reject: false,
    forceKillAfterDelay: FORCE_KILL_MS,
  });
  shell.stdin.write(HELPER_SCRIPT);
  return shell;
}

/** A command in flight in the helper. */
interface Running {
  id: number;
  /** Which output files it writes. */
  slot: number;
  /** Whether its stdout and stderr files have content. */
  hasOut: boolean;
  hasErr: boolean;
  pid?: number;
  /** Kill asked before the helper said the pid. */
  killWanted: boolean;
  timedOut: boolean;
  canceled: boolean;
  force?: NodeJS.Timeout;
  done: (status: number | undefined) => void;
}

/** Single-quoted for sh: nothing inside is expanded. */
function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The running helper: one per set of holders. */
class Helper {
  private readonly child: ReturnType<typeof startShell>;
  private readonly running = new Map<number, Running>();
  private nextId = 1;
  private readonly freeSlots: number[] = [];
  private slots = 0;
  private buffer = '';
  private stderrTail = '';
  dead = false;
  /** Resolves once the helper has exited and its temp dir is gone. */
  readonly ended: Promise<void>;

  constructor(readonly outDir: string, cleanup: () => Promise<void>) {
    this.child = startShell(outDir);
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => { this.read(chunk); });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => { this.stderrTail = (this.stderrTail + chunk).slice(-2_000); });
    this.child.stdin.on('error', () => { this.die(); });
    // Its exit, not the end of its pipes: a command it left behind may hold them open.
    this.ended = new Promise<void>((resolve) => { this.child.once('exit', () => { resolve(); }); })
      .then(() => { this.die(); return cleanup(); })
      .catch(() => undefined);
    this.child.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get idle(): boolean {
    return this.running.size === 0;
  }

  /** Starts `file argv`; resolves to its exit status (128 + n for signal n), or undefined if the helper died. */
  start(file: string, argv: readonly string[], opts: Pick<CommandOptions, 'cwd' | 'env'>): { run: Running; status: Promise<number | undefined> } {
    const id = this.nextId++;
    let done!: (status: number | undefined) => void;
    const status = new Promise<number | undefined>((resolve) => { done = resolve; });
    const slot = this.freeSlots.pop() ?? this.slots++;
    const run: Running = { id, slot, hasOut: false, hasErr: false, killWanted: false, timedOut: false, canceled: false, done };
    this.running.set(id, run);
    const env = Object.entries(opts.env).map(([k, v]) => quote(`${k}=${v}`));
    this.child.stdin.write(`run ${id} ${slot} ${quote(opts.cwd)} ${env.length} ${env.join(' ')} ${[file, ...argv].map(quote).join(' ')} &\n`);
    return { run, status };
  }

  /** SIGTERM now (or once its pid is known), SIGKILL after FORCE_KILL_MS. */
  stop(run: Running): void {
    if (run.pid === undefined) {
      run.killWanted = true;
      return;
    }
    signal(run.pid, 'SIGTERM');
    run.force ??= setTimeout(() => { if (run.pid !== undefined && this.running.has(run.id)) signal(run.pid, 'SIGKILL'); }, FORCE_KILL_MS);
  }

  /** What a finished command wrote; its slot is free again once read. */
  outputs(run: Running): { stdout: string; stderr: string } {
    const read = (has: boolean, ext: string): string => {
      if (!has) return '';
      try {
        return readOwnFile(path.join(this.outDir, `${run.slot}.${ext}`));
      } catch {
        return '';
      }
    };
    const stdout = read(run.hasOut, 'o');
    const stderr = read(run.hasErr, 'e');
    this.freeSlots.push(run.slot);
    return { stdout, stderr };
  }

  /** Asks the helper to end once its stdin is read (nothing runs by then: callers close it idle). */
  close(): void {
    this.child.stdin.end();
  }

  /** Ends a helper that does not answer, and what it started. */
  kill(): void {
    this.close();
    for (const run of this.running.values()) if (run.pid !== undefined) signal(run.pid, 'SIGKILL');
    this.child.kill('SIGKILL');
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 1);
      const m = /^(\d+) ([px]) (\d+)(?: ([01]) ([01]))?$/.exec(line);
      if (!m) continue;
      const run = this.running.get(Number(m[1]));
      if (!run) continue;
      if (m[2] === 'p') {
        run.pid = Number(m[3]);
        if (run.killWanted) this.stop(run);
        continue;
      }
      this.running.delete(run.id);
      clearTimeout(run.force);
      run.hasOut = m[4] === '1';
      run.hasErr = m[5] === '1';
      run.done(Number(m[3]));
    }
  }

  /** Ends every command in flight as failed (undefined status); the next holder starts a new helper. */
  private die(): void {
    if (this.dead) return;
    this.dead = true;
    if (helper === this) helper = undefined;
    for (const run of this.running.values()) {
      clearTimeout(run.force);
      // Its openssl, if it still runs, is ended here: nothing of the helper outlives it.
      if (run.pid !== undefined) signal(run.pid, 'SIGKILL');
      run.done(undefined);
    }
    this.running.clear();
  }

  /** Why the helper is gone, for the message of a command it took down with it. */
  why(): string {
    const tail = this.stderrTail.trim().split('\n').slice(-2).join(' | ');
    return `the helper that starts openssl exited${tail === '' ? '' : `: ${tail}`}`;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

let helper: Helper | undefined;
let starting: Promise<Helper | undefined> | undefined;
/** Set once a helper could not be started: commands then start directly for the rest of the process. */
let unavailable = false;
let holders = 0;
/** Helpers closed and not yet gone: a release waits for them. */
const closing = new Set<Promise<void>>();

function enabled(): boolean {
  return process.env['MTLS_CONFORMANCE_SPAWNER'] !== '0';
}

/**
 * Keeps a helper for the commands started until the returned release is called (a run holds it for its whole
 * length). The release resolves once no helper of this process runs any more, if no other holder is left.
 */
export function holdSpawner(): () => Promise<void> {
  holders += 1;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    holders -= 1;
    closeIfUnheld();
    await Promise.all([...closing]);
  };
}

function closeIfUnheld(): void {
  if (holders > 0 || !helper || !helper.idle) return;
  const ending = helper;
  helper = undefined;
  ending.close();
  const gone = ending.ended.finally(() => { closing.delete(gone); });
  closing.add(gone);
}

/** The helper for the next command, started on first use; undefined when none can be had (then a command starts directly). */
async function currentHelper(): Promise<Helper | undefined> {
  if (helper && !helper.dead) return helper;
  if (unavailable) return undefined;
  starting ??= (async () => {
    try {
      const dir = await tmp.dir({ prefix: 'mtls-spawner-', unsafeCleanup: true });
      const made = new Helper(dir.path, () => dir.cleanup());
      // A helper that cannot start (no /bin/sh, or one that does not answer within the bound) is given up for the
      // process: every command then starts directly.
      const first = made.start('true', [], { cwd: dir.path, env: {} });
      let timer: NodeJS.Timeout | undefined;
      const up = await Promise.race([
        first.status.then((s) => s === 0),
        new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(false); }, SPAWNER_START_MS); }),
      ]);
      clearTimeout(timer);
      if (!up) {
        unavailable = true;
        made.kill();
        await made.ended;
        return undefined;
      }
      made.outputs(first.run);
      return made;
    } catch {
      unavailable = true;
      return undefined;
    } finally {
      starting = undefined;
    }
  })();
  const made = await starting;
  if (!made || made.dead) return undefined;
  helper = made;
  // Every holder may have left while it started.
  closeIfUnheld();
  return helper === made ? made : undefined;
}

/** Runs `file argv` to its end (never rejects): through the helper while a run holds one, else directly. */
export async function runCommand(file: string, argv: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  const line = [file, ...argv].join(' ');
  const carried = !argv.some((a) => a.includes('\n')) && Object.entries(opts.env).every(([k, v]) => ENV_NAME.test(k) && !v.includes('\n'));
  if (!enabled() || holders === 0 || !carried) return direct(file, argv, opts);
  if (opts.signal?.aborted) return { stdout: '', stderr: '', failed: true, timedOut: false, isCanceled: true, message: `Command was canceled: ${line}` };
  const running = await currentHelper();
  if (!running) return direct(file, argv, opts);
  const { run, status: ended } = running.start(file, argv, opts);
  const onAbort = (): void => { run.canceled = true; running.stop(run); };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // Aborted while the helper started: the listener came too late to hear it.
  if (opts.signal?.aborted === true) onAbort();
  const timer = opts.timeoutMs > 0 ? setTimeout(() => { run.timedOut = true; running.stop(run); }, opts.timeoutMs) : undefined;
  const status = await ended;
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  const { stdout: out, stderr: err } = running.outputs(run);
  closeIfUnheld();
  if (status === undefined) {
    return { stdout: '', stderr: '', failed: true, timedOut: false, isCanceled: opts.signal?.aborted === true, message: `Command failed: ${line}: ${running.why()}` };
  }
  const stdout = stripFinalNewline(out);
  const stderr = stripFinalNewline(err);
  const failed = status !== 0;
  const isCanceled = failed && (run.canceled || opts.signal?.aborted === true);
  const message = run.timedOut ? `Command timed out after ${opts.timeoutMs} milliseconds: ${line}`
    : status === 127 ? `Command failed with ENOENT: ${line}`
      : status > 128 ? `Command was killed with signal ${status - 128}: ${line}`
        : failed ? `Command failed with exit code ${status}: ${line}` : '';
  return { stdout, stderr, failed, timedOut: run.timedOut, isCanceled, message };
}

async function direct(file: string, argv: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  const result = await execa(file, argv, {
    cwd: opts.cwd,
    reject: false,
    timeout: opts.timeoutMs,
    env: opts.env,
    stdin: 'ignore',
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  return { stdout: String(result.stdout), stderr: String(result.stderr), failed: result.failed, timedOut: result.timedOut, isCanceled: result.isCanceled, message: String(result.message) };
}

function stripFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}

/** The helper's pid while one runs (for tests). */
export function spawnerPid(): number | undefined {
  return helper?.dead === false ? helper.pid : undefined;
}
