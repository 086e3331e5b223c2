// The command line (docs/contract.md, "The command line"): parse, select cases, run them against one or
// more servers, write reports, print the summary last, exit 0 / 1 / 2.
import Mocha from 'mocha';
import { lookupFiles } from 'mocha/lib/cli/lookup-files.js';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { tsImport } from 'tsx/esm/api';
import tmp from 'tmp-promise';
import { CATALOGUE } from '../../spec/index.ts';
import { resolveAdapter } from '../servers/resolve.ts';
import { FAMILIES, type CaseDefinition } from '../run/case.ts';
import { debugStack, HarnessError, isHarnessError, messageOf } from '../errors.ts';
import { loadExpectations, NO_EXPECTATIONS, type Expectations } from '../run/expectations.ts';
import { checkOpenssl } from '../pki/openssl.ts';
import { prepareReportDir } from '../report/files.ts';
import { runFails } from '../run/results.ts';
import { STOP_TIMEOUT_MS } from '../run/runner.ts';
import { formatDuration, parseDuration } from '../run/durations.ts';
import { killDescendantsNow } from '../run/processes.ts';
import { BUILT_IN_NAMES } from '../servers/index.ts';
import { commandAdapter, parseCapabilities, parseSignal } from '../servers/command.ts';
import { packageRoot } from '../run/package-root.ts';
import { formatResults } from '../report/console.ts';
import { summaryLines } from '../report/summary.ts';
import { runMerge } from '../report/merge.ts';
import { compareBaseline, loadBaseline, type Baseline, type BaselineScope } from '../report/baseline.ts';
import { registerSelected, runConformance, userCases } from '../mocha/conformance.ts';
import { loadReporter } from '../mocha/reporter.ts';
import { ConformanceRun, setCurrentRun } from '../mocha/run.ts';
import type { SessionTarget } from '../mocha/session.ts';
import type { ServerAdapter, TlsVersion } from '../types.ts';
import { CLEANUP_MARGIN_MS, READY_TIMEOUT_MS, RUN_TIMEOUT_MS, START_MARGIN_MS } from '../run/bounds.ts';

const ROOT = packageRoot();

const HELP = `Usage: mtls-conformance [options]
       mtls-conformance merge <report-dir>... --report-dir <out>   (see merge --help)

Checks the mutual-TLS behaviour of an HTTPS server: every case builds a fresh
PKI with openssl, starts the server with it, probes it with good, bad and
missing client certificates, and judges what it did.

Server under test (default: the built-in invoice server):
  --server <name|path>      built-in adapter (${BUILT_IN_NAMES.join(', ')}, all) or an adapter module (.ts/.js/.mjs)
  --server-cmd <command>    any program, with {host} {port} {cert} {key} {ca} {crl} {canary} ... placeholders
  --capabilities <list>     with --server-cmd: crl,crl-reload,path-authz,allowlist,log-identity,vhosts,optional-auth
  --reload-signal <SIG>     with --server-cmd: signal that makes the server re-read its files
  --ready-timeout <time>    with --server-cmd: how long to wait for the port (default 10s)
  --name <name>             the name reports use for the server ([a-z0-9-]+; default: the adapter's name, cmd-<program>)

Selection:
  --core                    the five core cases only (marked ★ in --list and the matrix)
  --grep <regex>            cases whose "id title" matches
  --family <name>           one family: ${FAMILIES.join(', ')}
  --tls <1.2|1.3>           one TLS version (default both)
  --shard <i/n>             run the i-th of n deterministic slices of the selection (CI matrices)
  --spec <glob>             also run the cases of your own spec files (repeatable; see docs/specs.md)
  --list                    list the selected cases and exit

Output (the run is a mocha run; the report files are always written):
  --reporter <name|module>  mocha reporter for the console: spec, dot, tap, json, list, min, ... or an installed
                            one (mocha-junit-reporter, mochawesome); default: the suite's own lines per server
  --reporter-option <k=v>   option for that reporter (repeatable, or k=v,k2=v2)
  --bail                    stop after the first failing case run
  --forbid-only             fail when a spec file holds .only (CI)

Results:
  --expectations <file>     known deviations (default expectations/<server>.json for built-ins)
  --report-dir <dir>        where reports go (default ./reports)
  --baseline <report.json>  show what changed since an earlier run (newly failing, newly passing, added, removed)
  --strict                  a policy-level case the server does not follow fails (default: a warning, exit 0)
  --concurrency <n>         case runs in flight at once (default 4)
  --debug                   stack traces for harness faults
  --help, --version

Time bounds (a hung server gives its case an error verdict; the run goes on).
<time> always has a unit: 500ms, 10s, 2m or 1h (a bare number is refused).
  --start-timeout <time>    bound on a server's start (default 15s, or --ready-timeout + 5s)
  --stop-timeout <time>     bound on a server's stop (default 10s)
  --case-timeout <time>     bound on one case under one TLS version (default 30s)
  --probe-timeout <time>    bound on one probe connection (default 5s; raise it for stacks whose handshakes are slow)
  --run-timeout <time>      bound on the whole run, exit 2 when it runs out (default 30m)

Exit codes: 0 every case met its expectation; 1 a conformance failure or an
unexpected pass; 2 the run could not be carried out; 130 / 143 interrupted by
SIGINT / SIGTERM (servers stopped, temp dirs removed). An empty --shard (more
shards than selected cases) exits 0 with a note.

The contract (adapter, flags, exit codes, verdicts, report files) is
docs/contract.md, in the package (node_modules/mtls-conformance/docs/).`;

