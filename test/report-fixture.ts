// One run shared by the report tests: the invoice server and two broken
// variants over the whole catalogue, reports written to a temp dir. Expensive,
// so made once per process and removed when mocha exits.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tmp from 'tmp-promise';
import { anchorOf } from '../harness/report/document.ts';
import { CATALOGUE } from '../spec/index.ts';
import { loadExpectations, parseExpectations } from '../harness/run/expectations.ts';
import { writeMatrix, writeServerReport, type ServerReport } from '../harness/report/files.ts';
import { checkServers } from '../harness/mocha/conformance.ts';
import { BROKEN_SERVERS } from './fixtures/broken/broken.ts';
import invoice from '../harness/servers/invoice.ts';
import type { ServerAdapter } from '../harness/types.ts';

/** The shared run. */
export interface ReportRun {
  dir: string;
  reports: ServerReport[];
  /** Every file written, by path relative to dir. */
  files: string[];
  /** A 48-character slice of the base64 body of every private key the invoice runs created. */
  keyBodies: string[];
}

/** Wraps an adapter so that start() collects the base64 bodies of every key in the case directory. */
function collectingKeys(adapter: ServerAdapter, into: Set<string>): ServerAdapter {
  return {
    ...adapter,
    start: async (setup) => {
      const caseDir = path.dirname(setup.dir);
      for (const file of (await readdir(caseDir)).filter((f) => f.endsWith('.key'))) {
        const body = (await readFile(path.join(caseDir, file), 'utf8')).replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
        into.add(body.slice(16, 64));
      }
      return adapter.start(setup);
    },
  };
}

let shared: Promise<ReportRun> | undefined;

function broken(name: string): ServerAdapter {
  const found = BROKEN_SERVERS.find((b) => b.adapter.name === name);
  if (!found) throw new Error(`broken server ${name} is missing`);
  return found.adapter;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs invoice over the catalogue (with its expectations file, as the CLI does), then on the core cases broken-no-reject (fails refusals) and broken-crl-dropped (its failure declared a known deviation). */
export function reportRun(): Promise<ReportRun> {
  shared ??= (async () => {
    tmp.setGracefulCleanup();
    const { path: dir } = await tmp.dir({ prefix: 'mtls-reports-', unsafeCleanup: true });
    const core = CATALOGUE.filter((c) => c.core === true);
    const keyBodies = new Set<string>();
    const servers: [ServerAdapter, string | undefined, typeof CATALOGUE][] = [
      [collectingKeys(invoice, keyBodies), undefined, CATALOGUE],
      [broken('broken-no-reject'), '{}', core],
      [broken('broken-crl-dropped'), JSON.stringify({ 'revocation::revoked-leaf': 'loads no CRL: deliberately broken to show a known deviation' }), core],
    ];
    const reports: ServerReport[] = [];
    const files: string[] = [];
    for (const [adapter, expectationsJson, catalogue] of servers) {
      const expectations = expectationsJson === undefined
        ? await loadExpectations(path.join(ROOT, 'expectations', `${adapter.name}.json`), true)
        : parseExpectations(expectationsJson, `${adapter.name}.json`);
      // The session layer the CLI uses: the cases as mocha tests, the report from what they ran.
      const [report] = await checkServers([{ adapter, expectations }], catalogue, {}, { version: '0.0.0-test', knownIds: catalogue.map((c) => c.id) });
      if (!report) throw new Error(`no report for ${adapter.name}`);
      for (const file of await writeServerReport(dir, report, { version: '0.0.0-test' })) files.push(file.slice(dir.length + 1));
      reports.push(report);
    }
    files.push((await writeMatrix(dir, reports)).slice(dir.length + 1));
    return { dir, reports, files, keyBodies: [...keyBodies] };
  })();
  return shared;
}

/** The bash blocks of one case's section of a report.md, in order. */
export function bashBlocks(md: string, id: string): string[] {
  const start = md.indexOf(`<a id="${anchorOf(id)}"></a>`);
  if (start < 0) throw new Error(`no section for ${id}`);
  const end = md.indexOf('<a id="', start + 10);
  const section = md.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```bash\n([\s\S]*?)\n```/g)].map((m) => `${m[1] ?? ''}\n`);
}
