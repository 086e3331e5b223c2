// Report files (DESIGN.md §6). Every writer works from CaseResults; private keys
// never reach them (the PKI appears as summaries and replay commands only).
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HarnessError } from './errors.ts';
import type { CaseResult } from './runner.ts';
import type { Capability } from './types.ts';

/** Totals of one server's run. */
export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  expectedFailures: number;
  unexpectedPasses: number;
  notApplicable: number;
  errors: number;
}

/** One server's run, as the report writers see it. */
export interface ServerReport {
  server: string;
  capabilities: readonly Capability[];
  summary: Summary;
  /** Expectation entries that matched no case. */
  staleExpectations: string[];
  cases: CaseResult[];
}

/** Counts verdicts: failed = fail + error + unexpected-pass; skipped = not-applicable + expected-fail. */
export function summarize(results: readonly CaseResult[]): Summary {
  const count = (v: CaseResult['verdict']): number => results.filter((r) => r.verdict === v).length;
  const expectedFailures = count('expected-fail');
  const unexpectedPasses = count('unexpected-pass');
  const notApplicable = count('not-applicable');
  const errors = count('error');
  return {
    passed: count('pass'),
    failed: count('fail') + errors + unexpectedPasses,
    skipped: notApplicable + expectedFailures,
    expectedFailures, unexpectedPasses, notApplicable, errors,
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
    const { rm } = await import('node:fs/promises');
    await rm(probeFile);
  } catch (error) {
    throw new HarnessError('ERR_MTLS_REPORT_DIR', `report dir ${dir} is not writable (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'pass --report-dir a directory you can write to');
  }
}

/** Writes `<dir>/<server>/report.json`; returns the paths written. */
export async function writeServerReport(dir: string, report: ServerReport): Promise<string[]> {
  const serverDir = path.join(dir, report.server);
  await mkdir(serverDir, { recursive: true });
  const json = path.join(serverDir, 'report.json');
  await writeFile(json, JSON.stringify(report, null, 2) + '\n');
  return [json];
}
