// The report files: report.json keeps every field docs/contract.md lists, report.md reads
// top to bottom, junit.xml has one testcase per case and TLS version, and no
// report, log or console line carries private key material.
import { expect } from 'chai';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CATALOGUE } from '../spec/index.ts';
import { formatResults } from '../harness/report/console.ts';
import { summarize, type ServerReport } from '../harness/report/files.ts';
import { buildServerDoc } from '../harness/report/content.ts';
import { anchorOf } from '../harness/report/document.ts';
import { renderHtml, renderMatrix } from '../harness/report/html.ts';
import { renderJunit } from '../harness/report/junit.ts';
import { renderMarkdown } from '../harness/report/markdown.ts';
import { aboutOf, REPORT_SCHEMA_VERSION, type CaseResult } from '../harness/run/results.ts';
import { reportRun, type ReportRun } from './report-fixture.ts';

describe('report files', function () {
  let run: ReportRun;
  const read = (rel: string): Promise<string> => readFile(path.join(run.dir, rel), 'utf8');
  before(async function () {
    this.timeout(120_000);
    run = await reportRun();
  });

  it('writes report.json, report.md, report.html and junit.xml per server and one index.html', function () {
    for (const server of ['invoice', 'broken-no-reject', 'broken-crl-dropped']) {
      expect(run.files).to.include.members(['report.json', 'report.md', 'report.html', 'junit.xml'].map((f) => `${server}/${f}`));
    }
    expect(run.files).to.include('index.html');
  });

  it('keeps every report.json field docs/contract.md lists, plus timing per case', async function () {
    const json = JSON.parse(await read('invoice/report.json')) as Record<string, unknown> & { summary: Record<string, unknown>; cases: Record<string, unknown>[] };
    expect(json).to.include.keys('schemaVersion', 'server', 'summary', 'cases');
    expect(json['schemaVersion']).to.equal(REPORT_SCHEMA_VERSION);
    expect(json.summary).to.include.keys('passed', 'failed', 'skipped', 'expectedFailures', 'unexpectedPasses');
    expect(json.cases.length).to.equal(run.reports[0]?.cases.length);
    for (const c of json.cases) {
      expect(c).to.include.keys('id', 'title', 'family', 'severity', 'core', 'about', 'tls', 'expected', 'outcome', 'verdict', 'evidence', 'pki', 'replay', 'ms', 'startedAt');
      expect(c['ms']).to.be.a('number');
    }
  });

  it('carries in every result what its case checks and why, as the case states it', function () {
    for (const r of run.reports.flatMap((report) => report.cases)) {
      const def = CATALOGUE.find((c) => c.id === r.id);
      expect(def, r.id).not.to.equal(undefined);
      if (def) expect(r.about, r.id).to.deep.equal(aboutOf(def));
    }
  });

  it('reads top to bottom: summary table, then per family and case why, chain, commands, expected vs observed, logs', async function () {
    const md = await read('invoice/report.md');
    const at = (s: string): number => md.indexOf(s);
    expect(at('| family | passed | failed | warnings (policy) | not applicable | known deviations |')).to.be.greaterThan(0);
    const section = md.slice(at(`<a id="${anchorOf('revocation::revoked-leaf')}"></a>`), at(`<a id="${anchorOf('identity::cn-logged')}"></a>`));
    expect(section).to.include('**Why it matters.**');
    expect(section).to.include('[RFC 5280 §5 CRL Profile](https://www.rfc-editor.org/rfc/rfc5280#section-5)');
    expect(section).to.include('```mermaid');
    expect(section).to.include('`root -> client; root -> colleague; root -> root-crl (CRL (1 entries))`'.replace('root -> client; ', 'root -> server; root -> client; '));
    expect(section).to.match(/openssl req -x509 -new .* -keyout client\.key/);
    expect(section).to.include('curl --silent');
    expect(section).to.include('| TLS | verdict | expected | observed | time |');
    expect(section).to.match(/refused \(ideally with alert certificate_revoked\)/);
    expect(section).to.include('#### What the server logged');
    for (const def of CATALOGUE) expect(md).to.include(`<a id="${anchorOf(def.id)}"></a>`);
  });

  it('explains a failure in report.md with what was expected and what was observed', async function () {
    const md = await read('broken-no-reject/report.md');
    expect(md).to.include('**What failed:**');
    expect(md).to.match(/\[`trust::wrong-ca`\]\(#trust--wrong-ca\) \(critical\) TLS 1\.3: client 'client' requesting \/: expected the client to be refused; it was served the protected resource \(HTTP 200\) under TLS 1\.3/);
  });

  it('has one junit testcase per case and TLS version, failures with the expected-vs-observed message and known deviations skipped', async function () {
    for (const report of run.reports) {
      const xml = await read(`${report.server}/junit.xml`);
      expect(xml.match(/<testcase /g)?.length).to.equal(report.cases.length);
    }
    const failing = await read('broken-no-reject/junit.xml');
    expect(failing).to.match(/<failure message="client &apos;client&apos; requesting \/: expected the client to be refused; it was served the protected resource \(HTTP 200\) under TLS 1\.[23]" type="fail">/);
    const deviating = await read('broken-crl-dropped/junit.xml');
    expect(deviating).to.match(/name="revocation::revoked-leaf \[TLS 1\.3\][^"]*"[^>]*>\s*<skipped message="known deviation: loads no CRL: deliberately broken/);
  });

  it('prints no private key material in any report file, log line or console line', async function () {
    const texts = await Promise.all(run.files.map(read));
    const consoleLines = run.reports.flatMap((r) => formatResults(r));
    const logs = run.reports.flatMap((r) => r.cases.flatMap((c) => c.evidence.logExcerpt ?? []));
    for (const text of [...texts, consoleLines.join('\n'), logs.join('\n')]) {
      expect(text).not.to.match(/PRIVATE KEY|BEGIN [A-Z ]*KEY-----/);
      // Certificates may appear base64-encoded (a Client-Cert header); the keys seen while the cases ran may not.
      for (const body of run.keyBodies) expect(text.includes(body), 'a private key body appears in a report').to.equal(false);
    }
    expect(run.keyBodies.length).to.be.greaterThan(100);
    // The keys are made by commands the reports show, never printed.
    expect(texts.join('\n')).to.include('-keyout client.key');
  });

  it('shows hostile certificate fields and log lines inert: no raw CR, LF or ESC, no live HTML', function () {
    const evil = 'evil\r\nINJECTED <script>alert(1)</script>\x1b[2J';
    const result: CaseResult = {
      id: 'identity::hostile-cn', title: `logs the CN ${evil}`, family: `a family of anyone's ${evil}`, severity: 'high', core: false, tls: '1.3', level: 'requirement', expected: 'accept',
      about: { why: `a report of anyone's: ${evil}`, references: [{ title: evil, url: `https://example.test/${evil}` }], preferredAlert: evil },
      outcome: 'accepted', verdict: 'fail', message: `a log line naming CN ${evil}: expected escaping`, startedAt: '', ms: 1,
      checks: [{ label: `client ${evil}`, expected: 'log', ok: false, observed: `logged: ${evil}` }],
      evidence: { logExcerpt: [`accepted CN="${evil}"`] },
      pki: [{ name: 'root', subject: '/CN=Acme Root CA', issuer: 'root', summary: 'ec-p256' }, { name: 'client', subject: `/CN=${evil}`, issuer: 'root', summary: 'ec-p256' }],
      replay: '#!/usr/bin/env bash\n', openssl: { processes: 0, ms: 0 },
    };
    const report: ServerReport = { server: 'hostile', capabilities: [], summary: summarize([result]), staleExpectations: [], cases: [result] };
    const doc = buildServerDoc(report, {});
    const outputs = { md: renderMarkdown(doc), html: renderHtml(doc) + renderMatrix([report], { href: () => '#' }), junit: renderJunit(report), console: formatResults(report).join('\n') };
    for (const [name, text] of Object.entries(outputs)) {
      // eslint-disable-next-line no-control-regex
      expect(text, name).not.to.match(/[\r\x1b]/);
      expect(text, name).not.to.match(/^INJECTED/m);
      expect(text, name).to.include('\\x1b');
    }
    expect(outputs.html).not.to.include('<script>alert');
    // Inside fenced code Markdown shows text literally; everywhere else it must be escaped.
    expect(outputs.md.replace(/```[\s\S]*?```/g, '')).not.to.include('<script>alert');
  });
});
