// Report files (docs/contract.md, "Report files"). Every writer works from CaseResults; private keys
// never reach them (the PKI appears as summaries and replay commands only).
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CATALOGUE } from '../spec/index.ts';
import type { BaselineDiff } from './baseline.ts';
import { HarnessError } from './errors.ts';
import { buildServerDoc, type CaseLookup } from './report-content.ts';
import { anchorOf } from './report-document.ts';
import { renderHtml, renderMatrix } from './report-html.ts';
import { renderJunit } from './report-junit.ts';
import { renderMarkdown } from './report-markdown.ts';
import { readReportDir } from './report-read.ts';
import type { CaseResult, ServerProfile } from './runner.ts';
import type { Capability } from './types.ts';
import { failsRun, SKIPPED } from './verdicts.ts';

/** Totals of one server's run. */
export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  expectedFailures: number;
  unexpectedPasses: number;
  notApplicable: number;
  errors: number;
  /** Policy-level cases the server does not follow (counted in skipped; they fail only with --strict). */
  warnings: number;
}

/** One server's run, as the report writers see it. */
export interface ServerReport {
  server: string;
  capabilities: readonly Capability[];
  summary: Summary;
  /** Expectation entries that matched no case. */
  staleExpectations: string[];
  cases: CaseResult[];
  /** Wall-clock milliseconds of the whole run of this server. */
  totalMs?: number;
  /** Changes since the --baseline report, when one was given. */
  baseline?: BaselineDiff;
  /** The TLS versions it served a valid client on, learnt before its cases ran. */
  tls?: ServerProfile;
  /** The mtls-conformance version that ran it (merge refuses to join runs of different versions). */
  version?: string;
  /** The --shard slice this report holds, when the run was sharded. */
  shard?: { index: number; count: number };
  /** Reports a merge joined into this one: their directories, as given to merge. */
  mergedFrom?: string[];
}

/** Counts verdicts: failed = the verdicts that fail a run (fail, error, unexpected-pass); skipped = not-applicable, expected-fail, warning. */
export function summarize(results: readonly CaseResult[]): Summary {
  const count = (v: CaseResult['verdict']): number => results.filter((r) => r.verdict === v).length;
  return {
    passed: count('pass'),
    failed: results.filter((r) => failsRun(r.verdict)).length,
    skipped: results.filter((r) => SKIPPED.includes(r.verdict)).length,
    expectedFailures: count('expected-fail'), unexpectedPasses: count('unexpected-pass'), notApplicable: count('not-applicable'), errors: count('error'), warnings: count('warning'),
  };
}

/** Checks the report dir is usable before the run starts (never after minutes of work). */
export async function prepareReportDir(dir: string): Promise<void> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
  if (info && !info.isDirectory()) {
    throw new HarnessError('ERR_MTLS_REPORT_DIR', `report dir ${dir} is a file, not a directory`, 'pass --report-dir a directory path');
  }
  try {
    await mkdir(dir, { recursive: true });
    const probeFile = path.join(dir, '.mtls-conformance-write-test');
    await writeFile(probeFile, '');
    await rm(probeFile);
  } catch (error) {
    throw new HarnessError('ERR_MTLS_REPORT_DIR', `report dir ${dir} is not writable (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'pass --report-dir a directory you can write to');
  }
}

/** Options of the report writers. */
export interface WriteOptions {
  /** Case metadata by id; default: the built-in catalogue. */
  lookup?: CaseLookup;
  /** Tool version shown in report.md. */
  version?: string;
}

/** The catalogue as a lookup. */
export const catalogueLookup: CaseLookup = (id) => CATALOGUE.find((c) => c.id === id);

/** Writes report.json, report.md, report.html and junit.xml under `<dir>/<server>/`; returns the paths written. */
export async function writeServerReport(dir: string, report: ServerReport, opts: WriteOptions = {}): Promise<string[]> {
  const serverDir = path.join(dir, report.server);
  await mkdir(serverDir, { recursive: true });
  const doc = buildServerDoc(report, {
    lookup: opts.lookup ?? catalogueLookup, timings: true,
    ...(report.baseline ? { baseline: report.baseline } : {}), ...(opts.version ? { version: opts.version } : {}),
  });
  const files: [string, string][] = [
    ['report.json', JSON.stringify(report, null, 2) + '\n'],
    ['report.md', renderMarkdown(doc)],
    ['report.html', renderHtml(doc, { href: '../index.html', text: '← the matrix of every server in this run' })],
    ['junit.xml', renderJunit(report)],
  ];
  const written: string[] = [];
  for (const [name, text] of files) {
    const file = path.join(serverDir, name);
    await writeFile(file, text);
    written.push(file);
  }
  return written;
}

/** Writes `<dir>/index.html`, the matrix of this run's servers and of every other server report already in `dir`; returns its path. */
export async function writeMatrix(dir: string, reports: readonly ServerReport[]): Promise<string> {
  const file = path.join(dir, 'index.html');
  const others = (await readReportDir(dir)).filter((r) => !reports.some((mine) => mine.server === r.report.server)).map((r) => r.report);
  await writeFile(file, renderMatrix([...reports, ...others], {
    href: (server, id) => `${encodeURIComponent(server)}/report.html#${anchorOf(id)}`,
    serverHref: (server) => `${encodeURIComponent(server)}/report.html`,
  }));
  return file;
}
