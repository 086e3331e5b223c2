// The command adapter (--server-cmd): any program in any language as the
// server under test. The command line is split into argv here (no shell unless
// the command is itself `sh -c ...`), placeholders are filled per case, the
// program runs in its own process group, readiness is a TCP connect, stdout and
// stderr are its log, and a reload rewrites the CA/CRL files in place and
// sends a signal.
import { copyFile } from 'node:fs/promises';
import { constants } from 'node:os';
import path from 'node:path';
import { HarnessError, messageOf } from '../errors.ts';
import { CAPABILITIES, type Capability, type RunningServer, type ServerAdapter, type ServerSetup, type StartOptions } from '../types.ts';
import { isAlive, NotReady, waitUntilListening } from './process.ts';
import { launchServer, stopGroup } from './launch.ts';
import { STOP_GRACE_MS } from '../run/bounds.ts';

/** The placeholders a command line may use. */
export const PLACEHOLDERS = ['host', 'port', 'dir', 'cert', 'key', 'ca', 'crl', 'canary', 'public_canary', 'protected_path', 'public_path', 'client_auth', 'allowed_clients', 'ocsp_url'] as const;

/** What `--server-cmd` and its companion flags say. */
export interface CommandOptions {
  /** The command line with {placeholders}. */
  command: string;
  /** What the program honours (--capabilities). */
  capabilities: readonly Capability[];
  /** Signal that makes it re-read its CA and CRL files (--reload-signal). */
  reloadSignal?: NodeJS.Signals;
  /** How long it gets to accept TCP connections (--ready-timeout). */
  readyTimeoutMs: number;
  /** How long it gets to exit after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
}

function usage(message: string, hint: string): HarnessError {
  return new HarnessError('ERR_MTLS_USAGE', message, hint);
}

/** Splits a command line into words the way a POSIX shell would quote them (no expansion). */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charAt(i);
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < line.length && '"\\$`'.includes(line.charAt(i + 1))) word += line.charAt(++i);
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line.charAt(++i);
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote !== undefined) throw usage(`--server-cmd has an unterminated ${quote === "'" ? 'single' : 'double'} quote`, 'close the quote, or quote the whole command line for your shell once more');
  if (inWord) words.push(word);
  if (words.length === 0) throw usage('--server-cmd is empty', "give the program to run, e.g. --server-cmd 'python3 server.py --port {port}'");
  return words;
}

/** The placeholder values for one case; an unused one is ''. */
export function placeholderValues(setup: ServerSetup, port: number): Record<(typeof PLACEHOLDERS)[number], string> {
  return {
    host: setup.host, port: String(port), dir: setup.dir,
    cert: setup.tls.cert, key: setup.tls.key, ca: setup.tls.clientCa, crl: setup.tls.crl ?? '',
    canary: setup.canary, public_canary: setup.publicCanary ?? '',
    protected_path: setup.paths.protected, public_path: setup.paths.public ?? '',
    client_auth: setup.clientAuth, allowed_clients: (setup.allowedClients ?? []).join(','),
    ocsp_url: setup.ocsp?.url ?? '',
  };
}

