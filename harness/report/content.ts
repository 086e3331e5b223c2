// What the reports say, built from the cases' metadata and their results: the
// per-server report (report.md / report.html) and the cross-server
// documentation page (docs/conformance.md). Renderers turn it into text.
import { notSelectedText } from './baseline.ts';
import { anchorOf, visible, VERDICT_MARK, VERDICT_WORDS, worstVerdict, type Block, type Doc, type Inline } from './document.ts';
import { relativizeDates } from './stable.ts';
import { failsRun, familiesOf, summarize, type BaselineDiff, type CaseAbout, type CaseResult, type ServerReport, type VerdictChange } from '../run/results.ts';

/** What each verdict mark means, for every page that shows them. */
export const VERDICT_LEGEND = 'Verdicts: ✓ pass, ✗ fail, ⚠ warning (a policy of the suite the server does not follow: not a requirement, it fails only with --strict), ! error (the suite could not judge: the server hung or crashed, refused even a valid client, or the machine was overloaded), - not applicable (the server lacks a capability or TLS version the case needs), ~ known deviation (listed with its reason in the server\'s expectations file), ? unexpected pass. Counts are per case and TLS version.';

/** Options of the per-server report. */
export interface ServerDocOptions {
  baseline?: BaselineDiff;
  /** Show per-case timings (left out of committed docs). */
  timings?: boolean;
  /** Tool version shown in the introduction. */
  version?: string;
}

/** Results grouped by case id, in report order. */
export function groupByCase(results: readonly CaseResult[]): CaseResult[][] {
  const groups = new Map<string, CaseResult[]>();
  for (const r of results) groups.set(r.id, [...(groups.get(r.id) ?? []), r]);
  const families = familiesOf(results);
  return [...groups.values()].sort((a, b) => families.indexOf(a[0]?.family ?? '') - families.indexOf(b[0]?.family ?? ''));
}

/** Counts of one family (or all) for the summary table. */
function counts(results: readonly CaseResult[]): { passed: number; failed: number; na: number; known: number; warned: number } {
  const s = summarize(results);
  return { passed: s.passed, failed: s.failed, na: s.notApplicable, known: s.expectedFailures, warned: s.warnings };
}

/** What a case expects, in words. */
export function expectationText(r: Pick<CaseResult, 'expected' | 'about'>): string {
  if (r.expected === 'accept') return 'served the protected resource';
  return `refused${r.about.preferredAlert ? ` (ideally with alert ${r.about.preferredAlert})` : ''}`;
}

/** What was observed, in words: every check with its evidence. */
export function observedText(r: CaseResult): string {
  if (r.verdict === 'not-applicable' || r.checks.length === 0) return r.message;
  const parts = r.checks.map((c) => {
    const version = c.observation?.protocol ? ` (${c.observation.protocol.replace('TLSv', 'TLS ')})` : '';
    return `${c.ok ? '' : 'FAILED '}${c.label}: ${c.observed}${version}${c.note ? ` — note: ${c.note}` : ''}`;
  });
  for (const n of r.notes ?? []) parts.push(`${n.label}: ${n.observed}`);
  if (r.verdict === 'error' && !r.checks.some((c) => !c.ok)) parts.push(r.message);
  return parts.join('; ');
}

/** The certificate chains as text: `root -> inter -> client`, one per leaf. */
export function chainText(pki: CaseResult['pki']): string {
  const certs = pki.filter((e) => !e.subject.startsWith('CRL'));
  const issuers = new Set(certs.filter((e) => e.issuer !== e.name).map((e) => e.issuer));
  const byName = new Map(certs.map((e) => [e.name, e]));
  const chains: string[] = [];
  for (const e of certs) {
    if (issuers.has(e.name)) continue;
    const path = [e.name];
    for (let up = e; up.issuer !== up.name && path.length < 10;) {
      const next = byName.get(up.issuer);
      if (!next) break;
      path.unshift(next.name);
      up = next;
    }
    chains.push(path.length === 1 ? `${e.name} (self-signed)` : path.join(' -> '));
  }
  for (const crl of pki.filter((e) => e.subject.startsWith('CRL'))) chains.push(`${crl.issuer} -> ${crl.name} (${crl.subject})`);
  return chains.join('; ');
}

