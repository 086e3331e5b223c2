// docs/ is current and deterministic: it renders byte for byte from the
// committed results, those results cover today's catalogue and built-in servers
// and agree with a fresh run of the invoice server, nothing run-specific leaks
// into it, and its openssl recipes still run.
import { expect } from 'chai';
import { execa } from 'execa';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tmp from 'tmp-promise';
import { CATALOGUE } from '../spec/index.ts';
import { runLabels } from '../harness/run/runner.ts';
import { parseDocsData, renderDocs, type DocsData } from '../harness/report/docs.ts';
import { aboutOf, summarize } from '../harness/run/results.ts';
import { stabilizeReport } from '../harness/report/stable.ts';
import { BUILT_IN_NAMES } from '../harness/servers/index.ts';
import invoice from '../harness/servers/invoice.ts';
import { bashBlocks, reportRun } from './report-fixture.ts';

const DOCS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs');
const STALE = 'docs/ is out of date: run `npm run docs` and commit the result';

describe('committed documentation (docs/)', function () {
  let data: DocsData;
  before(async function () {
    data = parseDocsData(await readFile(path.join(DOCS, 'results.json'), 'utf8'), 'docs/results.json');
  });

  it('renders byte for byte from docs/results.json', async function () {
    for (const [name, text] of Object.entries(renderDocs(data))) {
      expect(await readFile(path.join(DOCS, name), 'utf8').catch(() => ''), `docs/${name}: ${STALE}`).to.equal(text);
    }
  });

  it('covers every case of the catalogue on every built-in server', function () {
    expect(data.servers.map((s) => s.server), STALE).to.deep.equal(BUILT_IN_NAMES);
    for (const s of data.servers) {
      const runs = s.cases.map((c) => `${c.id} ${c.tls} ${c.title} ${c.family} ${c.severity}`);
      const want = CATALOGUE.flatMap((c) => runLabels(c, ['1.2', '1.3']).map((tls) => `${c.id} ${tls} ${c.title} ${c.family} ${c.severity}`));
      expect(runs, `${s.server}: ${STALE}`).to.deep.equal(want);
    }
    // The pages render what each case checks and why from the data: it must say what the catalogue says today.
    expect(data.about, STALE).to.deep.equal(Object.fromEntries(CATALOGUE.map((c) => [c.id, aboutOf(c)])));
  });

  it('agrees with a fresh run of the invoice server, and keeps nothing specific to that run', async function () {
    this.timeout(120_000);
    const results = (await reportRun()).reports.find((r) => r.server === 'invoice')?.cases ?? [];
    const committed = data.servers.find((s) => s.server === 'invoice');
    expect(results.map((r) => `${r.id} ${r.tls} ${r.verdict}`), STALE).to.deep.equal(committed?.cases.map((c) => `${c.id} ${c.tls} ${c.verdict}`));
    const stable = JSON.stringify(stabilizeReport({ server: 'invoice', capabilities: invoice.capabilities, summary: summarize(results), staleExpectations: [], cases: results }, [path.dirname(DOCS)]));
    const raw = JSON.stringify(results);
    const serials = [...raw.matchAll(/-set_serial 0x([0-9A-F]+)/g)].map((m) => m[1]);
    const random = [...raw.matchAll(/(?:canary|mail-server)-([0-9a-f]{8,})/g)].map((m) => m[1]);
    expect(serials.length + random.length).to.be.greaterThan(10);
    for (const token of [...serials, ...random]) expect(stable).not.to.include(token);
    expect(stable).not.to.match(/\d{12,14}Z|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
    expect(stable).not.to.include(os.tmpdir() + '/');
    expect(stable).not.to.include(path.dirname(DOCS));
    expect(stable).not.to.match(/"ms":[1-9]/);
  });

  it('gives openssl recipes that still run: a revoked client is revoked, its colleague valid', async function () {
    this.timeout(30_000);
    const md = await readFile(path.join(DOCS, 'conformance.md'), 'utf8');
    const [replay] = bashBlocks(md, 'revocation::revoked-leaf');
    expect(replay).to.include('T0=$(date +%s)');
    await tmp.withDir(async ({ path: dir }) => {
      await writeFile(path.join(dir, 'replay.sh'), replay ?? '');
      await execa('bash', ['replay.sh'], { cwd: dir, timeout: 20_000 });
      const verify = (cert: string) => execa('openssl', ['verify', '-crl_check', '-CAfile', 'root.pem', '-CRLfile', 'root-crl.crl.pem', cert], { cwd: dir, reject: false, all: true });
      expect((await verify('client.pem')).all).to.match(/certificate revoked/);
      expect((await verify('colleague.pem')).all).to.match(/colleague\.pem: OK/);
    }, { unsafeCleanup: true });
  });
});
