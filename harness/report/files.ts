// Report files (docs/contract.md, "Report files"). Every writer works from CaseResults; private keys
// never reach them (the PKI appears as summaries and replay commands only).
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HarnessError } from '../errors.ts';
import { buildServerDoc } from './content.ts';
import { anchorOf } from './document.ts';
import { renderHtml, renderMatrix } from './html.ts';
import { renderJunit } from './junit.ts';
import { renderMarkdown } from './markdown.ts';
import { readReportDir } from './read.ts';
import { REPORT_SCHEMA_VERSION, type ServerReport } from '../run/results.ts';

// The results types and totals live in harness/run/results.ts; re-exported for the modules that import them from here.
export { summarize, type ServerReport, type Summary } from '../run/results.ts';

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
  /** Tool version shown in report.md. */
  version?: string;
}

/** Writes report.json, report.md, report.html and junit.xml under `<dir>/<server>/`; returns the paths written. */
export async function writeServerReport(dir: string, report: ServerReport, opts: WriteOptions = {}): Promise<string[]> {
  const serverDir = path.join(dir, report.server);
  await mkdir(serverDir, { recursive: true });
  const doc = buildServerDoc(report, {
    timings: true,
    ...(report.baseline ? { baseline: report.baseline } : {}), ...(opts.version ? { version: opts.version } : {}),
  });
  const files: [string, string][] = [
    ['report.json', JSON.stringify({ schemaVersion: REPORT_SCHEMA_VERSION, ...report }, null, 2) + '\n'],
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
