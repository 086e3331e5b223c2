// The command line (DESIGN.md §3): parse, select cases, run them against one or
// more servers, write reports, print the summary last, exit 0 / 1 / 2.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import tmp from 'tmp-promise';
import { CATALOGUE } from '../spec/index.ts';
import { resolveAdapter } from './adapters.ts';
import { FAMILIES, type CaseDefinition } from './case.ts';
import { HarnessError, isHarnessError, messageOf } from './errors.ts';
import { loadExpectations, NO_EXPECTATIONS, staleEntries, type Expectations } from './expectations.ts';
import { checkOpenssl } from './openssl.ts';
import { prepareReportDir, summarize, writeMatrix, writeServerReport, type ServerReport, type Summary } from './report.ts';
import { runCases } from './runner.ts';
import { BUILT_IN_NAMES } from './servers/index.ts';
import { commandAdapter, parseCapabilities, parseDuration, parseSignal } from './servers/command.ts';
import { interruptStarts } from './servers/process.ts';
import { createProgress, formatResults } from './console.ts';
import { compareBaseline, loadBaseline, type Baseline } from './baseline.ts';
import type { ServerAdapter, TlsVersion } from './types.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const HELP = `Usage: mtls-conformance [options]

Checks the mutual-TLS behaviour of an HTTPS server: every case builds a fresh
PKI with openssl, starts the server with it, probes it with good, bad and
missing client certificates, and judges what it did.

Server under test (default: the built-in invoice server):
  --server <name|path>      built-in adapter (${BUILT_IN_NAMES.join(', ')}, all) or an adapter module (.ts/.js/.mjs)
  --server-cmd <command>    any program, with {host} {port} {cert} {key} {ca} {crl} {canary} ... placeholders
  --capabilities <list>     with --server-cmd: crl,crl-reload,path-authz,allowlist,log-identity
  --reload-signal <SIG>     with --server-cmd: signal that makes the server re-read its files
  --ready-timeout <time>    with --server-cmd: how long to wait for the port (default 10s)

Selection:
  --grep <regex>            cases whose "id title" matches
  --family <name>           one family: ${FAMILIES.join(', ')}
  --tls <1.2|1.3>           one TLS version (default both)
  --shard <i/n>             run the i-th of n deterministic slices of the selection (CI matrices)
  --list                    list the selected cases and exit

Results:
  --expectations <file>     known deviations (default expectations/<server>.json for built-ins)
  --report-dir <dir>        where reports go (default ./reports)
  --baseline <report.json>  show what changed since an earlier run (newly failing, newly passing, added, removed)
  --concurrency <n>         case runs in flight at once (default 4)
  --debug                   stack traces for harness faults
  --help, --version

