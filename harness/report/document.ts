// A small document model shared by the Markdown and HTML writers, so that
// report.md and its HTML rendering carry the same content from one builder.
import type { Verdict } from '../run/results.ts';
import { VERDICT_RANK } from '../run/verdicts.ts';

/** A run of inline content. */
export type Inline =
  | string
  | { code: string }
  | { strong: string }
  | { link: string; text: Inline[] }
  | { verdict: Verdict; text: string };

/** A block of a document. */
export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3 | 4; text: Inline[]; id?: string }
  | { kind: 'para'; text: Inline[] }
  | { kind: 'list'; items: Inline[][] }
  | { kind: 'table'; head: Inline[][]; rows: Inline[][][]; align?: ('left' | 'right')[] }
  | { kind: 'code'; lang: string; text: string }
  | { kind: 'mermaid'; text: string; fallback: string }
  | { kind: 'details'; summary: string; blocks: Block[] };

/** A whole document: its title (the first heading) and its blocks. */
export interface Doc {
  title: string;
  blocks: Block[];
}

/** The stable anchor of a case section: `trust::valid-client` → `trust--valid-client`. */
export function anchorOf(id: string, suffix?: string): string {
  const base = id.toLowerCase().replace(/::/g, '--').replace(/[^a-z0-9-]+/g, '-');
  return suffix === undefined ? base : `${base}--${suffix}`;
}

export { VERDICT_MARK, VERDICT_WORDS } from '../run/verdicts.ts';

/** The worst of several verdicts (a cell is as bad as its worst TLS version). */
export function worstVerdict(verdicts: readonly Verdict[]): Verdict | undefined {
  let worst: Verdict | undefined;
  for (const v of verdicts) if (worst === undefined || VERDICT_RANK[v] > VERDICT_RANK[worst]) worst = v;
  return worst;
}

/** Plain text of inline content (for titles and attributes). */
export function plainText(inlines: readonly Inline[]): string {
  return inlines.map((i) => {
    if (typeof i === 'string') return i;
    if ('code' in i) return i.code;
    if ('strong' in i) return i.strong;
    if ('link' in i) return plainText(i.text);
    return i.text;
  }).join('');
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch);
}

/** Shows control characters (from hostile certificate fields or logs) as `\xNN` so they cannot forge lines or drive a terminal. */
export function visible(text: string, keepNewlines = false): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(keepNewlines ? /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g : /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (ch) => `\\x${(ch.codePointAt(0) ?? 0).toString(16).padStart(2, '0')}`);
}