/** The PKI as a Mermaid flowchart: issuer → issued, CRLs dashed. */
export function chainMermaid(pki: CaseResult['pki']): string {
  const node = (name: string): string => `n_${name.replace(/[^a-zA-Z0-9]/g, '_')}`;
  const label = (text: string): string => visible(text).replace(/["<>]/g, (ch) => `#${ch.charCodeAt(0)};`);
  const lines = ['flowchart LR'];
  for (const e of pki) {
    const crl = e.subject.startsWith('CRL');
    lines.push(`  ${node(e.name)}${crl ? '[/' : '["'}${label(`${e.name}: ${e.subject}`)}${crl ? '/]' : '"]'}`);
  }
  for (const e of pki) if (e.issuer !== e.name) lines.push(`  ${node(e.issuer)} ${e.subject.startsWith('CRL') ? '-.->' : '-->'} ${node(e.name)}`);
  return lines.join('\n') + '\n';
}

/** References as list items; only http(s) addresses become links, since results may come from a report.json of anyone's. */
function referenceItems(about: CaseAbout): Inline[][] {
  return (about.references ?? []).map((ref) => {
    if (ref.url === undefined || ref.url === '') return [ref.title];
    return /^https?:\/\//i.test(ref.url) ? [{ link: ref.url, text: [ref.title] }] : [`${ref.title} (${ref.url})`];
  });
}

/** The paragraphs that say what a case checks and why. */
function aboutBlocks(group: readonly CaseResult[]): Block[] {
  const first = group[0];
  if (!first) return [];
  const about = first.about;
  const facts: Inline[] = [{ code: first.id }, ` · severity ${first.severity}`];
  if (first.core) facts.push(' · core case');
  if (about.requires?.length) facts.push(` · needs ${about.requires.join(', ')}`);
  facts.push(` · ${group.length > 1 ? `runs under TLS ${group.map((r) => r.tls).join(' and ')}` : `runs under TLS ${first.tls}`}`);
  const blocks: Block[] = [{ kind: 'para', text: facts }];
  if (about.why) blocks.push({ kind: 'para', text: [{ strong: 'Why it matters.' }, ` ${about.why}`] });
  if (about.policy) blocks.push({ kind: 'para', text: [{ strong: 'Policy.' }, ` ${about.policy}`] });
  const refs = referenceItems(about);
  if (refs.length > 0) blocks.push({ kind: 'para', text: [{ strong: 'References:' }] }, { kind: 'list', items: refs });
  return blocks;
}

function pkiBlocks(withPki: CaseResult, level: 4): Block[] {
  return [
    { kind: 'heading', level, text: ['The PKI'] },
    { kind: 'mermaid', text: chainMermaid(withPki.pki), fallback: chainText(withPki.pki) },
    {
      kind: 'table', head: [['entity'], ['subject'], ['issued by'], ['key and extensions']],
      rows: withPki.pki.map((e) => [[{ code: e.name }], [e.subject], [e.issuer === e.name ? 'itself' : e.issuer], [e.summary]]),
    },
    { kind: 'para', text: ['The openssl commands that built it, replayable in an empty directory (private keys are generated there and never shown):'] },
    // Dates relative to when the script runs: a replay a day later still builds an unexpired CRL.
    { kind: 'details', summary: 'openssl commands (bash)', blocks: [{ kind: 'code', lang: 'bash', text: relativizeDates(withPki.replay, withPki.startedAt, { exact: true }) }] },
  ];
}

/** Shell lines that write the `<name>.chain.pem` files the probe commands present (leaf, then intermediates). */
export function chainFileCommands(pki: CaseResult['pki'], commands: readonly string[]): string[] {
  const byName = new Map(pki.map((e) => [e.name, e]));
  const names = new Set<string>();
  for (const command of commands) for (const m of command.matchAll(/--cert ([a-z0-9-]+)\.chain\.pem/g)) if (m[1]) names.add(m[1]);
  return [...names].map((name) => {
    const parts = [name];
    for (let e = byName.get(name); e && e.issuer !== e.name && parts.length < 10;) {
      const up = byName.get(e.issuer);
      if (!up || up.issuer === up.name) break;
      parts.push(up.name);
      e = up;
    }
    return `cat ${parts.map((p) => `${p}.pem`).join(' ')} > ${name}.chain.pem`;
  });
}

/** What the server was started with, as files of the replay script: followed literally, the probes behave as they did. */
export function serverFilesText(replay: string): Inline[] {
  const cert = replay.includes('> server.chain.pem') ? 'server.chain.pem' : 'server.pem';
  const files: Inline[] = ['Start the server with ', { code: cert }, ', ', { code: 'server.key' }, ', the client CAs in ', { code: 'client-ca.pem' }];
  if (replay.includes('> crl-bundle.pem')) files.push(' and the CRLs in ', { code: 'crl-bundle.pem' }, ' (without them the revoked client is served)');
  return files;
}

function probeBlocks(group: readonly CaseResult[]): Block[] {
  const items: Block[] = [];
  const pki = group.find((r) => r.pki.length > 0)?.pki ?? [];
  const replay = group.find((r) => r.pki.length > 0)?.replay ?? '';
  const chains = chainFileCommands(pki, group.flatMap((r) => r.checks.map((c) => c.command ?? '')));
  if (chains.length > 0) items.push({ kind: 'code', lang: 'bash', text: `# the certificate chains the clients present\n${chains.join('\n')}\n` });
  for (const r of group) {
    const commands = r.checks.filter((c) => c.command !== undefined);
    if (commands.length === 0) continue;
    const text = commands.map((c) => `# ${c.label} (expected: ${c.expected === 'accept' ? 'served' : 'refused'})\n${c.command ?? ''}`).join('\n');
    items.push({ kind: 'code', lang: 'bash', text: `# TLS ${r.tls}\n${text}\n` });
  }
  if (items.length === 0) return [];
  return [
    { kind: 'heading', level: 4, text: ['Reproduce the probe'] },
    { kind: 'para', text: [...serverFilesText(replay), ' from the script above, set ', { code: 'PORT' }, ' to its port and run, in the same directory:'] },
    ...items,
  ];
}

function resultRows(group: readonly CaseResult[], timings: boolean): Inline[][][] {
  return group.map((r) => {
    const verdict: Inline[] = [{ verdict: r.verdict, text: VERDICT_WORDS[r.verdict] }];
    const observed: Inline[] = [observedText(r)];
    if (r.verdict === 'expected-fail' && r.reason) observed.push(' — known deviation: ', r.reason);
    if (r.verdict === 'unexpected-pass') observed.push(' — ', r.message);
    const row: Inline[][] = [[`TLS ${r.tls}`], verdict, [expectationText(r)], observed];
    if (timings) row.push([`${r.ms} ms`]);
    return row;
  });
}

function logBlocks(group: readonly CaseResult[]): Block[] {
  const blocks: Block[] = [];
  for (const r of group) {
    const lines = r.evidence.logExcerpt ?? [];
    if (lines.length === 0) continue;
    blocks.push({ kind: 'para', text: [`TLS ${r.tls}:`] }, { kind: 'code', lang: 'text', text: lines.map((l) => visible(l)).join('\n') + '\n' });
  }
  if (blocks.length === 0) return [];
  return [{ kind: 'heading', level: 4, text: ['What the server logged'] }, ...blocks];
}

/** Change lists for report.md. */
function baselineBlocks(diff: BaselineDiff): Block[] {
  const change = (c: VerdictChange): Inline[] => [{ link: `#${anchorOf(c.id)}`, text: [{ code: c.id }] }, ` TLS ${c.tls}: ${VERDICT_WORDS[c.before]} → ${VERDICT_WORDS[c.after]} — ${c.message}`];
  const blocks: Block[] = [
    { kind: 'heading', level: 2, text: ['Changes since the baseline'], id: 'changes-since-the-baseline' },
    { kind: 'para', text: ['Compared with ', { code: diff.source }, diff.otherServer ? `, a run of another server, ${diff.otherServer}.` : '.',
      ...(diff.notSelected ? [` Not compared: ${notSelectedText(diff.notSelected)}.`] : [])] },
  ];
  const section = (title: string, items: Inline[][]): void => {
    blocks.push({ kind: 'para', text: [{ strong: `${title} (${items.length})` }] });
    if (items.length > 0) blocks.push({ kind: 'list', items });
  };
  section('Newly failing', diff.newlyFailing.map(change));
  section('Newly passing', diff.newlyPassing.map(change));
  if (diff.changed.length > 0) section('Other verdict changes', diff.changed.map(change));
  section('Cases added', diff.added.map((k) => [{ code: k }]));
  section('Cases removed', diff.removed.map((k) => [{ code: k }]));
  return blocks;
}

/** What the server speaks, as learnt before its cases ran. */
function tlsSentence(tls: NonNullable<ServerReport['tls']>): string {
  const refused = Object.entries(tls.refused).map(([v, why]) => `TLS ${v}: ${why ?? 'refused'}`);
  const served = tls.versions.length > 0 ? `TLS versions under which it served a valid client before the cases ran: ${tls.versions.map((v) => `TLS ${v}`).join(', ')}.` : 'It served a valid client under no TLS version before the cases ran.';
  return `${served}${refused.length > 0 ? ` Refused the valid client — ${refused.join('; ')}.` : ''}${tls.cause ? ` ${tls.cause}.` : ''}`;
}

/** The per-server report: a summary table, then per family and per case everything a reader needs. */
export function buildServerDoc(report: ServerReport, opts: ServerDocOptions): Doc {
  const title = `${report.server}: mutual-TLS conformance report`;
  const caps = report.capabilities.length > 0 ? report.capabilities.join(', ') : 'none';
  const s = report.summary;
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: [title] },
    { kind: 'para', text: [`How the server `, { strong: report.server }, ` behaves when clients present good, bad or no certificates. Every case below built a throwaway PKI with openssl, started the server with it, probed it over TLS on loopback and judged what happened${opts.version ? ` (mtls-conformance ${opts.version})` : ''}.`] },
    { kind: 'para', text: [`Capabilities declared: ${caps}. Totals: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped (${s.notApplicable} not applicable, ${s.expectedFailures} known deviations, ${s.warnings} warnings).`] },
  ];
  if (report.tls) blocks.push({ kind: 'para', text: [tlsSentence(report.tls)] });
  if (report.shard) {
    const { index, count } = report.shard;
    blocks.push({ kind: 'para', text: [`This report holds shard ${index}/${count} of the selected cases (`, { code: `--shard ${index}/${count}` }, '); ', { code: 'mtls-conformance merge' }, ' joins the shards into one report.',
      ...(report.cases.length === 0 ? [' This shard holds no case: there were more shards than selected cases, and the other shards ran them all.'] : [])] });
  }
  if (report.mergedFrom) blocks.push({ kind: 'para', text: [`Merged from ${report.mergedFrom.length} report${report.mergedFrom.length === 1 ? '' : 's'}: `, ...report.mergedFrom.flatMap((d, i): Inline[] => [...(i > 0 ? [', '] : []), { code: d }]), '.'] });
  if (report.staleExpectations.length > 0) {
    blocks.push({ kind: 'para', text: [{ strong: 'Stale expectations:' }, ` these entries of the expectations file match no case — remove them: ${report.staleExpectations.join(', ')}.`] });
  }
  const families = familiesOf(report.cases);
  const rows: Inline[][][] = families.map((f) => {
    const c = counts(report.cases.filter((r) => r.family === f));
    return [[{ link: `#family-${anchorOf(f)}`, text: [f] }], [String(c.passed)], [String(c.failed)], [String(c.warned)], [String(c.na)], [String(c.known)]];
  });
  const all = counts(report.cases);
  rows.push([[{ strong: 'total' }], [String(all.passed)], [String(all.failed)], [String(all.warned)], [String(all.na)], [String(all.known)]]);
  blocks.push(
    { kind: 'heading', level: 2, text: ['Summary'], id: 'summary' },
    { kind: 'para', text: ['One count per case and TLS version.'] },
    { kind: 'table', head: [['family'], ['passed'], ['failed'], ['warnings (policy)'], ['not applicable'], ['known deviations']], rows, align: ['left', 'right', 'right', 'right', 'right', 'right'] },
  );
  const failures = report.cases.filter((r) => failsRun(r.verdict));
  if (failures.length > 0) {
    blocks.push({ kind: 'para', text: [{ strong: 'What failed:' }] }, {
      kind: 'list', items: failures.map((r) => [{ link: `#${anchorOf(r.id)}`, text: [{ code: r.id }] }, ` (${r.severity}) TLS ${r.tls}: ${r.message}`]),
    });
  }
  if (opts.baseline) blocks.push(...baselineBlocks(opts.baseline));
  for (const family of families) {
    blocks.push({ kind: 'heading', level: 2, text: [family], id: `family-${anchorOf(family)}` });
    for (const group of groupByCase(report.cases.filter((r) => r.family === family))) {
      const first = group[0];
      if (!first) continue;
      const verdict = worstVerdict(group.map((r) => r.verdict)) ?? 'pass';
      blocks.push({ kind: 'heading', level: 3, text: [`${VERDICT_MARK[verdict]} ${first.title}`], id: anchorOf(first.id) });
      blocks.push(...aboutBlocks(group));
      const head: Inline[][] = [['TLS'], ['verdict'], ['expected'], ['observed']];
      if (opts.timings) head.push(['time']);
      blocks.push({ kind: 'table', head, rows: resultRows(group, opts.timings === true) });
      const withPki = group.find((r) => r.pki.length > 0);
      if (withPki) blocks.push(...pkiBlocks(withPki, 4));
      blocks.push(...probeBlocks(group), ...logBlocks(group));
    }
  }
  return { title, blocks };
}

