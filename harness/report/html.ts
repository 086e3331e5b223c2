// Static, self-contained HTML: a report document as a page (report.html), and
// the matrix of cases down and servers across (index.html). Inline CSS and
// script only, nothing fetched, readable printed.
import { SEVERITIES } from '../run/case.ts';
import { escapeHtml as escapeText, plainText, visible, VERDICT_MARK, VERDICT_WORDS, worstVerdict, type Block, type Doc, type Inline } from './document.ts';
import { familiesOf, type CaseResult, type ServerReport, type Verdict } from '../run/results.ts';

/** HTML-escapes one line of text after making control characters visible. */
const escapeHtml = (text: string): string => escapeText(visible(text));
/** HTML-escapes preformatted text, keeping its line breaks. */
const escapePre = (text: string): string => escapeText(visible(text, true));

const VERDICT_CSS = `
.v-pass{background:#d8f3dc;color:#1b4332}.v-fail{background:#ffccd5;color:#800f2f}.v-error{background:#ffe5b4;color:#7f4f00}
.v-warning{background:#ffe8cc;color:#7a3e00}.v-not-applicable{background:#eceff1;color:#455a64}.v-expected-fail{background:#fff3bf;color:#5c4d00}.v-unexpected-pass{background:#e5dbff;color:#3b2a7a}
.v-none{background:#fafafa;color:#999}`;

const BASE_CSS = `
*{box-sizing:border-box}body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;padding:1rem 1.5rem;color:#1d1d1f}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ddd}h3{margin-top:1.6rem}h4{margin-bottom:.3rem}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:break-word}pre .w{white-space:nowrap}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top;text-align:left}th{background:#f3f3f3}
td.num{text-align:right}a{color:#0b57d0}:target{outline:3px solid #f9a825;outline-offset:4px}
.verdict{padding:0 .3rem;border-radius:3px;white-space:nowrap}
@media print{.no-print{display:none!important}details{display:block}details>*{display:block}a{color:inherit;text-decoration:none}pre{white-space:pre-wrap}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}` + VERDICT_CSS;

function renderInlines(inlines: readonly Inline[]): string {
  return inlines.map((i) => {
    if (typeof i === 'string') return escapeHtml(i);
    if ('code' in i) return `<code>${escapeHtml(i.code)}</code>`;
    if ('strong' in i) return `<strong>${escapeHtml(i.strong)}</strong>`;
    if ('link' in i) return `<a href="${escapeHtml(i.link)}">${renderInlines(i.text)}</a>`;
    return `<span class="verdict v-${i.verdict}">${VERDICT_MARK[i.verdict]} ${escapeHtml(i.text || VERDICT_WORDS[i.verdict])}</span>`;
  }).join('');
}

/** Keeps each word of a curl command on one line: a wrap falls between words, never after the hyphen of `--path-as-is`; copying still gives the command. */
function keepWords(html: string): string {
  return html.split('\n').map((line) => (line.startsWith('curl ') ? line.replace(/\S+/g, (word) => `<span class="w">${word}</span>`) : line)).join('\n');
}

function renderBlock(block: Block): string {
  switch (block.kind) {
    case 'heading': return `<h${block.level}${block.id === undefined ? '' : ` id="${escapeHtml(block.id)}"`}>${renderInlines(block.text)}</h${block.level}>`;
    case 'para': return `<p>${renderInlines(block.text)}</p>`;
    case 'list': return `<ul>${block.items.map((item) => `<li>${renderInlines(item)}</li>`).join('')}</ul>`;
    case 'table': {
      const cell = (tag: 'td' | 'th', c: Inline[], i: number): string => `<${tag}${block.align?.[i] === 'right' ? ' class="num"' : ''}>${renderInlines(c)}</${tag}>`;
      return `<table><thead><tr>${block.head.map((c, i) => cell('th', c, i)).join('')}</tr></thead><tbody>\n${
        block.rows.map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`).join('\n')}\n</tbody></table>`;
    }
    case 'code': return `<pre><code${block.lang ? ` class="language-${escapeHtml(block.lang)}"` : ''}>${block.lang === 'bash' ? keepWords(escapePre(block.text.replace(/\n$/, ''))) : escapePre(block.text.replace(/\n$/, ''))}</code></pre>`;
    // No Mermaid runtime offline: the page shows the chain as text.
    case 'mermaid': return `<pre class="chain">${escapePre(block.fallback)}</pre>`;
    case 'details': return `<details><summary>${escapeHtml(block.summary)}</summary>\n${block.blocks.map(renderBlock).join('\n')}\n</details>`;
  }
}

function page(title: string, body: string, script = ''): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${BASE_CSS}</style>
</head>
<body>
${body}
${script ? `<script>${script}</script>\n` : ''}</body>
</html>
`;
}

// Browsers do not print the content of closed <details>: open them all first.
const PRINT_SCRIPT = `window.addEventListener('beforeprint',function(){var d=document.querySelectorAll('details');for(var i=0;i<d.length;i++)d[i].open=true;});`;

/** A report document as a static HTML page. */
export function renderHtml(doc: Doc, backLink?: { href: string; text: string }): string {
  const back = backLink ? `<p class="no-print"><a href="${escapeHtml(backLink.href)}">${escapeHtml(backLink.text)}</a></p>\n` : '';
  return page(doc.title, back + doc.blocks.map(renderBlock).join('\n'), PRINT_SCRIPT);
}

/** Options of the matrix page. */
export interface MatrixOptions {
  /** The page title. */
  title?: string;
  /** A paragraph under the title (HTML-escaped). */
  intro?: string;
  /** Where a cell links: the case's section for that server. */
  href: (server: string, id: string) => string;
  /** Where a server's header links (its report). */
  serverHref?: (server: string) => string;
}

