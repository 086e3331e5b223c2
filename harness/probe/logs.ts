// Log lines: escaping what a certificate can smuggle in, and bounded polling of
// a server's log for an expected line.
import type { RunningServer } from '../types.ts';
import { LOG_QUIET_MS, LOG_SETTLE_MAX_MS, LOG_WAIT_MS } from '../run/bounds.ts';

/** Escapes control characters and quotes so a certificate field can never forge or colour a log line. */
export function escapeLogValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\x00-\x1f\x7f-\x9f"\\\u2028\u2029]/g, (ch) => {
    if (ch === '"') return '\\"';
    if (ch === '\\') return '\\\\';
    return `\\x${(ch.codePointAt(0) ?? 0).toString(16).padStart(2, '0')}`;
  });
}

/** True when a line carries raw CR, LF or ESC (the log-injection bytes). */
export function hasRawControl(line: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\r\n\x1b]/.test(line);
}

/** Polls `server.logs()` until `match` finds a line or `timeoutMs` passes; returns the line or undefined. */
export async function waitForLog(server: RunningServer, match: (line: string) => boolean, timeoutMs = LOG_WAIT_MS): Promise<{ line?: string; lines: string[] }> {
  let line: string | undefined;
  const lines = await waitForLines(server, (all) => (line = all.find(match)) !== undefined, timeoutMs);
  return line === undefined ? { lines } : { line, lines };
}

/** Polls `server.logs()` until `done` holds for the whole log or `timeoutMs` passes; returns the last lines read. */
export async function waitForLines(server: RunningServer, done: (lines: readonly string[]) => boolean, timeoutMs = LOG_WAIT_MS): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    const lines = await server.logs();
    if (done(lines) || Date.now() >= deadline) return lines;
    // A poll interval, not a readiness sleep: real servers flush access logs on their own schedule.
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 200);
  }
}

/** Every physical line of the log: entries split at CR and LF, as a terminal or a line-based log pipeline would show them. */
export function physicalLines(lines: readonly string[]): string[] {
  return lines.flatMap((line) => line.split(/\r\n|\r|\n/));
}

/** True when `line` names `name` as a whole token (not inside a longer name). */
export function namesToken(line: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}._-])${escaped}($|[^\\p{L}\\p{N}._-])`, 'u').test(line);
}

/** True when `line` reads as an acceptance (accepted, allowed, granted, HTTP 200) of the client `name`. */
export function recordsAcceptance(line: string, name: string): boolean {
  return /\b(accept(ed)?|allow(ed)?|grant(ed)?|authori[sz]ed|200)\b/i.test(line) && !/\b(refused|forbidden|denied|rejected|40[0-9])\b/i.test(line) && namesToken(line, name);
}

export { LOG_QUIET_MS, LOG_SETTLE_MAX_MS };

/**
 * Reads the log once the lines a server writes just after a response are in: polls `logs()` until it
 * has not grown for `quietMs` since the later of `lastResponseAt` and its last growth, at most `maxMs`.
 * A case that ended long after its last response costs one read.
 */
export async function readSettledLogs(server: Pick<RunningServer, 'logs'>, lastResponseAt: number, quietMs = LOG_QUIET_MS, maxMs = LOG_SETTLE_MAX_MS): Promise<string[]> {
  const deadline = performance.now() + maxMs;
  let lines = await server.logs();
  let changedAt = lastResponseAt;
  for (;;) {
    const now = performance.now();
    const quietUntil = changedAt + quietMs;
    if (now >= quietUntil || now >= deadline) return lines;
    // A poll interval bounded by the quiet window and the deadline, not a fixed sleep.
    await new Promise((r) => setTimeout(r, Math.max(1, Math.min(quietUntil, deadline) - now)));
    const next = await server.logs();
    if (next.length !== lines.length) changedAt = performance.now();
    lines = next;
  }
}
