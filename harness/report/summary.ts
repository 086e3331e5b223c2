// The closing lines of a run or a merge: where the reports went, the details
// in words, and the plain summary line, always last.
import type { Summary } from '../run/results.ts';

/** `1 error`, `2 errors`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The lines that end a run: reports dir, details, `conformance: N passed, N failed, N skipped`. */
export function summaryLines(reportDir: string, totals: readonly Summary[]): string[] {
  const sum = (k: keyof Summary): number => totals.reduce((n, s) => n + s[k], 0);
  const detail = [
    sum('warnings') && `${plural(sum('warnings'), 'warning')} (policy; --strict fails them)`,
    sum('expectedFailures') && plural(sum('expectedFailures'), 'known deviation'),
    sum('notApplicable') && `${sum('notApplicable')} not applicable`,
    sum('errors') && plural(sum('errors'), 'error'),
    sum('unexpectedPasses') && plural(sum('unexpectedPasses'), 'unexpected pass', 'unexpected passes'),
  ].filter(Boolean);
  return [
    `reports written to ${reportDir}/`,
    ...(detail.length > 0 ? [`(${detail.join(', ')})`] : []),
    `conformance: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`,
  ];
}