Exit codes: 0 every case met its expectation; 1 a conformance failure or an
unexpected pass; 2 the run could not be carried out.`;

/** Parsed command line. */
export interface CliOptions {
  server: string;
  serverCmd?: string;
  capabilities?: string;
  reloadSignal?: string;
  readyTimeout?: string;
  grep?: string;
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
    list: v.list === true, help: v.help === true, version: v.version === true, debug: v.debug === true,
  };
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
  if (opts.readyTimeout !== undefined) parseDuration('--ready-timeout', opts.readyTimeout);
  if (v.server !== undefined && v.server.trim() === '') throw usage('--server is empty', `give a built-in name (${BUILT_IN_NAMES.join(', ')}, all) or a path to an adapter module`);
  if (v.grep !== undefined) {
    try {
      new RegExp(v.grep);
    } catch (error) {
      throw usage(`--grep ${JSON.stringify(v.grep)} is not a valid regular expression (${messageOf(error)})`, 'escape special characters such as ( [ *');
    }
    opts.grep = v.grep;
  }
  if (v.family !== undefined) {
    if (!(FAMILIES as readonly string[]).includes(v.family)) throw usage(`--family ${JSON.stringify(v.family)} is not a family`, `use one of ${FAMILIES.join(', ')}`);
    opts.family = v.family;
  }
  if (v.tls !== undefined) {
    if (v.tls !== '1.2' && v.tls !== '1.3') throw usage(`--tls ${JSON.stringify(v.tls)} is not a TLS version the suite runs`, 'use --tls 1.2 or --tls 1.3');
    opts.tls = v.tls;
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

/** The i-th of n slices: cases dealt round-robin in catalogue order, so every shard gets every family and the union is the whole selection. */
export function shardCases<T>(cases: readonly T[], shard: { index: number; count: number } | undefined): T[] {
  if (!shard) return [...cases];
  return cases.filter((_, i) => i % shard.count === shard.index - 1);
}

/** The cases --grep and --family select, in catalogue order. */
export function selectCases(opts: Pick<CliOptions, 'grep' | 'family'>, catalogue: readonly CaseDefinition[] = CATALOGUE): CaseDefinition[] {
  const grep = opts.grep === undefined ? undefined : new RegExp(opts.grep);
  const selected = catalogue.filter((c) => (opts.family === undefined || c.family === opts.family) && (grep === undefined || grep.test(`${c.id} ${c.title}`)));
  if (selected.length === 0) {
    const what = [opts.family && `--family ${opts.family}`, opts.grep !== undefined && `--grep ${JSON.stringify(opts.grep)}`].filter(Boolean).join(' with ');
    throw new HarnessError('ERR_MTLS_NO_CASES', `${what} selects no case`, 'run with --list to see the case ids and titles');
  }
  return selected;
}

async function adapterExpectations(opts: CliOptions, adapter: ServerAdapter, builtIn: boolean): Promise<Expectations> {
  if (opts.expectations !== undefined) return loadExpectations(opts.expectations);
  if (builtIn) return loadExpectations(path.join(ROOT, 'expectations', `${adapter.name}.json`), true);
  return NO_EXPECTATIONS;
}

/** Runs the CLI; returns the exit code. Never throws. */
export async function main(argv: readonly string[], out: (line: string) => void = (l) => process.stdout.write(l + '\n'), err: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<number> {
  let debug = argv.includes('--debug');
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    err(`mtls-conformance: ${signal} received; stopping servers and removing temp dirs`);
    controller.abort();
    interruptStarts();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  tmp.setGracefulCleanup();
  try {
    const opts = parseCli(argv);
    debug = opts.debug;
    if (opts.help) { out(HELP); return 0; }
    if (opts.version) {
      const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
      out(pkg.version);
      return 0;
    }
    const cases = shardCases(selectCases(opts), opts.shard);
    if (opts.list) {
      for (const c of cases) out(`${c.id.padEnd(48)} ${c.severity.padEnd(8)} ${c.core ? '★ ' : ''}${c.title}`);
      out(`${cases.length} cases`);
      return 0;
    }
    await checkOpenssl();
    const targets: { spec: string; builtIn: boolean }[] = opts.serverCmd !== undefined ? [] : opts.server === 'all'
      ? BUILT_IN_NAMES.map((name) => ({ spec: name, builtIn: true }))
      : [{ spec: opts.server, builtIn: !opts.server.includes('/') && !/\.[cm]?[jt]s$/.test(opts.server) }];
    const adapters: { adapter: ServerAdapter; expectations: Expectations }[] = [];
    let startTimeoutMs: number | undefined;
    if (opts.serverCmd !== undefined) {
      const readyTimeoutMs = opts.readyTimeout === undefined ? 10_000 : parseDuration('--ready-timeout', opts.readyTimeout);
      const adapter = commandAdapter({
        command: opts.serverCmd, readyTimeoutMs,
        capabilities: parseCapabilities(opts.capabilities ?? ''),
        ...(opts.reloadSignal !== undefined ? { reloadSignal: parseSignal(opts.reloadSignal) } : {}),
      });
      // The runner's bound on a start must leave room for the command's own ready timeout (and one port re-pick).
      startTimeoutMs = 2 * readyTimeoutMs + 5_000;
      adapters.push({ adapter, expectations: await adapterExpectations(opts, adapter, false) });
    }
    for (const target of targets) {
      const adapter = await resolveAdapter(target.spec);
      adapters.push({ adapter, expectations: await adapterExpectations(opts, adapter, target.builtIn) });
    }
    const baseline: Baseline | undefined = opts.baseline === undefined ? undefined : await loadBaseline(opts.baseline);
    await prepareReportDir(opts.reportDir);
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const reports: ServerReport[] = [];
    const totals: Summary[] = [];
    let failed = false;
    for (const { adapter, expectations } of adapters) {
      const runs = cases.reduce((n, c) => n + (c.tls === 'once' || opts.tls ? 1 : 2), 0);
      const progress = createProgress(adapter.name, runs, process.stderr);
      const started = performance.now();
      const results = await runCases({ adapter, cases, expectations, concurrency: opts.concurrency, signal: controller.signal, onResult: (r) => progress.tick(r), ...(opts.tls ? { tls: [opts.tls] } : {}), ...(startTimeoutMs !== undefined ? { startTimeoutMs } : {}) })
        .finally(() => progress.done());
      const report: ServerReport = {
        server: adapter.name, capabilities: adapter.capabilities, summary: summarize(results),
        staleExpectations: staleEntries(expectations, CATALOGUE.map((c) => c.id)), cases: results,
        totalMs: Math.round(performance.now() - started),
      };
      // One baseline compares with the server it came from, or with the only server of the run.
      if (baseline && (baseline.server === adapter.name || adapters.length === 1)) report.baseline = compareBaseline(baseline, report);
      await writeServerReport(opts.reportDir, report, { version: pkg.version });
      reports.push(report);
      for (const line of formatResults(report)) out(line);
      totals.push(report.summary);
      if (report.summary.failed > 0 || report.staleExpectations.length > 0) failed = true;
    }
    await writeMatrix(opts.reportDir, reports);
    const sum = (k: keyof Summary): number => totals.reduce((n, s) => n + s[k], 0);
    out(`reports written to ${opts.reportDir}/`);
    const detail = [sum('expectedFailures') && `${sum('expectedFailures')} known deviations`, sum('notApplicable') && `${sum('notApplicable')} not applicable`, sum('errors') && `${sum('errors')} errors`, sum('unexpectedPasses') && `${sum('unexpectedPasses')} unexpected passes`].filter(Boolean);
    if (detail.length > 0) out(`(${detail.join(', ')})`);
    out(`conformance: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`);
    return failed ? 1 : 0;
  } catch (error) {
    if (isHarnessError(error)) {
      err(`mtls-conformance: ${error.oneLine()}`);
      if (debug && error.stack) err(error.stack);
      return 2;
    }
    err(`mtls-conformance: internal error: ${messageOf(error)}; rerun with --debug and report it`);
    if (debug && error instanceof Error && error.stack) err(error.stack);
    return 2;
  } finally {
    interruptStarts(false);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
