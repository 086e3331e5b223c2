// --baseline: what changed since an earlier run's report.json — newly failing,
// newly passing, cases added or removed — for the console and report.md.
import path from 'node:path';
import { parseReport, readReportFile } from './read.ts';
import { failsRun, type BaselineDiff, type CaseResult, type ServerReport, type Verdict, type VerdictChange } from '../run/results.ts';

// The change types live with the results (a report carries its diff); re-exported for the modules that import them from here.
export type { BaselineDiff, VerdictChange } from '../run/results.ts';

/** The part of an earlier report.json a comparison needs. */
export interface Baseline {
  /** File name it was read from (no directory, so reports stay machine-independent). */
  source: string;
  server: string;
  cases: { id: string; title: string; tls: string; verdict: Verdict }[];
}

/** Which case runs the current run selected, and which case ids the catalogue still has. */
export interface BaselineScope {
  selected(id: string, tls: string): boolean;
  known(id: string): boolean;
}

/** The part of a parsed report a comparison needs. */
function baselineOf(report: ServerReport, file: string): Baseline {
  return { source: path.basename(file), server: report.server, cases: report.cases.map((c) => ({ id: c.id, title: c.title, tls: c.tls, verdict: c.verdict })) };
}

/** Parses a report.json text as a baseline; throws the report parser's one-line errors. */
export function parseBaseline(text: string, file: string): Baseline {
  return baselineOf(parseReport(text, file, '--baseline'), file);
}

/** Reads a baseline file. */
export async function loadBaseline(file: string): Promise<Baseline> {
  return baselineOf((await readReportFile(file, '--baseline')).report, file);
}

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
    // One rule with the exit code: newly failing is a run that fails the run now and did not.
    if (failsRun(c.verdict) && !failsRun(old.verdict)) diff.newlyFailing.push(change);
    else if (c.verdict === 'pass' && failsRun(old.verdict)) diff.newlyPassing.push(change);
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