/** What the ★ of --list and the matrix means. */
export const CORE_LEGEND = '★ = core case, one of the five that --core selects (trust, revocation and identity basics every mTLS server must pass)';

/** Parsed command line. */
export interface CliOptions {
  server: string;
  serverCmd?: string;
  capabilities?: string;
  reloadSignal?: string;
  readyTimeout?: string;
  /** --ready-timeout in milliseconds (with --server-cmd; default 10 s). */
  readyTimeoutMs?: number;
  grep?: string;
  /** --core: only the cases marked core. */
  core?: boolean;
  /** --name: the server's name in reports. */
  name?: string;
  family?: string;
  tls?: TlsVersion;
  expectations?: string;
  reportDir: string;
  /** An earlier run's report.json to compare with. */
  baseline?: string;
  concurrency: number;
  /** 1-based slice index and slice count. */
  shard?: { index: number; count: number };
  list: boolean;
  help: boolean;
  version: boolean;
  debug: boolean;
  /** Bound on a server's start, ms. */
  startTimeoutMs?: number;
  /** Bound on a server's stop, ms. */
  stopTimeoutMs?: number;
  /** Bound on one case, ms. */
  caseTimeoutMs?: number;
  /** Bound on one probe connection, ms. */
  probeTimeoutMs?: number;
  /** Policy-level failures fail the run. */
  strict: boolean;
  /** Bound on the whole run, ms. */
  runTimeoutMs: number;
  /** --reporter: a mocha reporter's name or module; undefined = the suite's own console lines. */
  reporter?: string;
  /** --reporter-option pairs. */
  reporterOptions: Record<string, string>;
  /** --spec patterns: the user's own spec files. */
  spec: string[];
  bail: boolean;
  forbidOnly: boolean;
}

function usage(message: string, hint = 'see mtls-conformance --help'): HarnessError {
  return new HarnessError('ERR_MTLS_USAGE', message, hint);
}

