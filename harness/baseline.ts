// --baseline: what changed since an earlier run's report.json — newly failing,
// newly passing, cases added or removed — for the console and report.md.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { HarnessError } from './errors.ts';
import type { ServerReport } from './report.ts';
import type { CaseResult, Verdict } from './runner.ts';

const VERDICTS: readonly Verdict[] = ['pass', 'fail', 'warning', 'not-applicable', 'expected-fail', 'unexpected-pass', 'error'];

/** The part of an earlier report.json a comparison needs. */
export interface Baseline {
  /** File name it was read from (no directory, so reports stay machine-independent). */
  source: string;
  server: string;
  cases: { id: string; title: string; tls: string; verdict: Verdict }[];
}

/** One case and TLS version whose verdict changed. */
export interface VerdictChange {
  id: string;
  title: string;
  tls: string;
  before: Verdict;
  after: Verdict;
  /** The current run's one-sentence explanation. */
  message: string;
}

/** Differences between a baseline and the current run of one server. */
export interface BaselineDiff {
  source: string;
  /** The baseline's server, when it differs from the current one. */
  otherServer?: string;
  newlyFailing: VerdictChange[];
  newlyPassing: VerdictChange[];
  /** Other verdict changes (e.g. pass → not applicable). */
  changed: VerdictChange[];
  /** `id TLS v` present now and absent from the baseline. */
  added: string[];
  /** `id TLS v` present in the baseline and absent now although this run selected it, or gone from the catalogue. */
  removed: string[];
  /** Case runs of the baseline that this run's selection (--grep, --family, --core, --shard, --tls) left out: not compared. */
  notSelected?: number;
}

/** Which case runs the current run selected, and which case ids the catalogue still has. */
export interface BaselineScope {
  selected(id: string, tls: string): boolean;
  known(id: string): boolean;
}

function bad(file: string, what: string): HarnessError {
  return new HarnessError('ERR_MTLS_USAGE', `--baseline ${file}: ${what}`, 'pass the report.json of an earlier run (reports/<server>/report.json)');
}

/** Parses a report.json text as a baseline; throws one-line ERR_MTLS_USAGE errors. */
export function parseBaseline(text: string, file: string): Baseline {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw bad(file, `is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad(file, 'is not a report.json object');
  const d = doc as { server?: unknown; cases?: unknown };
  if (typeof d.server !== 'string' || !Array.isArray(d.cases)) throw bad(file, 'has no "server" and "cases" (is it a report.json?)');
  const cases: Baseline['cases'] = [];
  for (const [i, c] of (d.cases as unknown[]).entries()) {
    const r = c as Partial<Record<'id' | 'title' | 'tls' | 'verdict', unknown>> | null;
    if (r === null || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.tls !== 'string' || !VERDICTS.includes(r.verdict as Verdict)) {
      throw bad(file, `cases[${i}] lacks a string id, tls or a known verdict`);
    }
    cases.push({ id: r.id, title: typeof r.title === 'string' ? r.title : r.id, tls: r.tls, verdict: r.verdict as Verdict });
  }
  return { source: path.basename(file), server: d.server, cases };
}

/** Reads a baseline file. */
export async function loadBaseline(file: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw bad(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseBaseline(text, file);
}

const failing = (v: Verdict): boolean => v === 'fail' || v === 'error' || v === 'expected-fail';
const passing = (v: Verdict): boolean => v === 'pass' || v === 'unexpected-pass';

/** Compares the current results of one server with a baseline. */
export function compareBaseline(baseline: Baseline, report: Pick<ServerReport, 'server' | 'cases'>, scope?: BaselineScope): BaselineDiff {
  const key = (c: { id: string; tls: string }): string => `${c.id} TLS ${c.tls}`;
  const before = new Map(baseline.cases.map((c) => [key(c), c]));
  const now = new Map<string, CaseResult>(report.cases.map((c) => [key(c), c]));
  const diff: BaselineDiff = { source: baseline.source, newlyFailing: [], newlyPassing: [], changed: [], added: [], removed: [] };
  if (baseline.server !== report.server) diff.otherServer = baseline.server;
  for (const [k, c] of now) {
    const old = before.get(k);
    if (!old) { diff.added.push(k); continue; }
    if (old.verdict === c.verdict) continue;
    const change: VerdictChange = { id: c.id, title: c.title, tls: c.tls, before: old.verdict, after: c.verdict, message: c.message };
    if (failing(c.verdict) && !failing(old.verdict)) diff.newlyFailing.push(change);
    else if (passing(c.verdict) && failing(old.verdict)) diff.newlyPassing.push(change);
    else diff.changed.push(change);
  }
  let notSelected = 0;
  for (const [k, c] of before) {
    if (now.has(k)) continue;
    // A case the selection left out is not gone from the suite; one the catalogue no longer has is.
    if (scope && scope.known(c.id) && !scope.selected(c.id, c.tls)) notSelected += 1;
    else diff.removed.push(k);
  }
  if (notSelected > 0) diff.notSelected = notSelected;
  return diff;
}

/** True when nothing changed. */
export function isUnchanged(diff: BaselineDiff): boolean {
  return diff.newlyFailing.length + diff.newlyPassing.length + diff.changed.length + diff.added.length + diff.removed.length === 0;
}

/** Console lines describing the changes. */
export function formatBaseline(diff: BaselineDiff): string[] {
  const head = `  since ${diff.source}${diff.otherServer ? ` (a run of another server, ${diff.otherServer})` : ''}:`;
  const left = diff.notSelected ? [`    not compared: ${notSelectedText(diff.notSelected)}`] : [];
  if (isUnchanged(diff)) return [`${head} no change`, ...left];
  const lines = [head];
  for (const c of diff.newlyFailing) lines.push(`    newly failing: ${c.id} TLS ${c.tls} (${c.before} → ${c.after}): ${c.message}`);
  for (const c of diff.newlyPassing) lines.push(`    newly passing: ${c.id} TLS ${c.tls} (${c.before} → ${c.after})`);
  for (const c of diff.changed) lines.push(`    changed: ${c.id} TLS ${c.tls} (${c.before} → ${c.after})`);
  if (diff.added.length > 0) lines.push(`    added: ${diff.added.join(', ')}`);
  if (diff.removed.length > 0) lines.push(`    removed: ${diff.removed.join(', ')}`);
  return [...lines, ...left];
}

/** `113 case runs of the baseline that this run's selection left out`. */
export function notSelectedText(n: number): string {
  return `${n} case run${n === 1 ? '' : 's'} of the baseline that this run's selection left out`;
}
