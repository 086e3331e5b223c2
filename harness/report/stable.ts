// Makes results deterministic for committed documentation: serial numbers,
// random names and canaries become stable placeholders, timestamps, ports,
// process ids, timings and temp paths are removed, and the PKI's dates become
// `date` expressions relative to when the replay script runs.
import os from 'node:os';
import type { CaseResult, ServerReport } from '../run/results.ts';

/** The line of a relative replay script that takes the time it runs. */
const T0_LINE = 'T0=$(date +%s)';

/** Snaps an offset in seconds to whole minutes when it is close to one (the build runs a moment after the case starts). */
function snapOffset(seconds: number): number {
  const minutes = Math.round(seconds / 60) * 60;
  return Math.abs(seconds - minutes) <= 20 ? minutes : Math.round(seconds);
}

function parseAsn1(digits: string, twoDigitYear: boolean): number {
  const full = twoDigitYear ? `20${digits}` : digits;
  const [y, mo, d, h, mi, s] = [full.slice(0, 4), full.slice(4, 6), full.slice(6, 8), full.slice(8, 10), full.slice(10, 12), full.slice(12, 14)].map(Number);
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, s ?? 0);
}

/**
 * Replaces the absolute dates of a replay script with expressions relative to the time it runs, so a
 * replay a day later still builds an unexpired CRL. `exact` keeps offsets to the second (report.md);
 * otherwise they snap to whole minutes (stable docs). A script already made relative is left as it is.
 */
