// Log lines: escaping what a certificate can smuggle in, and bounded polling of
// a server's log for an expected line.
import type { RunningServer } from './types.ts';

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
export async function waitForLog(server: RunningServer, match: (line: string) => boolean, timeoutMs = 5_000): Promise<{ line?: string; lines: string[] }> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    const lines = await server.logs();
    const line = lines.find(match);
    if (line !== undefined) return { line, lines };
    if (Date.now() >= deadline) return { lines };
    // A poll interval, not a readiness sleep: real servers flush access logs on their own schedule.
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
    delay = Math.min(delay * 2, 200);
  }
}
