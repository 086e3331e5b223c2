// The one module that spawns `openssl`. Every call runs inside the case
// directory with relative paths and the harness's own config, and is recorded
// so a report can replay it in an empty directory.
import { execa } from 'execa';
import path from 'node:path';
import { HarnessError } from '../errors.ts';
import { runCommand } from './spawner.ts';
import { makePrivate, writeOwnFile } from '../run/own-files.ts';
import { OCSP_CALL_TIMEOUT_MS, OPENSSL_CALL_TIMEOUT_MS as CALL_TIMEOUT_MS, OPENSSL_SERVER_READY_MS, OPENSSL_SERVER_STOP_GRACE_MS, OPENSSL_VERSION_TIMEOUT_MS } from '../run/bounds.ts';

/** One replayable step of a PKI build. */
export type ReplayStep =
  | { kind: 'openssl'; argv: string[]; note?: string }
  | { kind: 'write'; path: string; content: string; note?: string }
  | { kind: 'script'; command: string; note: string };

/** The binary to run; MTLS_CONFORMANCE_OPENSSL overrides PATH lookup. */
export function opensslBinary(): string {
  return process.env['MTLS_CONFORMANCE_OPENSSL'] ?? 'openssl';
}

const MIN_MAJOR = 3;
let versionCheck: Promise<string> | undefined;

/** Resolves to the version line of a usable openssl (>= 3.0), else throws ERR_MTLS_OPENSSL_MISSING. */
export function checkOpenssl(): Promise<string> {
  versionCheck ??= (async () => {
    const bin = opensslBinary();
    const fix = 'install OpenSSL 3.0 or newer (Debian: apt-get install -y openssl) or set MTLS_CONFORMANCE_OPENSSL to its path';
    const result = await execa(bin, ['version'], { reject: false, timeout: OPENSSL_VERSION_TIMEOUT_MS });
    if (result.failed && result.exitCode === undefined) {
      throw new HarnessError('ERR_MTLS_OPENSSL_MISSING', `openssl not found: could not run \`${bin}\``, fix);
    }
    const line = result.stdout.trim().split('\n')[0] ?? '';
    const match = /^OpenSSL (\d+)\.(\d+)\.(\d+)/.exec(line);
    if (!match) {
      throw new HarnessError('ERR_MTLS_OPENSSL_MISSING', `\`${bin} version\` printed ${JSON.stringify(line)}, not an OpenSSL version`, fix);
    }
    if (Number(match[1]) < MIN_MAJOR) {
      throw new HarnessError('ERR_MTLS_OPENSSL_MISSING', `${line} is too old: the suite needs OpenSSL ${MIN_MAJOR}.0 or newer (req -x509 -CA, ca -crl_nextupdate)`, fix);
    }
    return line;
  })();
  // A failed check is retried next time rather than cached.
  versionCheck.catch(() => { versionCheck = undefined; });
  return versionCheck;
}

/** Configuration used for every call that takes no -config of its own. */
const BASE_CONFIG = '# Written by mtls-conformance: keeps openssl away from the system openssl.cnf.\nopenssl_conf = default_conf\n[default_conf]\n';

/** Runs openssl inside one directory and records every step. */
export class OpensslSession {
  /** Absolute directory all paths are relative to. */
  readonly dir: string;
  /** Every step so far, in order. */
  readonly steps: ReplayStep[] = [];
  /** How many openssl processes this session ran. */
  processes = 0;
  /** Milliseconds spent waiting for openssl. */
  ms = 0;
  private configured = false;

  /** Ends a running openssl when the case is aborted. */
  private readonly signal: AbortSignal | undefined;

  constructor(dir: string, signal?: AbortSignal) {
    this.dir = dir;
    this.signal = signal;
  }

  /** Absolute path of a file in the session directory. */
  resolve(rel: string): string {
    return path.join(this.dir, rel);
  }

  /** Writes a file the harness owns (a config, an index, a bundle) and records it. */
  write(rel: string, content: string, note?: string): string {
    const abs = this.resolve(rel);
    writeOwnFile(abs, content);
    this.steps.push(note === undefined ? { kind: 'write', path: rel, content } : { kind: 'write', path: rel, content, note });
    return abs;
  }

  /** Records a step done in JavaScript (e.g. tampering) with the shell line that does the same. */
  record(command: string, note: string): void {
    this.steps.push({ kind: 'script', command, note });
  }

  /** Runs `openssl <argv>` in the session directory; returns stdout. */
  async run(argv: string[], note?: string): Promise<string> {
    if (!this.configured) {
      this.write('openssl.cnf', BASE_CONFIG, 'minimal config so the system openssl.cnf is never read');
      this.configured = true;
    }
    const started = performance.now();
    this.processes += 1;
    // Started by a small helper process, not forked from this one (see spawner.ts).
    const result = await runCommand(opensslBinary(), argv, {
      cwd: this.dir,
      timeoutMs: CALL_TIMEOUT_MS,
      env: { OPENSSL_CONF: this.resolve('openssl.cnf') },
      ...(this.signal ? { signal: this.signal } : {}),
    });
    this.ms += performance.now() - started;
    this.steps.push(note === undefined ? { kind: 'openssl', argv } : { kind: 'openssl', argv, note });
    // A cancelled call belongs to an aborted case: not a harness fault.
    if (result.isCanceled) throw new Error(`openssl ${argv[0] ?? ''} was stopped: the case was aborted`);
    if (result.failed) {
      const why = result.timedOut ? `timed out after ${CALL_TIMEOUT_MS} ms` : lastLines(result.stderr || result.message, 3);
      throw new HarnessError('ERR_MTLS_OPENSSL', `openssl ${argv.join(' ')} failed: ${why}`, 'this is a harness fault; rerun with --debug and report it');
    }
    // Keys stay private to the case directory whatever the process umask was.
    for (const [i, arg] of argv.entries()) {
      if (arg === '-keyout' || arg === '-genkey-out') {
        const file = argv[i + 1];
        if (file !== undefined) makePrivate(this.resolve(file));
      }
    }
    return result.stdout;
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

/** Quotes one argument for a POSIX shell (bash $'…' for control characters). */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_./:=,+@%-]+$/.test(arg)) return arg;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(arg)) {
    return "$'" + [...arg].map((ch) => {
      const code = ch.codePointAt(0) ?? 0;
      if (ch === "'" || ch === '\\') return '\\' + ch;
      if (code < 0x20 || code === 0x7f) return '\\x' + code.toString(16).padStart(2, '0');
      return ch;
    }).join('') + "'";
  }
  return "'" + arg.replace(/'/g, "'\\''") + "'";
}