/** Parses argv; throws ERR_MTLS_USAGE on anything unknown or malformed. */
export function parseCli(argv: readonly string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        server: { type: 'string' }, 'server-cmd': { type: 'string' }, capabilities: { type: 'string' },
        'reload-signal': { type: 'string' }, 'ready-timeout': { type: 'string' },
        grep: { type: 'string' }, family: { type: 'string' }, tls: { type: 'string' }, expectations: { type: 'string' },
        'report-dir': { type: 'string' }, concurrency: { type: 'string' }, shard: { type: 'string' }, baseline: { type: 'string' },
        'start-timeout': { type: 'string' }, 'stop-timeout': { type: 'string' }, 'case-timeout': { type: 'string' }, 'run-timeout': { type: 'string' }, 'probe-timeout': { type: 'string' }, strict: { type: 'boolean' },
        core: { type: 'boolean' }, name: { type: 'string' },
        reporter: { type: 'string' }, 'reporter-option': { type: 'string', multiple: true }, spec: { type: 'string', multiple: true },
        bail: { type: 'boolean' }, 'forbid-only': { type: 'boolean' },
        list: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' }, debug: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw usage(messageOf(error).replace(/\. To specify.*$/, '').replace(/\s+/g, ' '));
  }
  const v = parsed.values;
  const opts: CliOptions = {
    server: v.server ?? 'invoice',
    reportDir: v['report-dir'] ?? 'reports',
    concurrency: 4,
    list: v.list === true, help: v.help === true, version: v.version === true, debug: v.debug === true, strict: v.strict === true,
    runTimeoutMs: v['run-timeout'] === undefined ? RUN_TIMEOUT_MS : parseDuration('run-timeout', v['run-timeout']),
    reporterOptions: parseReporterOptions(v['reporter-option'] ?? []), spec: v.spec ?? [], bail: v.bail === true, forbidOnly: v['forbid-only'] === true,
  };
  if (v.reporter !== undefined) {
    if (v.reporter.trim() === '') throw usage('--reporter is empty', 'give a mocha reporter name such as spec, dot or tap, or an installed reporter module');
    opts.reporter = v.reporter;
  }
  for (const pattern of opts.spec) if (pattern.trim() === '') throw usage('--spec is empty', 'give a spec file or glob, e.g. --spec "test/mtls/*.spec.ts"');
  if (v['start-timeout'] !== undefined) opts.startTimeoutMs = parseDuration('start-timeout', v['start-timeout']);
  if (v['stop-timeout'] !== undefined) opts.stopTimeoutMs = parseDuration('stop-timeout', v['stop-timeout']);
  if (v['case-timeout'] !== undefined) opts.caseTimeoutMs = parseDuration('case-timeout', v['case-timeout']);
  if (v['probe-timeout'] !== undefined) opts.probeTimeoutMs = parseDuration('probe-timeout', v['probe-timeout']);
  if (v['report-dir'] !== undefined && v['report-dir'].trim() === '') throw usage('--report-dir is empty', 'pass a directory path, e.g. --report-dir reports');
  if (v.server !== undefined && v['server-cmd'] !== undefined) throw usage('--server and --server-cmd were both given', 'use one of them');
  if (v['server-cmd'] !== undefined) opts.serverCmd = v['server-cmd'];
  for (const flag of ['capabilities', 'reload-signal', 'ready-timeout'] as const) {
    if (v[flag] !== undefined && v['server-cmd'] === undefined) throw usage(`--${flag} applies only to --server-cmd`, 'add --server-cmd or drop the flag');
  }
  if (v.capabilities !== undefined) opts.capabilities = v.capabilities;
  if (v['reload-signal'] !== undefined) opts.reloadSignal = v['reload-signal'];
  if (v['ready-timeout'] !== undefined) opts.readyTimeout = v['ready-timeout'];
  // Bad companion values end the run before any case: one line, exit 2.
  if (opts.capabilities !== undefined) parseCapabilities(opts.capabilities);
  if (opts.reloadSignal !== undefined) parseSignal(opts.reloadSignal);
  if (v.server !== undefined && v.server.trim() === '') throw usage('--server is empty', `give a built-in name (${BUILT_IN_NAMES.join(', ')}, all) or a path to an adapter module`);
  if (opts.serverCmd !== undefined) {
    opts.readyTimeoutMs = opts.readyTimeout === undefined ? READY_TIMEOUT_MS : parseDuration('ready-timeout', opts.readyTimeout);
    // The bound on a start must leave room for the command's own readiness wait (and one port re-pick).
    opts.startTimeoutMs ??= 2 * opts.readyTimeoutMs + START_MARGIN_MS;
  }
  if (v.grep !== undefined) {
    try {
      new RegExp(v.grep);
    } catch (error) {
      throw usage(`--grep ${JSON.stringify(v.grep)} is not a valid regular expression (${messageOf(error)})`, 'escape special characters such as ( [ *');
    }
    opts.grep = v.grep;
  }
  if (v.family !== undefined) {
    // A user's own family (from --spec files) is checked once they are loaded.
    if (!(FAMILIES as readonly string[]).includes(v.family) && (v.spec === undefined || !/^[a-z][a-z0-9-]*$/.test(v.family))) throw usage(`--family ${JSON.stringify(v.family)} is not a family`, `use one of ${FAMILIES.join(', ')}`);
    opts.family = v.family;
  }
  if (v.tls !== undefined) {
    if (v.tls !== '1.2' && v.tls !== '1.3') throw usage(`--tls ${JSON.stringify(v.tls)} is not a TLS version the suite runs`, 'use --tls 1.2 or --tls 1.3');
    opts.tls = v.tls;
  }
  if (v.core === true) opts.core = true;
  if (v.name !== undefined) {
    if (!/^[a-z0-9-]+$/.test(v.name)) throw usage(`Expected --name to be a name of [a-z0-9-]+, got ${JSON.stringify(v.name)}`, 'use lower-case letters, digits and hyphens, e.g. --name my-api');
    if (v.server === 'all') throw usage('--name names one server, but --server all runs every built-in', 'drop --name, or run one server at a time');
    opts.name = v.name;
  }
  if (v.expectations !== undefined) opts.expectations = v.expectations;
  if (v.baseline !== undefined) opts.baseline = v.baseline;
  if (v.concurrency !== undefined) {
    const n = Number(v.concurrency);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw usage(`Expected --concurrency to be an integer from 1 to 64, got ${JSON.stringify(v.concurrency)}`);
    opts.concurrency = n;
  }
  if (v.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(v.shard);
    const index = Number(m?.[1]);
    const count = Number(m?.[2]);
    if (!m || count < 1 || index < 1 || index > count) {
      throw usage(`Expected --shard to be i/n with 1 <= i <= n, got ${JSON.stringify(v.shard)}`, 'use e.g. --shard 1/3, --shard 2/3, --shard 3/3');
    }
    opts.shard = { index, count };
  }
  return opts;
}

