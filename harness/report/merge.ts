// `mtls-conformance merge <report-dir>... --report-dir <out>`: joins the reports
// of CI shards (and of separate servers) into one set of report files and one
// matrix. Inputs that overlap or do not belong together are refused (exit 2).
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CATALOGUE } from '../../spec/index.ts';
import { formatResults } from './console.ts';
import { HarnessError, messageOf } from '../errors.ts';
import { readReportDir, readReportFile, type ReportFile } from './read.ts';
import { prepareReportDir, writeMatrix, writeServerReport } from './files.ts';
import { runFails, summarize, type ServerReport } from '../run/results.ts';
import { summaryLines } from './summary.ts';

export const MERGE_HELP = `Usage: mtls-conformance merge <report-dir>... --report-dir <out>

Joins the reports of several runs into one set of report files and one matrix:
the shards of a CI matrix (--shard i/n) and runs of different servers. Each
input is the --report-dir of a run (holding <server>/report.json) or one
server's directory (holding report.json).

Refused with exit 2: an input without a report, two inputs that ran the same
case and TLS version of one server (the same shard twice), reports of one server
that declare different capabilities or come from different shard counts or
mtls-conformance versions.

Exit codes: 0 every merged case met its expectation; 1 a conformance failure
or an unexpected pass among them; 2 the inputs could not be merged.`;

function refuse(what: string, fix: string): HarnessError {
  return new HarnessError('ERR_MTLS_MERGE', `merge: ${what}`, fix);
}

/** Parsed `merge` arguments. */
export interface MergeOptions {
  inputs: string[];
  reportDir: string;
  help: boolean;
}

/** Parses the arguments after `merge`. */
export function parseMerge(argv: readonly string[]): MergeOptions {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], strict: true, allowPositionals: true, options: { 'report-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' }, debug: { type: 'boolean' } } });
  } catch (error) {
    throw new HarnessError('ERR_MTLS_USAGE', `merge: ${messageOf(error).replace(/\. To specify.*$/, '').replace(/\s+/g, ' ')}`, 'see mtls-conformance merge --help');
  }
  const help = parsed.values.help === true;
  const reportDir = parsed.values['report-dir'];
  if (!help && (reportDir === undefined || reportDir.trim() === '')) throw new HarnessError('ERR_MTLS_USAGE', 'merge needs --report-dir <out>, the directory the merged reports go to', 'e.g. mtls-conformance merge shard-1 shard-2 --report-dir reports');
  if (!help && parsed.positionals.length === 0) throw new HarnessError('ERR_MTLS_USAGE', 'merge was given no report dir to join', 'name the --report-dir of each run, e.g. mtls-conformance merge shard-1 shard-2 --report-dir reports');
  return { inputs: parsed.positionals, reportDir: reportDir ?? '', help };
}

/** The reports one input holds: its own report.json, or one per server directory. */
async function readInput(dir: string): Promise<ReportFile[]> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) throw refuse(`${dir} is not a directory`, 'pass the --report-dir of each run to merge');
  const own = path.join(dir, 'report.json');
  if (await stat(own).then((s) => s.isFile(), () => false)) return [await readReportFile(own, 'merge:')];
  const found = await readReportDir(dir);
  if (found.length === 0) throw refuse(`${dir} holds no report (no report.json in it or in a <server>/ directory under it)`, 'pass the --report-dir of a run that finished');
  return found;
}

const order = new Map(CATALOGUE.map((c, i) => [c.id, i]));
const rank = (id: string): number => order.get(id) ?? CATALOGUE.length;