/** The steps as a bash script that rebuilds the PKI in an empty directory. */
export function replayScript(steps: readonly ReplayStep[]): string {
  const lines = ['#!/usr/bin/env bash', 'set -euo pipefail', 'export OPENSSL_CONF=./openssl.cnf',
    '# openssl\'s key-generation separators ("-----") and config notices are left out; its errors still show',
    'openssl() { { command openssl "$@" 2>&1 1>&3 3>&- | { grep -v -e \'^-----$\' -e \'^Using configuration from \' || true; } 1>&2; } 3>&1; }'];
  for (const step of steps) {
    if (step.note !== undefined) lines.push(`# ${step.note}`);
    if (step.kind === 'openssl') lines.push(['openssl', ...step.argv].map(shellQuote).join(' '));
    else if (step.kind === 'script') lines.push(step.command);
    else {
      const marker = 'MTLS_EOF';
      lines.push(`cat > ${shellQuote(step.path)} <<'${marker}'`, step.content.replace(/\n$/, ''), marker);
    }
  }
  return lines.join('\n') + '\n';
}

/** A running `openssl s_server` (a reference TLS server for the wire-level client's own tests). */
export interface OpensslServer {
  port: number;
  /** Its stdout and stderr lines so far. */
  lines(): string[];
  stop(): Promise<void>;
}

/**
 * Starts `openssl s_server -WWW` on 127.0.0.1 (a free port) in `dir`, serving the files there; `args` adds
 * options (-cert, -key, -CAfile, -Verify 1, -verify_return_error, -tls1_3 ...). Bounded by `readyMs`.
 */
export async function startOpensslServer(dir: string, args: readonly string[], readyMs = OPENSSL_SERVER_READY_MS): Promise<OpensslServer> {
  const { spawnGroup, startOnFreePort, waitUntilListening, lostPort, NotReady } = await import('../servers/process.ts');
  const env = { ...process.env, OPENSSL_CONF: path.join(dir, 'openssl-server.cnf') };
  writeOwnFile(env.OPENSSL_CONF, BASE_CONFIG);
  return startOnFreePort('127.0.0.1', async (port) => {
    const proc = await spawnGroup([opensslBinary(), 's_server', '-accept', `127.0.0.1:${port}`, '-WWW', '-naccept', '1000', ...args], { cwd: dir, env });
    try {
      await waitUntilListening(proc, '127.0.0.1', port, readyMs);
    } catch (error) {
      await proc.stop('SIGKILL', 0);
      throw Object.assign(new HarnessError('ERR_MTLS_OPENSSL', `openssl s_server did not start: ${error instanceof Error ? error.message : String(error)} — ${proc.lines().slice(-3).join(' | ')}`, 'check the arguments'),
        { portLost: error instanceof NotReady && lostPort(proc.lines()) });
    }
    return { port, lines: () => proc.lines(), stop: () => proc.stop('SIGTERM', OPENSSL_SERVER_STOP_GRACE_MS) };
  }, (e) => (e as { portLost?: boolean }).portLost === true);
}

/** Files of one OCSP responder call, relative to the PKI directory. */
export interface OcspCall {
  /** openssl `ca`-style status index. */
  index: string;
  /** Certificate of the CA the answers are for. */
  ca: string;
  /** Certificate and key that sign the response. */
  signer: string;
  signerKey: string;
  /** DER request to answer, DER response to write. */
  request: string;
  response: string;
}

/**
 * Answers one OCSP request the way `openssl ocsp -port` would, without a listener of its own: one
 * process per request, nextUpdate a day ahead. Not recorded: it runs while a case runs, not in the build.
 */
export async function answerOcspRequest(dir: string, call: OcspCall, signal?: AbortSignal): Promise<void> {
  const argv = ['ocsp', '-index', call.index, '-CA', call.ca, '-rsigner', call.signer, '-rkey', call.signerKey,
    '-reqin', call.request, '-respout', call.response, '-ndays', '1'];
  const result = await runCommand(opensslBinary(), argv, {
    cwd: dir, timeoutMs: OCSP_CALL_TIMEOUT_MS,
    env: { OPENSSL_CONF: path.join(dir, 'openssl.cnf') },
    ...(signal ? { signal } : {}),
  });
  if (result.failed) {
    const why = result.timedOut ? `timed out after ${OCSP_CALL_TIMEOUT_MS} ms` : lastLines(result.stderr || result.message, 3);
    throw new Error(`openssl ${argv.join(' ')} failed: ${why}`);
  }
}
