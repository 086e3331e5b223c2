// Durations on the command line: `500ms`, `10s`, `2m`, `1h` — always with a unit:
// a bare `5` reads as seconds to some and as milliseconds to others (mocha's --timeout).
import { HarnessError } from '../errors.ts';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const MAX_MS = 24 * 3_600_000;

/** Parses `--<flag> <value>` as a positive duration in milliseconds; throws ERR_MTLS_USAGE otherwise. */
export function parseDuration(flag: string, value: string): number {
  if (/^\d+(?:\.\d+)?$/.test(value.trim())) {
    throw new HarnessError('ERR_MTLS_USAGE', `Expected --${flag} to be a duration with a unit, got ${JSON.stringify(value)}`, `write the unit: ${value.trim()}s for seconds or ${value.trim()}ms for milliseconds`);
  }
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  const ms = m ? Math.round(Number(m[1]) * (UNITS[m[2] ?? ''] ?? NaN)) : NaN;
  if (!Number.isFinite(ms) || ms < 1 || ms > MAX_MS) {
    throw new HarnessError('ERR_MTLS_USAGE', `Expected --${flag} to be a duration such as 500ms, 10s or 2m, got ${JSON.stringify(value)}`, 'give a positive number with a unit ms, s, m or h (at most 24h)');
  }
  return ms;
}

/** A duration for messages: `800 ms`, `10 s`, `2 min`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${ms / 1_000} s`;
  return `${ms / 60_000} min`;
}