/** --reporter-option k=v pairs (each flag may hold several, comma-separated), as mocha reads them. */
function parseReporterOptions(values: readonly string[]): Record<string, string> {
  const options: Record<string, string> = {};
  for (const pair of values.flatMap((v) => v.split(','))) {
    const at = pair.indexOf('=');
    if (at <= 0) throw usage(`Expected --reporter-option to be key=value, got ${JSON.stringify(pair)}`, 'e.g. --reporter-option mochaFile=reports/mocha.xml');
    options[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return options;
}

/** The i-th of n slices: cases dealt round-robin in catalogue order, so every shard gets every family and the union is the whole selection. */
export function shardCases<T>(cases: readonly T[], shard: { index: number; count: number } | undefined): T[] {
  if (!shard) return [...cases];
  return cases.filter((_, i) => i % shard.count === shard.index - 1);
}

/** The cases --core, --grep and --family select (all of them that are given), in catalogue order. */
export function selectCases(opts: Pick<CliOptions, 'grep' | 'family' | 'core'>, catalogue: readonly CaseDefinition[] = CATALOGUE): CaseDefinition[] {
  const grep = opts.grep === undefined ? undefined : new RegExp(opts.grep);
  const selected = catalogue.filter((c) => (opts.core !== true || c.core === true) && (opts.family === undefined || c.family === opts.family) && (grep === undefined || grep.test(`${c.id} ${c.title}`)));
  if (selected.length === 0) {
    const what = [opts.core === true && '--core', opts.family && `--family ${opts.family}`, opts.grep !== undefined && `--grep ${JSON.stringify(opts.grep)}`].filter(Boolean).join(' with ');
    throw new HarnessError('ERR_MTLS_NO_CASES', `${what} selects no case`, 'run with --list to see the case ids and titles');
  }
  return selected;
}

async function adapterExpectations(opts: CliOptions, adapter: ServerAdapter, builtIn: boolean): Promise<Expectations> {
  if (opts.expectations !== undefined) return loadExpectations(opts.expectations);
  if (builtIn) return loadExpectations(path.join(ROOT, 'expectations', `${adapter.name}.json`), true);
  return NO_EXPECTATIONS;
}

/** Creates a missing report dir one level at a time: a recursive mkdir spins forever on a path under /proc. */
async function createReportDir(dir: string): Promise<void> {
  const missing: string[] = [];
  const fail = (code: string, at: string): HarnessError => new HarnessError('ERR_MTLS_REPORT_DIR',
    `report dir ${dir} cannot be created (${code}${code === 'ENOTDIR' ? ': part of its path is a file' : ''} at ${at})`, 'pass --report-dir a directory path you can write to');
  for (let current = path.resolve(dir); ;) {
    const error = await stat(current).then(() => undefined, (e: NodeJS.ErrnoException) => e);
    if (error === undefined) break;
    if (error.code !== 'ENOENT') throw fail(error.code ?? 'error', current);
    missing.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const level of missing) {
    await mkdir(level).catch((e: NodeJS.ErrnoException) => { if (e.code !== 'EEXIST') throw fail(e.code ?? 'error', level); });
  }
}

/** Runs the CLI; returns the exit code. Never throws. */
export async function main(argv: readonly string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n'), err: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<number> {
  let debug = argv.includes('--debug');
  const controller = new AbortController();
  // Why the run was cut short, once it was: a signal or the run's time bound.
  let stopped: { signal: NodeJS.Signals } | { runTimeoutMs: number } | undefined;
  let graceMs = STOP_TIMEOUT_MS + CLEANUP_MARGIN_MS;
  let watchdog: NodeJS.Timeout | undefined;
  let runTimer: NodeJS.Timeout | undefined;
  const stoppedCode = (): number => (stopped && 'signal' in stopped ? 128 + (constants.signals[stopped.signal] ?? 0) : 2);
  // Cleanup that itself hangs must not hang the suite: kill what is left; tmp's exit hook removes the temp dirs.
  const forceExit = (why: string): void => {
    const killed = killDescendantsNow();
    err(`mtls-conformance: ${why}; killed ${killed.length} remaining child process${killed.length === 1 ? '' : 'es'} and exiting`);
    process.exit(stoppedCode());
  };
  const abort = (why: NonNullable<typeof stopped>): void => {
    if (stopped) return;
    stopped = why;
    controller.abort();
    watchdog = setTimeout(() => { forceExit(`cleanup did not finish within ${formatDuration(graceMs)}`); }, graceMs);
    watchdog.unref();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopped && 'signal' in stopped) {
      forceExit(`second ${signal} received`);
      return;
    }
    err(`mtls-conformance: ${signal} received; stopping servers and removing temp dirs (send it again to exit at once)`);
    abort({ signal });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  tmp.setGracefulCleanup();
  let code: number;
  try {
    // `merge` joins finished reports: no server, no openssl, no time bounds.
    if (argv[0] === 'merge') return await runMerge(argv.slice(1), out, err);
    const opts = parseCli(argv);
    debug = opts.debug;
    graceMs = (opts.stopTimeoutMs ?? STOP_TIMEOUT_MS) + CLEANUP_MARGIN_MS;
    runTimer = setTimeout(() => { abort({ runTimeoutMs: opts.runTimeoutMs }); }, opts.runTimeoutMs);
    runTimer.unref();
    code = await runCli(opts, controller.signal, out);
  } catch (error) {
    code = 2;
    if (stopped) {
      // Reported below.
    } else if (isHarnessError(error)) {
      err(`mtls-conformance: ${error.oneLine()}`);
      if (debug) err(debugStack(error));
    } else {
      err(`mtls-conformance: internal error: ${messageOf(error).split('\n')[0] ?? ''}; rerun with --debug and report it`);
      if (debug) err(debugStack(error));
    }
  } finally {
    clearTimeout(runTimer);
    clearTimeout(watchdog);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (stopped && 'signal' in stopped) {
    err(`mtls-conformance: interrupted by ${stopped.signal}; servers stopped and temp dirs removed, no report written for the unfinished server`);
    return stoppedCode();
  }
  if (stopped) {
    err(`mtls-conformance: the run did not finish within ${formatDuration(stopped.runTimeoutMs)}; servers stopped and temp dirs removed; raise --run-timeout, or find the slow case with --grep and lower --case-timeout`);
    return 2;
  }
  return code;
}

/** What a baseline is compared within: the case runs this run selected, and the ids the catalogue has. */
function baselineScope(cases: readonly CaseDefinition[], tls: TlsVersion | undefined, catalogue: readonly CaseDefinition[]): BaselineScope {
  const ids = new Set(cases.map((c) => c.id));
  const known = new Set(catalogue.map((c) => c.id));
  return { selected: (id, v) => ids.has(id) && (tls === undefined || v === tls), known: (id) => known.has(id) };
}

/** Why a shard ran nothing. */
export function emptyShardNote(shard: { index: number; count: number }, selected: number): string {
  return `shard ${shard.index}/${shard.count} holds none of the ${selected} selected case${selected === 1 ? '' : 's'} (more shards than cases); nothing ran here, the other shards run them all`;
}

/** The adapter under the name --name gives it (reports, matrix column, baseline matching). */
function renamed(adapter: ServerAdapter, name: string | undefined): ServerAdapter {
  return name === undefined ? adapter : { ...adapter, name };
}

/** Where the summary lines go: stdout, unless the chosen reporter's stdout is a document of its own. */
function summaryOut(reporter: string | undefined, out: (line: string) => void): (line: string) => void {
  if (reporter === undefined) return out;
  if (reporter === 'tap') return (line) => { out(`# ${line}`); };
  if (['json', 'json-stream', 'xunit', 'markdown', 'doc', 'html'].includes(reporter)) return (line) => { process.stderr.write(line + '\n'); };
  return out;
}

/**
 * Loads spec files as mocha does (the interface's globals set up for each), but always through import(): mocha
 * would require() them first, and require() resolves `import ... from 'mtls-conformance'` without the loader
 * hooks the checkout sets up.
 */
async function loadSpecFiles(mocha: Mocha, files: readonly string[]): Promise<void> {
  const { EVENT_FILE_PRE_REQUIRE, EVENT_FILE_REQUIRE, EVENT_FILE_POST_REQUIRE } = Mocha.Suite.constants;
  for (const file of files) {
    mocha.suite.emit(EVENT_FILE_PRE_REQUIRE, globalThis, file, mocha);
    // tsImport compiles TypeScript wherever the file lives, also beside no package.json (where .ts means CommonJS).
    const loaded: unknown = /\.[cm]?ts$/.test(file) ? await tsImport(pathToFileURL(file).href, import.meta.url) : await import(pathToFileURL(file).href);
    mocha.suite.emit(EVENT_FILE_REQUIRE, loaded, file, mocha);
    mocha.suite.emit(EVENT_FILE_POST_REQUIRE, globalThis, file, mocha);
  }
}

/** The files --spec names (globs allowed), checked before anything runs. */
function specFiles(patterns: readonly string[]): string[] {
  const files: string[] = [];
  for (const pattern of patterns) {
    let found: string[];
    try {
      found = lookupFiles(pattern, ['.ts', '.js', '.mjs', '.cjs', '.mts'], false);
    } catch {
      found = [];
    }
    if (found.length === 0) throw usage(`--spec ${JSON.stringify(pattern)} matches no file`, 'give a spec file or a glob such as "test/mtls/*.spec.ts" (quoted, so the shell does not expand it)');
    files.push(...found.map((f) => path.resolve(f)));
  }
  return [...new Set(files)];
}

/** Everything after parsing: returns 0 or 1, throws HarnessErrors. */
async function runCli(opts: CliOptions, signal: AbortSignal, out: (line: string) => void): Promise<number> {
  if (opts.help) { out(HELP); return 0; }
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  if (opts.version) { out(pkg.version); return 0; }
  const inner = opts.reporter === undefined ? undefined : await loadReporter(opts.reporter);
  const files = specFiles(opts.spec);
  const run = new ConformanceRun({ ...(opts.tls ? { selection: { tls: [opts.tls] } } : {}) });
  const mocha = new Mocha({ ...(opts.bail ? { bail: true } : {}), ...(opts.forbidOnly ? { forbidOnly: true } : {}) });
  setCurrentRun(run);
  try {
    if (files.length > 0) {
      try {
        await loadSpecFiles(mocha, files);
      } catch (error) {
        if (isHarnessError(error)) throw error;
        throw new HarnessError('ERR_MTLS_SPEC', `a --spec file failed to load: ${messageOf(error).split('\n')[0] ?? ''}`, 'fix the spec file so that it imports cleanly (npx mocha <file> shows the whole error)');
      }
    }
  } finally {
    setCurrentRun(undefined);
  }
  const users = userCases(run);
  if (opts.family !== undefined && !(FAMILIES as readonly string[]).includes(opts.family) && !users.some((c) => c.family === opts.family)) {
    throw usage(`--family ${JSON.stringify(opts.family)} is not a family`, `use one of ${[...new Set([...FAMILIES, ...users.map((c) => c.family)])].join(', ')}`);
  }
  const selected = selectCases(opts, [...CATALOGUE, ...users]);
  const cases = shardCases(selected, opts.shard);
  if (opts.list) {
    for (const c of cases) out(`${c.id.padEnd(48)} ${c.severity.padEnd(8)} ${c.core ? '★ ' : ''}${c.title}`);
    out(`${cases.length} ${cases.length === 1 ? 'case' : 'cases'}${cases.some((c) => c.core) ? `; ${CORE_LEGEND}` : ''}`);
    return 0;
  }
  await checkOpenssl();
  const targets: { spec: string; builtIn: boolean }[] = opts.serverCmd !== undefined ? [] : opts.server === 'all'
    ? BUILT_IN_NAMES.map((name) => ({ spec: name, builtIn: true }))
    : [{ spec: opts.server, builtIn: !opts.server.includes('/') && !/\.[cm]?[jt]s$/.test(opts.server) }];
  const adapters: SessionTarget[] = [];
  if (opts.serverCmd !== undefined) {
    const adapter = commandAdapter({
      command: opts.serverCmd, readyTimeoutMs: opts.readyTimeoutMs ?? READY_TIMEOUT_MS,
      capabilities: parseCapabilities(opts.capabilities ?? ''),
      ...(opts.reloadSignal !== undefined ? { reloadSignal: parseSignal(opts.reloadSignal) } : {}),
    });
    adapters.push({ adapter: renamed(adapter, opts.name), expectations: await adapterExpectations(opts, adapter, false) });
  }
  for (const target of targets) {
    const adapter = await resolveAdapter(target.spec);
    adapters.push({ adapter: renamed(adapter, opts.name), expectations: await adapterExpectations(opts, adapter, target.builtIn) });
  }
  const baseline: Baseline | undefined = opts.baseline === undefined ? undefined : await loadBaseline(opts.baseline);
  await createReportDir(opts.reportDir);
  await prepareReportDir(opts.reportDir).catch((error: unknown) => {
    if (isHarnessError(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new HarnessError('ERR_MTLS_REPORT_DIR', `report dir ${opts.reportDir} cannot be used (${code}${code === 'ENOTDIR' ? ': part of its path is a file' : ''})`, 'pass --report-dir a directory path you can write to');
  });
  run.addSessions(adapters, {
    concurrency: opts.concurrency, signal, ...(opts.tls ? { tls: [opts.tls] } : {}),
    ...(opts.startTimeoutMs !== undefined ? { startTimeoutMs: opts.startTimeoutMs } : {}),
    ...(opts.stopTimeoutMs !== undefined ? { stopTimeoutMs: opts.stopTimeoutMs } : {}),
    ...(opts.caseTimeoutMs !== undefined ? { caseTimeoutMs: opts.caseTimeoutMs } : {}),
    ...(opts.probeTimeoutMs !== undefined ? { probeTimeoutMs: opts.probeTimeoutMs } : {}),
    strict: opts.strict,
  });
  registerSelected(mocha, run, cases);
  const known = [...CATALOGUE, ...users];
  const { reports, failures } = await runConformance(mocha, run, {
    reportDir: opts.reportDir, version: pkg.version, knownIds: known.map((c) => c.id), signal,
    ...(inner ? { inner, innerOptions: opts.reporterOptions } : { progress: process.stderr }),
    ...(opts.shard ? { shard: opts.shard } : {}),
    // One baseline compares with the server it came from, or with the only server of the run.
    decorate: (report) => {
      if (baseline && (baseline.server === report.server || adapters.length === 1)) report.baseline = compareBaseline(baseline, report, baselineScope(cases, opts.tls, known));
    },
  });
  const summary = summaryOut(opts.reporter, out);
  if (inner === undefined) for (const report of reports) for (const line of formatResults(report)) out(line);
  let failed = reports.some(runFails);
  // The user's own plain mocha tests (in --spec files) fail the run as well.
  const caseFailures = reports.reduce((n, r) => n + r.summary.failed, 0);
  if (failures > caseFailures) failed = true;
  if (baseline && !reports.some((r) => r.baseline)) summary(`note: --baseline ${opts.baseline ?? ''} is a run of ${baseline.server}, which this run did not include; nothing was compared`);
  // An empty shard is not a failure: the other shards run every selected case (exit 0, reports say so).
  if (opts.shard && cases.length === 0) summary(`note: ${emptyShardNote(opts.shard, selected.length)}`);
  for (const line of summaryLines(opts.reportDir, reports.map((r) => r.summary))) summary(line);
  return failed ? 1 : 0;
}
