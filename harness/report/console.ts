// Console output: reads like the report, one line per case and TLS version,
// grouped by family; the summary line is printed last by the CLI.
import { formatBaseline } from './baseline.ts';
import { visible } from './document.ts';
import { failsRun, familiesOf, type CaseResult, type ServerReport } from '../run/results.ts';
import { VERDICT_MARK as MARK } from '../run/verdicts.ts';

export { VERDICT_MARK as MARK } from '../run/verdicts.ts';

/** Console lines for one server's results, grouped by family. */
export function formatResults(report: ServerReport): string[] {
  const lines = [`${report.server}:`];
  for (const family of familiesOf(report.cases)) {
    const rows = report.cases.filter((r) => r.family === family);
    lines.push(visible(`  ${family}`));
    for (const r of rows) {
      const detail = r.verdict === 'pass' ? r.message.replace(/^[^:]*: /, '') : r.verdict === 'expected-fail' ? `known deviation: ${r.reason ?? ''}`
        : r.verdict === 'warning' ? `policy of the suite, not a requirement: ${r.message}` : r.message;
      lines.push(visible(`    ${MARK[r.verdict]} ${r.title} — TLS ${r.tls}: ${detail}`));
    }
  }
  if (report.staleExpectations.length > 0) lines.push(`  stale expectations (match no case; remove them): ${report.staleExpectations.join(', ')}`);
  if (report.baseline) lines.push(...formatBaseline(report.baseline));
  return lines;
}

/** Where live progress goes: a stream that may be a terminal. */
export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** A live progress count on one terminal line. */
export interface Progress {
  /** Counts one finished case run. */
  tick(result: Pick<CaseResult, 'id' | 'tls' | 'verdict'>): void;
  /** Clears the line before the results are printed. */
  done(): void;
}

/** True when live progress should be drawn: a terminal and not CI. */
export function wantsProgress(stream: ProgressStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env['CI'] === undefined || env['CI'] === '' || env['CI'] === 'false');
}

/** A progress counter for `total` case runs of one server; silent unless `wantsProgress`. */
export function createProgress(server: string, total: number, stream: ProgressStream, env: NodeJS.ProcessEnv = process.env): Progress {
  if (!wantsProgress(stream, env)) return { tick: () => undefined, done: () => undefined };
  let n = 0;
  let failed = 0;
  return {
    tick: (r) => {
      n += 1;
      if (failsRun(r.verdict)) failed += 1;
      stream.write(`\r\x1b[2K${server}: ${n}/${total}${failed > 0 ? ` (${failed} failed)` : ''} ${MARK[r.verdict]} ${r.id} TLS ${r.tls}`);
    },
    done: () => { if (n > 0) stream.write('\r\x1b[2K'); },
  };
}
