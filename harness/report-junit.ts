// junit.xml for CI systems: one testsuite per family, one testcase per case and
// TLS version; failures carry the expected-vs-observed sentence, known
// deviations, policy warnings and not-applicable cases are skipped with their reason.
import { familiesOf } from './case.ts';
import { visible } from './report-document.ts';
import type { ServerReport } from './report.ts';
import type { CaseResult } from './runner.ts';
import { SKIPPED } from './verdicts.ts';

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

/** The whole junit.xml text. */
export function renderJunit(report: ServerReport): string {
  const suites: string[] = [];
  for (const family of familiesOf(report.cases)) {
    const rows = report.cases.filter((r) => r.family === family);
    if (rows.length === 0) continue;
    const n = (...v: CaseResult['verdict'][]): number => rows.filter((r) => v.includes(r.verdict)).length;
    const time = rows.reduce((t, r) => t + r.ms, 0) / 1000;
    suites.push(`  <testsuite name="${escapeXml(`${report.server}: ${family}`)}" tests="${rows.length}" failures="${n('fail', 'unexpected-pass')}" errors="${n('error')}" skipped="${n(...SKIPPED)}" time="${time.toFixed(3)}">\n${rows.map((r) => testcase(report.server, r)).join('\n')}\n  </testsuite>`);
  }
  const all = report.cases;
  const n = (...v: CaseResult['verdict'][]): number => all.filter((r) => v.includes(r.verdict)).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${escapeXml(`mtls-conformance ${report.server}`)}" tests="${all.length}" failures="${n('fail', 'unexpected-pass')}" errors="${n('error')}" skipped="${n(...SKIPPED)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
