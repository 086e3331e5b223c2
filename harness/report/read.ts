// Reading report.json files back, the one parser of them: --baseline compares
// with one, the matrix lists every server report in the report dir, merge joins
// the reports of shards and servers, and the flake script reads each run's.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { HarnessError } from '../errors.ts';
import { REPORT_SCHEMA_VERSION, summarize, VERDICTS, type CaseResult, type ServerReport, type Summary, type Verdict } from '../run/results.ts';

/** A report.json read from disk, with where it came from. */
export interface ReportFile {
  file: string;
  report: ServerReport;
}

/** The schema versions this parser reads: 1 (no `schemaVersion` field, cases without `about`) up to the current one. */
const OLDEST_SCHEMA_VERSION = 1;

const FIX = 'pass a report.json written by mtls-conformance (<report-dir>/<server>/report.json)';
const SUMMARY_KEYS: readonly (keyof Summary)[] = ['passed', 'failed', 'skipped', 'expectedFailures', 'unexpectedPasses', 'notApplicable', 'errors', 'warnings'];

/** A field of the value, if it is an object. */
function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The schema version a report declares, or a problem. */
function schemaOf(value: Record<string, unknown>): number | string {
  const v = value['schemaVersion'];
  if (v === undefined) return OLDEST_SCHEMA_VERSION;
  if (typeof v !== 'number' || !Number.isInteger(v)) return `has a schemaVersion that is not a whole number (${JSON.stringify(v)})`;
  return v;
}

/** What is wrong with one case result, or undefined. */
function caseProblem(c: unknown, schema: number): string | undefined {
  if (!isObject(c)) return 'is not an object';
  for (const key of ['id', 'title', 'family', 'severity', 'tls', 'message', 'replay', 'startedAt'] as const) {
    if (typeof c[key] !== 'string') return `has no string "${key}"`;
  }
  if (!VERDICTS.includes(c['verdict'] as Verdict)) return `has verdict ${JSON.stringify(c['verdict'])}, not one of ${VERDICTS.join(', ')}`;
  if (c['expected'] !== 'accept' && c['expected'] !== 'reject') return 'has no "expected" (accept or reject)';
  for (const key of ['checks', 'pki'] as const) if (!Array.isArray(c[key])) return `has no "${key}" list`;
  if (!isObject(c['evidence'])) return 'has no "evidence" object';
  if (schema >= 2 && typeof field(c['about'], 'why') !== 'string') return 'has no "about" with a string "why" (what the case checks and why)';
  return undefined;
}

/** Why a parsed report.json cannot be used, or undefined when it has what the readers need. */
export function reportProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'is not a JSON object (is it a report.json?)';
  const schema = schemaOf(value);
  if (typeof schema === 'string') return schema;
  if (schema < OLDEST_SCHEMA_VERSION || schema > REPORT_SCHEMA_VERSION) {
    return `has schemaVersion ${schema}, which this mtls-conformance does not read (it reads ${OLDEST_SCHEMA_VERSION} to ${REPORT_SCHEMA_VERSION})`;
  }
  const server = value['server'];
  if (typeof server !== 'string' || !/^[a-z0-9-]+$/.test(server)) return 'has no "server" name ([a-z0-9-]+) (is it a report.json?)';
  if (!Array.isArray(value['cases'])) return 'has no "cases" list (is it a report.json?)';
  if (!Array.isArray(value['capabilities'])) return 'has no "capabilities" list';
  const summary = value['summary'];
  if (!isObject(summary)) return 'has no "summary" object';
  // Version 1 reports may predate some totals; they are recounted from the cases.
  const needed = schema >= 2 ? SUMMARY_KEYS : (['passed', 'failed', 'skipped'] as const);
  const missing = needed.find((k) => typeof summary[k] !== 'number');
  if (missing !== undefined) return `has no number "summary.${missing}"`;
  if (value['staleExpectations'] !== undefined && !Array.isArray(value['staleExpectations'])) return 'has a "staleExpectations" that is not a list';
  for (const [i, c] of (value['cases'] as unknown[]).entries()) {
    const problem = caseProblem(c, schema);
    const id = field(c, 'id');
    if (problem !== undefined) return `cases[${i}]${typeof id === 'string' ? ` (${id})` : ''} ${problem}`;
  }
  return undefined;
}

/** The report a valid parsed value holds, in the current shape (older versions brought up to date). */
function upgrade(value: Record<string, unknown>): ServerReport {
  const { schemaVersion: _schema, ...rest } = value;
  const report = rest as unknown as ServerReport;
  report.staleExpectations = Array.isArray(report.staleExpectations) ? report.staleExpectations : [];
  // Version 1 cases carry no metadata: their reports render without the why, references and needs.
  for (const c of report.cases as (Omit<CaseResult, 'about'> & { about?: CaseResult['about'] })[]) c.about ??= { why: '' };
  report.summary = { ...summarize(report.cases), ...report.summary };
  return report;
}

/** Parses the text of a report.json named `file`; `use` says how it was given (e.g. `--baseline`). Throws one-line ERR_MTLS_REPORT errors. */
export function parseReport(text: string, file: string, use?: string): ServerReport {
  const bad = (what: string, fix = FIX): HarnessError => new HarnessError('ERR_MTLS_REPORT', `${use === undefined ? '' : `${use} `}${file}: ${what}`, fix);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw bad(`is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const problem = reportProblem(value);
  if (problem?.startsWith('has schemaVersion ') === true) throw bad(problem, 'read it with the mtls-conformance version that wrote it, or run the suite again');
  if (problem !== undefined) throw bad(problem);
  return upgrade(value as Record<string, unknown>);
}

/** Reads and parses one report.json; throws one-line ERR_MTLS_REPORT errors, an unreadable file included. */
export async function readReportFile(file: string, use?: string): Promise<ReportFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new HarnessError('ERR_MTLS_REPORT', `${use === undefined ? '' : `${use} `}${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, FIX);
  }
  return { file, report: parseReport(text, file, use) };
}

/** Every usable `<dir>/<server>/report.json`, by server name; unreadable or foreign files are left out. */
export async function readReportDir(dir: string): Promise<ReportFile[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: ReportFile[] = [];
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = path.join(dir, entry.name, 'report.json');
    const read = await readReportFile(file).catch(() => undefined);
    // A report is listed under the directory it sits in, so a copied or renamed directory cannot shadow another server.
    if (read && read.report.server === entry.name) found.push(read);
  }
  return found;
}
