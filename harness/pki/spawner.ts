// Starts the short-lived commands of harness/pki/openssl.ts (its only user) from a
// small long-lived helper process instead of from the suite's own process: a
// fork copies the parent's page tables, so every spawn from a suite of a few
// hundred MB costs the main thread milliseconds that a helper of a few tens of
// MB pays on its own thread. The helper is started once per process on first
// use, ends with it on every exit path (its stdin closes when the suite dies,
// however it dies; it then kills what it started), and keeps the contract of
// the direct call: the same argv, cwd and environment, a timeout, cancellation
// by AbortSignal (the command is killed), stdout and stderr without their final
// newline. Opt-in while it is measured: MTLS_CONFORMANCE_SPAWNER=1 turns it on; by default every command starts directly.
import { execa } from 'execa';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { FORCE_KILL_MS } from '../run/bounds.ts';

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

/** The helper's process title: how process listings tell it from what an adapter left running. */
export const SPAWNER_TITLE = 'mtls-conformance-spawner';

/**
 * The helper: newline-delimited JSON in (a command, or { kill: id }), one line out per finished command. It
 * ignores SIGINT (a terminal's Ctrl-C reaches the commands directly, as it did before, and the suite decides),
 * and ends on SIGTERM or when its stdin closes, killing whatever it started.
 */
const HELPER_SOURCE = `'use strict';
process.title = ${JSON.stringify(SPAWNER_TITLE)};
const { spawn } = require('child_process');
const running = new Map();
const send = (m) => { process.stdout.write(JSON.stringify(m) + '\\n'); };
const stop = (r) => {
  try { r.child.kill('SIGTERM'); } catch {}
  r.force = setTimeout(() => { try { r.child.kill('SIGKILL'); } catch {} }, ${FORCE_KILL_MS});
};
const end = () => {
  for (const r of running.values()) { try { r.child.kill('SIGKILL'); } catch {} }
  process.exit(0);
};
const start = (m) => {
  const r = { out: [], err: [], timedOut: false, canceled: false, error: undefined, child: undefined, timer: undefined, force: undefined };
  try {
    r.child = spawn(m.file, m.argv, { cwd: m.cwd, env: m.env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    send({ id: m.id, code: null, signal: null, stdout: '', stderr: '', timedOut: false, canceled: false, error: String(e && e.message || e) });
    return;
  }
  running.set(m.id, r);
  r.child.stdout.on('data', (d) => { r.out.push(d); });
  r.child.stderr.on('data', (d) => { r.err.push(d); });
  r.child.on('error', (e) => { r.error = String(e && e.message || e); });
  if (m.timeoutMs > 0) r.timer = setTimeout(() => { r.timedOut = true; stop(r); }, m.timeoutMs);
  r.child.on('close', (code, signal) => {
    clearTimeout(r.timer);
    clearTimeout(r.force);
    running.delete(m.id);
    send({ id: m.id, code, signal, stdout: Buffer.concat(r.out).toString('utf8'), stderr: Buffer.concat(r.err).toString('utf8'), timedOut: r.timedOut, canceled: r.canceled, error: r.error });
  });
};
let buffer = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buffer += d;
  for (let i = buffer.indexOf('\\n'); i >= 0; i = buffer.indexOf('\\n')) {
    const line = buffer.slice(0, i);
    buffer = buffer.slice(i + 1);
    let m;
    try { m = JSON.parse(line); } catch { continue; }
    if (m.kill !== undefined) {
      const r = running.get(m.kill);
      if (r && !r.canceled) { r.canceled = true; stop(r); }
    } else start(m);
  }
});
process.stdin.on('end', end);
process.stdin.on('error', end);
process.stdout.on('error', end);
process.on('SIGTERM', end);
process.on('SIGINT', () => {});
`;

/** One finished command as the helper reports it. */
interface Reply {
  id: number;
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  canceled: boolean;
  error?: string;
}

interface Pending {
  done: (reply: Reply | undefined) => void;
}

type HelperProcess = ChildProcessByStdio<Writable, Readable, Readable>;

/** The running helper of this process. */
class Helper {
  private readonly child: HelperProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffer = '';
  /** The helper's own stderr, last part: says why it died, if it ever does. */
  private stderrTail = '';
  dead = false;
  private readonly onExit = (): void => { this.child.kill('SIGTERM'); };