export function relativizeDates(replay: string, startedAt: string, opts: { exact?: boolean } = {}): string {
  const start = Date.parse(startedAt);
  if (!replay || Number.isNaN(start) || replay.includes(T0_LINE)) return replay;
  const expr = (digits: string, twoDigitYear: boolean): string => {
    const seconds = (parseAsn1(digits, twoDigitYear) - start) / 1000;
    const offset = opts.exact === true ? Math.round(seconds) : snapOffset(seconds);
    const sign = offset < 0 ? '-' : '+';
    return `$(date -u -d @$((T0 ${sign} ${Math.abs(offset)})) +%${twoDigitYear ? 'y' : 'Y'}%m%d%H%M%SZ)`;
  };
  const replaceDates = (text: string): string => text
    .replace(/(?<![0-9A-Za-z])(\d{14})Z(?![0-9A-Za-z])/g, (_, d: string) => expr(d, false))
    .replace(/(?<![0-9A-Za-z])(\d{12})Z(?![0-9A-Za-z])/g, (_, d: string) => expr(d, true));
  // Heredocs are quoted (no expansion): unquote the ones that now hold a date expression. A body that holds
  // ` \ or $ must stay quoted, so its dates stay as they are: a date expression there would be literal text.
  let out = '';
  let last = 0;
  for (const m of replay.matchAll(/<<'(\w+)'\n([\s\S]*?)\n\1\n/g)) {
    const [whole, marker = '', body = ''] = m;
    out += replaceDates(replay.slice(last, m.index));
    const changed = replaceDates(body);
    out += changed === body || /[`\\$]/.test(body) ? whole : `<<${marker}\n${changed}\n${marker}\n`;
    last = m.index + whole.length;
  }
  out += replaceDates(replay.slice(last));
  const lines = out.split('\n');
  if (!lines.some((l) => l.includes('$((T0 '))) return replay;
  const at = lines.findIndex((l) => l.startsWith('set -'));
  lines.splice(at + 1, 0, '# dates are relative to now, as when the suite built this PKI', T0_LINE);
  return lines.join('\n');
}

/** Text rules applied to every string of a stable result. */
const RULES: [RegExp, string][] = [
  [/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g, 'TIME'],
  [/\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}/g, 'TIME'],
  [/\[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\]/g, '[TIME]'],
  [/\[[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4}\]/g, '[TIME]'],
  [/\b[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\b/g, 'TIME'],
  // Epoch milliseconds of the years 2020 to 2033 (JSON loggers).
  [/(?<![\d.])1[6-9]\d{11}(?![\d.])/g, 'TIME'],
  [/\b(127\.0\.0\.1|localhost|\[::1\]):\d{2,5}\b/g, '$1:PORT'],
  [/\b(port) \d{2,5}\b/g, '$1 PORT'],
  [/\b\d+#\d+: \*\d+/g, 'PID#TID: *N'],
  [/\b\d+#\d+:/g, 'PID#TID:'],
  [/\b(worker process|child) \d+\b/g, '$1 N'],
  // Certificate dates as Node prints them (valid_to), and any other host:port.
  [/\b[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} \d{4} GMT\b/g, 'TIME'],
  [/\b([a-z0-9-]+\.example):\d{2,5}\b/g, '$1:PORT'],
  // A certificate sent in a header (base64 DER).
  [/MII[A-Za-z0-9+/]{40,}={0,2}/g, 'BASE64-DER'],
  // Measurements of the run: durations, memory, descriptor and log-line counts.
  [/\b\d+(?:\.\d+)? (ms|MiB)\b/g, 'N $1'],
  [/\b\d+ before, \d+ after\b/g, 'N before, N after'],
  [/\b(of|among) \d+ (lines?)\b/g, '$1 N $2'],
  [/\[pid \d+(?::tid \d+)?\]/g, '[pid PID]'],
  [/\bpid[= ]\d+\b/g, 'pid PID'],
];

/** A stable copy of one result: the same content, minus everything that differs between runs. */
export function stabilizeResult(result: CaseResult, extraPaths: readonly string[] = []): CaseResult {
  const copy: CaseResult = { ...result, replay: relativizeDates(result.replay, result.startedAt), ms: 0, startedAt: '', openssl: { processes: result.openssl.processes, ms: 0 } };
  copy.checks = result.checks.map((c) => (c.observation ? { ...c, observation: { ...c.observation, ms: 0 } } : { ...c }));
  // A real server's error log (start-up chatter, worker and connection numbers) differs run to run; its access log does not.
  if (result.evidence.logExcerpt) copy.evidence = { ...result.evidence, logExcerpt: result.evidence.logExcerpt.filter((line) => !line.startsWith('error: '))
    // Random bytes a robustness case sent, as an access log escaped them.
    .map((line) => line.replace(/"G[^"]*\\x[0-9A-F]{2}[^"]*"/g, '"(random bytes)"')) };
  // The replay goes first so placeholders are numbered the same way whatever the checks say.
  const { replay, ...rest } = copy;
  let text = JSON.stringify({ replay, ...rest });
  // Serial numbers: 16 upper-case hex digits, renumbered in order of appearance.
  const serials = new Map<string, string>();
  text = text.replace(/(?<=^|0x|x09|\\[tn]|[^0-9A-Za-z])[0-9A-F]{16}(?![0-9A-Za-z])/g, (s) => {
    if (!serials.has(s)) serials.set(s, `10000000000000${String(serials.size + 1).padStart(2, '0')}`);
    return serials.get(s) ?? s;
  });
  // Random suffixes (canary-<hex>, mail-server-<hex>): renumbered, same length.
  const tokens = new Map<string, string>();
  text = text.replace(/(?<=-)[0-9a-f]{8,}(?![0-9A-Za-z])/g, (s) => {
    if (!tokens.has(s)) tokens.set(s, String(tokens.size + 1).padStart(s.length, '0'));
    return tokens.get(s) ?? s;
  });
  for (const [rule, by] of RULES) text = text.replace(rule, by);
  for (const dir of [...extraPaths, os.tmpdir()].filter((d) => d.length > 1)) {
    const escaped = JSON.stringify(dir).slice(1, -1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // A path ends at white space, a quote or a colon, or at the backslash of an escaped quote in the JSON text.
    text = text.replace(new RegExp(`${escaped}(?:/[^\\s"':\\\\]*)?`, 'g'), 'PATH');
  }
  return JSON.parse(text) as CaseResult;
}

/** A stable copy of one server's report. */
export function stabilizeReport(report: ServerReport, extraPaths: readonly string[] = []): ServerReport {
  const { totalMs: _totalMs, baseline: _baseline, ...rest } = report;
  return { ...rest, capabilities: [...report.capabilities], cases: report.cases.map((r) => stabilizeResult(r, extraPaths)) };
}
