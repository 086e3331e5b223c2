// Console output: reads like the report, one line per case and TLS version,
// grouped by family; the summary line is printed last by the CLI.
import { FAMILIES } from './case.ts';
import type { ServerReport } from './report.ts';
import type { CaseResult } from './runner.ts';

export const MARK: Record<CaseResult['verdict'], string> = {
  pass: '✓', fail: '✗', error: '!', 'not-applicable': '-', 'expected-fail': '~', 'unexpected-pass': '?',
};

/** Console lines for one server's results, grouped by family. */
export function formatResults(report: ServerReport): string[] {
  const lines = [`${report.server}:`];
  for (const family of FAMILIES) {
    const rows = report.cases.filter((r) => r.family === family);
    if (rows.length === 0) continue;
    lines.push(`  ${family}`);
    for (const r of rows) {
      const detail = r.verdict === 'pass' ? r.message.replace(/^[^:]*: /, '') : r.verdict === 'expected-fail' ? `known deviation: ${r.reason ?? ''}` : r.message;
      lines.push(`    ${MARK[r.verdict]} ${r.title} — TLS ${r.tls}: ${detail}`);
    }
  }
  if (report.staleExpectations.length > 0) lines.push(`  stale expectations (match no case; remove them): ${report.staleExpectations.join(', ')}`);
  return lines;
}