  get pid(): number | undefined {
    return this.child.pid;
  }

  constructor() {
    this.child = spawn(process.execPath, ['--max-old-space-size=64', '-e', HELPER_SOURCE], {
      stdio: ['pipe', 'pipe', 'pipe'], env: process.env, detached: false,
    });
    this.child.unref();
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => { this.read(chunk); });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => { this.stderrTail = (this.stderrTail + chunk).slice(-2_000); });
    this.child.stdin.on('error', () => { this.die(); });
    this.child.on('error', () => { this.die(); });
    this.child.on('close', () => { this.die(); });
    // Nothing of the helper keeps the suite alive; a command in flight does (see idle()).
    this.idle();
    process.once('exit', this.onExit);
  }

  run(file: string, argv: readonly string[], opts: CommandOptions): Promise<Reply | undefined> {
    const id = this.nextId++;
    return new Promise<Reply | undefined>((resolve) => {
      const onAbort = (): void => { if (!this.dead) this.child.stdin.write(JSON.stringify({ kill: id }) + '\n'); };
      this.pending.set(id, {
        done: (reply) => {
          opts.signal?.removeEventListener('abort', onAbort);
          resolve(reply);
        },
      });
      this.busy();
      this.child.stdin.write(JSON.stringify({ id, file, argv, cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeoutMs: opts.timeoutMs }) + '\n');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 1);
      let reply: Reply;
      try {
        reply = JSON.parse(line) as Reply;
      } catch {
        continue;
      }
      const entry = this.pending.get(reply.id);
      if (!entry) continue;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.idle();
      entry.done(reply);
    }
  }

  /** Ends every command in flight as failed (undefined reply); the next call starts a new helper. */
  private die(): void {
    if (this.dead) return;
    this.dead = true;
    process.removeListener('exit', this.onExit);
    if (helper === this) helper = undefined;
    for (const entry of this.pending.values()) entry.done(undefined);
    this.pending.clear();
  }

  /** Why the helper is gone, for the message of a command it took down with it. */
  why(): string {
    const tail = this.stderrTail.trim().split('\n').slice(-2).join(' | ');
    return `the helper that starts openssl exited${tail === '' ? '' : `: ${tail}`}`;
  }

  // The helper's stdio are pipes, that is sockets: they can be ref'd and unref'd.
  private busy(): void {
    (this.child.stdout as Socket).ref();
  }

  private idle(): void {
    (this.child.stdout as Socket).unref();
    (this.child.stderr as Socket).unref();
    (this.child.stdin as Socket).unref();
  }
}

let helper: Helper | undefined;

function useHelper(): boolean {
  return process.env['MTLS_CONFORMANCE_SPAWNER'] === '1';
}

/** Runs `file argv` to its end (never rejects): through the helper, or directly when it is switched off. */
export async function runCommand(file: string, argv: readonly string[], opts: CommandOptions): Promise<CommandResult> {
  const line = [file, ...argv].join(' ');
  if (!useHelper()) return direct(file, argv, opts);
  if (opts.signal?.aborted) return { stdout: '', stderr: '', failed: true, timedOut: false, isCanceled: true, message: `Command was canceled: ${line}` };
  helper ??= new Helper();
  const running = helper;
  const reply = await running.run(file, argv, opts);
  if (reply === undefined) {
    const canceled = opts.signal?.aborted === true;
    return { stdout: '', stderr: '', failed: true, timedOut: false, isCanceled: canceled, message: `Command failed: ${line}: ${running.why()}` };
  }
  const stdout = stripFinalNewline(reply.stdout);
  const stderr = stripFinalNewline(reply.stderr);
  const failed = reply.error !== undefined || reply.code !== 0;
  const isCanceled = failed && (reply.canceled || opts.signal?.aborted === true);
  const message = reply.error !== undefined ? `Command failed with ${reply.error}: ${line}`
    : reply.timedOut ? `Command timed out after ${opts.timeoutMs} milliseconds: ${line}`
      : reply.signal !== null ? `Command was killed with ${reply.signal}: ${line}`
        : reply.code !== 0 ? `Command failed with exit code ${reply.code ?? ''}: ${line}` : '';
  return { stdout, stderr, failed, timedOut: reply.timedOut, isCanceled, message };
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
