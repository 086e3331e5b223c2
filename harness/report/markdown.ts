// Renders a report document as GitHub-flavoured Markdown (report.md,
// docs/conformance.md): explicit anchors, tables, fenced code, Mermaid charts.
import { escapeHtml, visible, VERDICT_MARK, VERDICT_WORDS, type Block, type Doc, type Inline } from './document.ts';

/** Escapes text so Markdown shows it literally. */
export function escapeMarkdown(text: string, inTable = false): string {
  const escaped = visible(text).replace(/[\\`*[\]<>#]/g, (ch) => (ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : `\\${ch}`));
  return inTable ? escaped.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ') : escaped;
}

function codeSpan(code: string, inTable: boolean): string {
  const body = inTable ? visible(code).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ') : visible(code);
  const ticks = body.includes('`') ? '``' : '`';
  const pad = ticks.length > 1 || body.startsWith('`') || body.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${body}${pad}${ticks}`;
}

/** Renders inline content. */
export function renderInlines(inlines: readonly Inline[], inTable = false): string {
  return inlines.map((i) => {
    if (typeof i === 'string') return escapeMarkdown(i, inTable);
    if ('code' in i) return codeSpan(i.code, inTable);
    if ('strong' in i) return `**${escapeMarkdown(i.strong, inTable)}**`;
    // eslint-disable-next-line no-control-regex -- control characters in an address are encoded, never written raw
    if ('link' in i) return `[${renderInlines(i.text, inTable)}](${i.link.replace(/[()\s<>\x00-\x1f\x7f]/g, encodeURIComponent)})`;
    return `${VERDICT_MARK[i.verdict]} ${escapeMarkdown(i.text || VERDICT_WORDS[i.verdict], inTable)}`;
  }).join('');
}

function fence(text: string): string {
  let ticks = '```';
  while (text.includes(ticks)) ticks += '`';
  return ticks;
}

function renderBlock(block: Block): string {
  switch (block.kind) {
    case 'heading': {
      const heading = `${'#'.repeat(block.level)} ${renderInlines(block.text)}`;
      return block.id === undefined ? heading : `<a id="${block.id}"></a>\n\n${heading}`;
    }
    case 'para': return renderInlines(block.text);
    case 'list': return block.items.map((item) => `- ${renderInlines(item)}`).join('\n');
    case 'table': {
      const row = (cells: readonly Inline[][]): string => `| ${cells.map((c) => renderInlines(c, true) || ' ').join(' | ')} |`;
      const rule = `|${block.head.map((_, i) => (block.align?.[i] === 'right' ? '---:' : '---')).join('|')}|`;
      return [row(block.head), rule, ...block.rows.map(row)].join('\n');
    }
    case 'code': {
      const f = fence(block.text);
      return `${f}${block.lang}\n${visible(block.text, true).replace(/\n$/, '')}\n${f}`;
    }
    case 'mermaid': return `\`\`\`mermaid\n${block.text.replace(/\n$/, '')}\n\`\`\`\n\n${codeSpan(block.fallback, false)}`;
    case 'details': {
      const inner = block.blocks.map(renderBlock).join('\n\n');
      return `<details><summary>${escapeHtml(block.summary)}</summary>\n\n${inner}\n\n</details>`;
    }
  }
}

/** The whole document as Markdown text ending in one newline. */
export function renderMarkdown(doc: Doc): string {
  return doc.blocks.map(renderBlock).join('\n\n') + '\n';
}