/** Joins the reports of one server; throws a one-line refusal when they overlap or do not belong together. */
export function mergeServer(parts: readonly { input: string; report: ServerReport }[]): ServerReport {
  const first = parts[0];
  if (!first) throw new Error('mergeServer needs at least one report');
  const server = first.report.server;
  const versions = new Set(parts.map((p) => p.report.version ?? 'unknown'));
  if (versions.size > 1) {
    throw refuse(`the reports of ${server} come from different mtls-conformance versions (${parts.map((p) => `${p.report.version ?? 'unknown'} in ${p.input}`).join(', ')})`, 'run every shard with the same version');
  }
  const caps = (r: ServerReport): string => [...r.capabilities].sort().join(',') || 'none';
  const other = parts.find((p) => caps(p.report) !== caps(first.report));
  if (other) {
    throw refuse(`two reports named ${server} declare different capabilities (${caps(first.report)} in ${first.input}, ${caps(other.report)} in ${other.input}), so they are different servers`, 'give each server its own --name and run again');
  }
  const counts = new Set(parts.map((p) => p.report.shard?.count ?? 1));
  if (counts.size > 1) {
    throw refuse(`the reports of ${server} come from different shard counts (${parts.map((p) => `${p.report.shard ? `${p.report.shard.index}/${p.report.shard.count}` : 'unsharded'} in ${p.input}`).join(', ')})`, 'merge the shards of one run, all cut with the same --shard i/n');
  }
  const seenShard = new Map<number, string>();
  for (const p of parts) {
    if (!p.report.shard) continue;
    const before = seenShard.get(p.report.shard.index);
    if (before !== undefined) throw refuse(`shard ${p.report.shard.index}/${p.report.shard.count} of ${server} is in both ${before} and ${p.input}`, 'merge each shard once');
    seenShard.set(p.report.shard.index, p.input);
  }
  const seenCase = new Map<string, string>();
  for (const p of parts) {
    for (const c of p.report.cases) {
      const key = `${c.id} TLS ${c.tls}`;
      const before = seenCase.get(key);
      if (before !== undefined) throw refuse(`${server} ran ${key} in both ${before} and ${p.input}, so the inputs overlap`, 'merge reports of disjoint runs: the shards of one --shard i/n split, or different servers');
      seenCase.set(key, p.input);
    }
  }
  const cases = parts.flatMap((p) => p.report.cases).sort((a, b) => rank(a.id) - rank(b.id) || a.id.localeCompare(b.id) || a.tls.localeCompare(b.tls));
  const merged: ServerReport = {
    server, capabilities: first.report.capabilities, summary: summarize(cases),
    staleExpectations: [...new Set(parts.flatMap((p) => p.report.staleExpectations))], cases,
    mergedFrom: parts.map((p) => p.input),
  };
  if (first.report.version !== undefined) merged.version = first.report.version;
  return merged;
}

/** Shards that a sharded server's reports lack, as `2/3, 3/3`. */
function missingShards(parts: readonly { report: ServerReport }[]): string[] {
  const count = parts[0]?.report.shard?.count;
  if (count === undefined) return [];
  const have = new Set(parts.map((p) => p.report.shard?.index));
  return Array.from({ length: count }, (_, i) => i + 1).filter((i) => !have.has(i)).map((i) => `${i}/${count}`);
}

/** Runs `merge`; returns 0 or 1, throws HarnessErrors (exit 2). */
export async function runMerge(argv: readonly string[], out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const opts = parseMerge(argv);
  if (opts.help) { out(MERGE_HELP); return 0; }
  const byServer = new Map<string, { input: string; report: ServerReport }[]>();
  const outDir = path.resolve(opts.reportDir);
  for (const input of opts.inputs) {
    for (const { report } of await readInput(input)) {
      byServer.set(report.server, [...(byServer.get(report.server) ?? []), { input, report }]);
    }
    if (path.resolve(input) === outDir) throw refuse(`--report-dir ${opts.reportDir} is also an input`, 'write the merged reports to a directory of their own');
  }
  const merged = [...byServer.values()].map(mergeServer);
  await prepareReportDir(opts.reportDir);
  for (const parts of byServer.values()) {
    const missing = missingShards(parts);
    if (missing.length > 0) err(`mtls-conformance: merge: ${parts[0]?.report.server ?? ''} lacks shard${missing.length === 1 ? '' : 's'} ${missing.join(', ')}; the merged report holds only the cases of the shards given`);
  }
  for (const report of merged) await writeServerReport(opts.reportDir, report, report.version === undefined ? {} : { version: report.version });
  await writeMatrix(opts.reportDir, merged);
  for (const report of merged) for (const line of formatResults(report)) out(line);
  for (const line of summaryLines(opts.reportDir, merged.map((r) => r.summary))) out(line);
  return merged.some(runFails) ? 1 : 0;
}
