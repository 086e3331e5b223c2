// Expectations files (docs/contract.md, "Expectations files"): case-id globs mapped to the reason a known
// deviation is accepted.
import { readFile } from 'node:fs/promises';
import { HarnessError } from '../errors.ts';

/** Known deviations of one adapter. */
export interface Expectations {
  /** Where they came from (for messages). */
  source: string;
  entries: { pattern: string; reason: string; regex: RegExp }[];
}

export const NO_EXPECTATIONS: Expectations = { source: '(none)', entries: [] };

/** Turns a glob (`*` any run of characters, `?` one) into an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Parses an expectations document; throws ERR_MTLS_EXPECTATIONS with the offending entry. */
export function parseExpectations(text: string, source: string): Expectations {
  const fix = 'it must be a JSON object mapping case ids (globs allowed) to a non-empty reason string';
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new HarnessError('ERR_MTLS_EXPECTATIONS', `expectations file ${source} is not valid JSON (${error instanceof Error ? error.message : String(error)})`, fix);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new HarnessError('ERR_MTLS_EXPECTATIONS', `expectations file ${source} holds ${Array.isArray(doc) ? 'an array' : typeof doc}, not an object`, fix);
  }
  const entries: Expectations['entries'] = [];
  for (const [pattern, reason] of Object.entries(doc)) {
    if (pattern.startsWith('$') || pattern.startsWith('//')) continue; // comments such as "$comment"
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new HarnessError('ERR_MTLS_EXPECTATIONS', `expectations file ${source}: entry ${JSON.stringify(pattern)} has no reason`, 'give every known deviation a sentence saying what the server does and why it is accepted');
    }
    entries.push({ pattern, reason, regex: globToRegExp(pattern) });
  }
  return { source, entries };
}

/** Loads an expectations file; a missing optional file yields no expectations. */
export async function loadExpectations(file: string, optional = false): Promise<Expectations> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (optional && (error as NodeJS.ErrnoException).code === 'ENOENT') return { source: file, entries: [] };
    throw new HarnessError('ERR_MTLS_EXPECTATIONS', `cannot read expectations file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 'check the path given to --expectations');
  }
  return parseExpectations(text, file);
}

/** The reason a case id is a known deviation, if any. */
export function expectedFailure(expectations: Expectations, id: string): string | undefined {
  return expectations.entries.find((e) => e.regex.test(id))?.reason;
}

/** Patterns that match none of the given case ids. */
export function staleEntries(expectations: Expectations, ids: readonly string[]): string[] {
  return expectations.entries.filter((e) => !ids.some((id) => e.regex.test(id))).map((e) => e.pattern);
}