/** Options of the cross-server documentation page. */
export interface ConformanceDocOptions {
  /** Link to the matrix page. */
  matrixHref: string;
}

/** The documentation page: how every built-in server behaves, case by case. */
export function buildConformanceDoc(reports: readonly ServerReport[], opts: ConformanceDocOptions): Doc {
  const title = 'How HTTPS servers behave under mutual TLS';
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: [title] },
    { kind: 'para', text: ['What the built-in servers of mtls-conformance do when a client presents a good, a bad or no certificate. Each case built a throwaway PKI with openssl, started the server with it, probed it over TLS 1.2 and 1.3 on loopback and judged what happened. This page is generated by ', { code: 'npm run docs' }, ' from that run; a test fails when it is out of date. Serial numbers, dates, ports and random names are replaced by stable placeholders.'] },
    { kind: 'para', text: ['The same results as a colour-coded matrix with filters: ', { link: opts.matrixHref, text: ['the conformance matrix'] }, '. Run the suite against your own server to get the full report for it (see the README).'] },
    { kind: 'heading', level: 2, text: ['The servers'], id: 'servers' },
    {
      kind: 'table', head: [['server'], ['capabilities'], ['passed'], ['failed'], ['not applicable'], ['known deviations']], align: ['left', 'left', 'right', 'right', 'right', 'right'],
      rows: reports.map((r) => [[{ code: r.server }], [r.capabilities.join(', ') || 'none'], [String(r.summary.passed)], [String(r.summary.failed)], [String(r.summary.notApplicable)], [String(r.summary.expectedFailures)]]),
    },
    { kind: 'para', text: [VERDICT_LEGEND] },
  ];
  const groups = new Map<string, CaseResult[][]>();
  const ids: CaseResult[] = [];
  for (const r of reports) {
    for (const g of groupByCase(r.cases)) {
      const first = g[0];
      if (!first) continue;
      if (!groups.has(first.id)) { groups.set(first.id, []); ids.push(first); }
      groups.get(first.id)?.push(g);
    }
  }
  const families = familiesOf(ids);
  ids.sort((a, b) => families.indexOf(a.family) - families.indexOf(b.family));
  const cell = (report: ServerReport, id: string): Inline[] => {
    const g = report.cases.filter((c) => c.id === id);
    const v = worstVerdict(g.map((c) => c.verdict));
    return v === undefined ? ['not run'] : [{ link: `#${anchorOf(id)}`, text: [{ verdict: v, text: VERDICT_WORDS[v] }] }];
  };
  blocks.push(
    { kind: 'heading', level: 2, text: ['At a glance'], id: 'at-a-glance' },
    {
      kind: 'table', head: [['case'], ['severity'], ...reports.map((r) => [r.server])],
      rows: ids.map((c) => [[{ link: `#${anchorOf(c.id)}`, text: [c.title] }, ' ', { code: c.id }], [c.severity], ...reports.map((r) => cell(r, c.id))]),
    },
  );
  for (const family of families) {
    const inFamily = ids.filter((c) => c.family === family);
    blocks.push({ kind: 'heading', level: 2, text: [family], id: `family-${anchorOf(family)}` });
    for (const c of inFamily) {
      const all = groups.get(c.id) ?? [];
      blocks.push({ kind: 'heading', level: 3, text: [c.title], id: anchorOf(c.id) });
      blocks.push(...aboutBlocks(all[0] ?? [c]));
      blocks.push({ kind: 'para', text: [{ strong: 'Expected:' }, ` the client is ${expectationText(c)}.`] });
      const rows: Inline[][][] = [];
      for (const report of reports) {
        for (const r of report.cases.filter((x) => x.id === c.id)) {
          const observed: Inline[] = [observedText(r)];
          if (r.verdict === 'expected-fail' && r.reason) observed.push(' — known deviation: ', r.reason);
          rows.push([[{ code: report.server }], [`TLS ${r.tls}`], [{ verdict: r.verdict, text: VERDICT_WORDS[r.verdict] }], observed]);
        }
      }
      blocks.push({ kind: 'table', head: [['server'], ['TLS'], ['verdict'], ['observed']], rows });
      const withPki = all.flat().find((r) => r.pki.length > 0);
      if (withPki) blocks.push(...pkiBlocks(withPki, 4));
      const probeGroup = all.find((g) => g.some((r) => r.checks.some((x) => x.command !== undefined)));
      if (probeGroup) blocks.push(...probeBlocks(probeGroup));
      const logs: Block[] = [];
      for (const report of reports) {
        for (const r of report.cases.filter((x) => x.id === c.id)) {
          const lines = r.evidence.logExcerpt ?? [];
          if (lines.length > 0) logs.push({ kind: 'para', text: [{ code: report.server }, `, TLS ${r.tls}:`] }, { kind: 'code', lang: 'text', text: lines.map((l) => visible(l)).join('\n') + '\n' });
        }
      }
      if (logs.length > 0) blocks.push({ kind: 'details', summary: 'What each server logged', blocks: logs });
    }
  }
  return { title, blocks };
}
