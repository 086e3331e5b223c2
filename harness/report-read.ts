// Reading report.json files back: the matrix lists every server report in the
// report dir, and merge joins the reports of shards and servers.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ServerReport } from './report.ts';

/** A report.json read from disk, with where it came from. */
export interface ReportFile {
  file: string;
  report: ServerReport;
}

/** Why a report.json cannot be used, or undefined when it has the fields the writers need. */
export function reportShapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'is not a JSON object';
  const r = value as Partial<Record<keyof ServerReport, unknown>>;
  if (typeof r.server !== 'string' || !/^[a-z0-9-]+$/.test(r.server)) return 'has no server name';
  if (!Array.isArray(r.cases)) return 'has no cases list';
  if (typeof r.summary !== 'object' || r.summary === null) return 'has no summary';
  if (!Array.isArray(r.capabilities)) return 'has no capabilities list';
  for (const [i, c] of (r.cases as unknown[]).entries()) {
    const k = c as Partial<Record<'id' | 'tls' | 'verdict' | 'family' | 'title', unknown>> | null;
    if (k === null || typeof k !== 'object' || typeof k.id !== 'string' || typeof k.tls !== 'string' || typeof k.verdict !== 'string' || typeof k.family !== 'string' || typeof k.title !== 'string') {
      return `cases[${i}] lacks an id, title, family, tls or verdict`;
    }
  }
  return undefined;
}

/** Reads one report.json; throws with a reason when it cannot be used. */
export async function readReportFile(file: string): Promise<ReportFile> {
  const text = await readFile(file, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`is not valid JSON (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  const problem = reportShapeProblem(value);
  if (problem !== undefined) throw new Error(problem);
  const report = value as ServerReport;
  // Fields older reports may lack.
  report.staleExpectations = Array.isArray(report.staleExpectations) ? report.staleExpectations : [];
  return { file, report };
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