const FILTER_SCRIPT = `
(function(){
  var fam=document.getElementById('filter-family'),sev=document.getElementById('filter-severity'),shown=document.getElementById('shown');
  function apply(){
    var rows=document.querySelectorAll('#matrix tbody tr'),n=0;
    for(var i=0;i<rows.length;i++){var r=rows[i];var hide=(fam.value&&r.getAttribute('data-family')!==fam.value)||(sev.value&&r.getAttribute('data-severity')!==sev.value);r.hidden=!!hide;if(!hide)n++;}
    shown.textContent=n+' of '+rows.length+' cases shown';
  }
  fam.addEventListener('change',apply);sev.addEventListener('change',apply);apply();
})();`;

/** The matrix page: one row per case, one column per server, each cell a coloured verdict linking to the case's section. */
export function renderMatrix(reports: readonly ServerReport[], opts: MatrixOptions): string {
  const rows = new Map<string, { id: string; title: string; family: string; severity: string; core: boolean }>();
  for (const r of reports) for (const c of r.cases) if (!rows.has(c.id)) rows.set(c.id, { id: c.id, title: c.title, family: c.family, severity: c.severity, core: c.core });
  const families = familiesOf([...rows.values()]);
  const order = [...rows.values()].sort((a, b) => families.indexOf(a.family) - families.indexOf(b.family));
  const byServer = reports.map((r) => {
    const m = new Map<string, CaseResult[]>();
    for (const c of r.cases) m.set(c.id, [...(m.get(c.id) ?? []), c]);
    return m;
  });
  const heads = reports.map((r) => {
    const s = r.summary;
    const name = opts.serverHref ? `<a href="${escapeHtml(opts.serverHref(r.server))}">${escapeHtml(r.server)}</a>` : escapeHtml(r.server);
    const caps = r.capabilities.length > 0 ? r.capabilities.join(', ') : 'none';
    return `<th scope="col" data-server="${escapeHtml(r.server)}"><div class="server">${name}</div><div class="caps">capabilities: ${escapeHtml(caps)}</div>` +
      `<div class="totals">${s.passed} passed · ${s.failed} failed · ${s.notApplicable} n/a · ${s.expectedFailures} known</div></th>`;
  }).join('');
  const body = order.map((row) => {
    const cells = reports.map((r, i) => {
      const results = byServer[i]?.get(row.id) ?? [];
      const verdict = worstVerdict(results.map((c) => c.verdict));
      if (verdict === undefined) return '<td class="v-none">not run</td>';
      const detail = results.map((c) => escapeHtml(`TLS ${c.tls}: ${VERDICT_WORDS[c.verdict]} — ${c.verdict === 'expected-fail' && c.reason ? c.reason : c.message}`)).join('&#10;');
      const split = new Set(results.map((c) => c.verdict)).size > 1 ? ` (${results.map((c) => `${c.tls} ${VERDICT_MARK[c.verdict]}`).join(' ')})` : '';
      return `<td class="v-${verdict}"><a href="${escapeHtml(opts.href(r.server, row.id))}" title="${detail}">${VERDICT_MARK[verdict]} ${escapeHtml(VERDICT_WORDS[verdict])}${escapeHtml(split)}</a></td>`;
    }).join('');
    return `<tr data-case="${escapeHtml(row.id)}" data-family="${escapeHtml(row.family)}" data-severity="${escapeHtml(row.severity)}">` +
      `<th scope="row"><code>${escapeHtml(row.id)}</code>${row.core ? ' <span title="core case">★</span>' : ''}<div class="title">${escapeHtml(row.title)}</div></th>` +
      `<td>${escapeHtml(row.family)}</td><td>${escapeHtml(row.severity)}</td>${cells}</tr>`;
  }).join('\n');
  const option = (v: string): string => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`;
  const legend = (Object.keys(VERDICT_WORDS) as Verdict[]).map((v) => `<span class="verdict v-${v}">${VERDICT_MARK[v]} ${VERDICT_WORDS[v]}</span>`).join(' ');
  const title = opts.title ?? 'mTLS conformance matrix';
  const html = `<h1>${escapeHtml(title)}</h1>
${opts.intro ? `<p>${escapeHtml(opts.intro)}</p>\n` : ''}<p>Cases down, servers across. Each cell is the verdict of that case on that server (the worse one when TLS 1.2 and 1.3 differ); it links to the case's section of that server's report, and hovering shows what was observed. ★ marks a core case, one of the five that <code>--core</code> runs. ${legend}</p>
<form class="no-print filters" onsubmit="return false">
<label>Family <select id="filter-family"><option value="">all</option>${families.map(option).join('')}</select></label>
<label>Severity <select id="filter-severity"><option value="">all</option>${SEVERITIES.map(option).join('')}</select></label>
<output id="shown"></output>
</form>
<table id="matrix">
<thead><tr><th scope="col">case</th><th scope="col">family</th><th scope="col">severity</th>${heads}</tr></thead>
<tbody>
${body}
</tbody>
</table>`;
  return page(title, html, FILTER_SCRIPT).replace('</style>', `
#matrix td a{display:block;color:inherit;text-decoration:none}#matrix .title{font-weight:normal;font-size:.9em}#matrix .caps,#matrix .totals{font-weight:normal;font-size:.8em}
.filters{display:flex;gap:1rem;align-items:center;margin:.5rem 0}</style>`);
}

/** Title text of a document (for tests and links). */
export function documentTitle(doc: Doc): string {
  const first = doc.blocks.find((b) => b.kind === 'heading');
  return first && first.kind === 'heading' ? plainText(first.text) : doc.title;
}
