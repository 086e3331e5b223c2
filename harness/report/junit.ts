// junit.xml for CI systems: one testsuite per family, one testcase per case and
// TLS version; failures carry the expected-vs-observed sentence, known
// deviations, policy warnings and not-applicable cases are skipped with their reason.
import { visible } from './document.ts';
import { familiesOf, summarize, type CaseResult, type ServerReport } from '../run/results.ts';

/** Escapes text for XML content and attributes; control characters (which XML 1.0 forbids or mangles) are shown as `\xNN`. */
export function escapeXml(text: string, keepNewlines = false): string {
  return visible(text, keepNewlines).replace(/[\ufffe\uffff]/g, '?')
    .replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch] ?? ch);
}

function testcase(server: string, r: CaseResult): string {
  const attrs = `classname="${escapeXml(`${server}.${r.family}`)}" name="${escapeXml(`${r.id} [TLS ${r.tls}] ${r.title}`)}" time="${(r.ms / 1000).toFixed(3)}"`;
  const logs = r.evidence.logExcerpt?.length ? `\n      <system-out>${escapeXml(r.evidence.logExcerpt.map((l) => visible(l)).join('\n'), true)}</system-out>` : '';
  switch (r.verdict) {
    case 'pass': return `    <testcase ${attrs}>${logs}${logs ? '\n    ' : ''}</testcase>`;
    case 'not-applicable': return `    <testcase ${attrs}>\n      <skipped message="${escapeXml(r.message)}"/>\n    </testcase>`;
    case 'warning': return `    <testcase ${attrs}>\n      <skipped message="${escapeXml(`warning: a policy of the suite, not a requirement (--strict makes it a failure): ${r.message}`)}"/>${logs}\n    </testcase>`;
    case 'expected-fail': return `    <testcase ${attrs}>\n      <skipped message="${escapeXml(`known deviation: ${r.reason ?? ''} (${r.message})`)}"/>${logs}\n    </testcase>`;
    case 'error': return `    <testcase ${attrs}>\n      <error message="${escapeXml(r.message)}" type="error">${escapeXml(r.message)}</error>${logs}\n    </testcase>`;
    case 'fail':
    case 'unexpected-pass':
      return `    <testcase ${attrs}>\n      <failure message="${escapeXml(r.message)}" type="${r.verdict}">${escapeXml(`${visible(r.message)}\nseverity: ${r.severity}`, true)}</failure>${logs}\n    </testcase>`;
  }
}

/** The failures, errors and skipped attributes: the run's failing verdicts split as JUnit splits them (errors apart). */
function counts(rows: readonly CaseResult[]): string {
  const s = summarize(rows);
  return `failures="${s.failed - s.errors}" errors="${s.errors}" skipped="${s.skipped}"`;
}

/** The whole junit.xml text. */
export function renderJunit(report: ServerReport): string {
  const suites: string[] = [];
  for (const family of familiesOf(report.cases)) {
    const rows = report.cases.filter((r) => r.family === family);
    const time = rows.reduce((t, r) => t + r.ms, 0) / 1000;
    suites.push(`  <testsuite name="${escapeXml(`${report.server}: ${family}`)}" tests="${rows.length}" ${counts(rows)} time="${time.toFixed(3)}">\n${rows.map((r) => testcase(report.server, r)).join('\n')}\n  </testsuite>`);
  }
  const all = report.cases;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${escapeXml(`mtls-conformance ${report.server}`)}" tests="${all.length}" ${counts(all)}>\n${suites.join('\n')}\n</testsuites>\n`;
}