/** Replaces every known {placeholder} in a word; other braces (e.g. a shell's ${VAR}) are left alone. */
export function fillPlaceholders(word: string, values: Readonly<Record<string, string>>): string {
  return word.replace(/\{([a-z_]+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** Parses --capabilities: a comma-separated list of known capabilities. */
export function parseCapabilities(text: string): Capability[] {
  const list = text.split(',').map((c) => c.trim()).filter(Boolean);
  for (const c of list) {
    if (!(CAPABILITIES as readonly string[]).includes(c)) throw usage(`--capabilities names an unknown capability ${JSON.stringify(c)}`, `use a comma-separated list of ${CAPABILITIES.join(', ')}`);
  }
  return [...new Set(list)] as Capability[];
}

/** Parses --reload-signal: HUP, SIGHUP, USR1, ... */
export function parseSignal(text: string): NodeJS.Signals {
  const name = (text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`) as NodeJS.Signals;
  if (!(name in constants.signals) || name === 'SIGKILL' || name === 'SIGSTOP') {
    throw usage(`--reload-signal ${JSON.stringify(text)} is not a signal a server can handle`, 'use a signal name such as HUP or USR1');
  }
  return name;
}

/** A short name for reports: `cmd-` and the program's base name. */
export function commandName(argv0: string): string {
  const base = path.basename(argv0).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return base === '' ? 'command' : `cmd-${base}`;
}

/** Builds the adapter for a --server-cmd command line; throws ERR_MTLS_USAGE on a bad one. */
export function commandAdapter(opts: CommandOptions): ServerAdapter {
  const words = splitCommandLine(opts.command);
  if (opts.capabilities.includes('proxy')) {
    throw usage('--capabilities proxy cannot be declared with --server-cmd: a proxy must name its upstream and say how it forwards the client identity', 'write a module adapter with forwarding: { header, format } and read setup.upstream (see README)');
  }
  if (opts.capabilities.includes('auth-reload')) {
    throw usage('--capabilities auth-reload cannot be declared with --server-cmd: a reload signal re-reads the CA and CRL files, while the client-auth mode is fixed by the command line', 'write a module adapter whose reload(tls, change) applies change.clientAuth (see docs/contract.md)');
  }
  if (opts.capabilities.includes('crl-reload') && opts.reloadSignal === undefined) {
    throw usage('--capabilities crl-reload needs --reload-signal', 'name the signal that makes the server re-read its CA and CRL files, e.g. --reload-signal HUP');
  }
  const start = async (setup: ServerSetup, options: StartOptions = {}): Promise<RunningServer> => {
    const { proc, port, argv } = await launchServer({
      host: setup.host, readyMs: opts.readyTimeoutMs, signal: options.signal,
      // FIFOs as stdout and stderr: a program may open /dev/stdout or /dev/stderr by path (a container-style error log).
      stdioDir: setup.dir,
      argv: (p) => {
        const values = placeholderValues(setup, p);
        return Promise.resolve(words.map((w) => fillPlaceholders(w, values)));
      },
      failure: (error, tail, argv, p) => {
        const problem = error instanceof NotReady ? error.message : messageOf(error);
        // Advice that fits: a program that exited needs fixing, not more time; one that never listened may need either.
        const hint = error instanceof NotReady && error.exitedEarly
          ? `run the command by hand to see why it exits, and make it listen on {host}:{port} (here ${setup.host}:${p})`
          : `it must listen on {host}:{port} (here ${setup.host}:${p}); check the address it binds, or raise --ready-timeout (now ${opts.readyTimeoutMs} ms) if it is slow to start`;
        return new HarnessError('ERR_MTLS_ADAPTER_START', `--server-cmd ${argv[0] ?? ''}: ${problem}${tail.length > 0 ? `; its last output: ${tail.join(' | ')}` : '; it printed nothing'}`, hint);
      },
    });
    const given = { ...setup.tls };
    return {
      port,
      pid: proc.pid,
      logs: () => Promise.resolve(proc.lines()),
      ...(opts.reloadSignal === undefined ? {} : {
        reload: async (tls: Partial<ServerSetup['tls']>) => {
          // The program was given paths once: new content goes over those same files.
          for (const k of ['clientCa', 'crl', 'cert', 'key'] as const) {
            const from = tls[k];
            const to = given[k];
            if (from === undefined || from === to) continue;
            if (to === undefined) throw new HarnessError('ERR_MTLS_ADAPTER_START', `--server-cmd was started without {${k === 'clientCa' ? 'ca' : k}} and cannot be reloaded with one`, 'this case needs a server started with a CRL');
            await copyFile(from, to);
          }
          if (!isAlive(proc.pid)) throw new HarnessError('ERR_MTLS_ADAPTER_START', `--server-cmd ${argv[0] ?? ''} is no longer running (${proc.exitStatus() ?? 'gone'})`, 'check its output in the report');
          process.kill(proc.pid, opts.reloadSignal);
          // An arbitrary program does not say when it has re-read its files; it must at least survive the signal and keep listening.
          try {
            await waitUntilListening(proc, setup.host, port, opts.readyTimeoutMs);
          } catch (error) {
            throw new HarnessError('ERR_MTLS_ADAPTER_START', `--server-cmd ${argv[0] ?? ''} after ${opts.reloadSignal ?? ''}: ${messageOf(error)}; its last output: ${proc.lines().slice(-3).join(' | ')}`, 'check that the program handles --reload-signal');
          }
        },
      }),
      stop: stopGroup(proc, opts.stopGraceMs ?? STOP_GRACE_MS),
    };
  };
  return { name: commandName(words[0] ?? ''), capabilities: [...opts.capabilities], start };
}
