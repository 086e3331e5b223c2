// The recipes in report.md work: a case's openssl commands, pasted into an
// empty directory, rebuild an equivalent PKI, and its curl commands against a
// server started on that PKI reproduce the outcome the suite observed.
import { expect } from 'chai';
import { execa } from 'execa';
import { X509Certificate } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tmp from 'tmp-promise';
import type { ServerReport } from '../harness/report/files.ts';
import type { CaseResult } from '../harness/run/runner.ts';
import { BROKEN_SERVERS } from './fixtures/broken/broken.ts';
import invoice from '../harness/servers/invoice.ts';
import type { Outcome, ServerAdapter, ServerSetup } from '../harness/types.ts';
import { bashBlocks, reportRun, type ReportRun } from './report-fixture.ts';

const exists = (file: string): Promise<boolean> => access(file).then(() => true, () => false);

/** The suite records a served client that should have been refused as 'leaked'; curl only sees it served. */
const served = (o: Outcome | undefined): Outcome | undefined => (o === 'leaked' ? 'accepted' : o);

/** What a curl run shows, classified like a probe. */
function classifyCurl(exitCode: number | undefined, stdout: string, canary: string): Outcome {
  const status = /^HTTP\/[\d.]+ (\d{3})/m.exec(stdout)?.[1];
  if (status === undefined) return exitCode === 0 ? 'error' : 'rejected-handshake';
  if (stdout.includes(canary)) return Number(status) < 300 ? 'accepted' : 'leaked';
  return Number(status) >= 400 ? 'rejected-http' : 'error';
}

async function replayAndProbe(report: ServerReport, adapter: ServerAdapter, md: string, id: string): Promise<{ label: string; tls: string; recorded: Outcome | undefined; replayed: Outcome }[]> {
  const [replay, ...rest] = bashBlocks(md, id);
  const chains = rest.filter((b) => b.startsWith('# the certificate chains')).join('');
  const probes = rest.filter((b) => b.startsWith('# TLS '));
  if (replay === undefined || probes.length === 0) throw new Error(`${id}: expected a replay script and probe commands`);
  return tmp.withDir(async ({ path: dir }) => {
    await writeFile(path.join(dir, 'replay.sh'), replay + chains);
    await execa('bash', ['replay.sh'], { cwd: dir, timeout: 30_000 });
    const certs = report.cases.find((c) => c.id === id)?.pki.filter((p) => !p.subject.startsWith('CRL')) ?? [];
    expect(certs, `${id}: the recorded PKI`).to.have.length.above(1);
    for (const e of certs) {
      const cert = new X509Certificate(await readFile(path.join(dir, `${e.name}.pem`)));
      expect(cert.subject.replace(/\n/g, '/'), `${id}: ${e.name}`).to.equal(e.subject.replace(/^\//, ''));
    }
    const canary = 'canary-replayed-by-curl';
    const crl = path.join(dir, 'crl-bundle.pem');
    const chain = path.join(dir, 'server.chain.pem');
    const setup: ServerSetup = {
      dir, host: '127.0.0.1', port: 0, canary, clientAuth: 'required', paths: { protected: '/' },
      tls: { cert: (await exists(chain)) ? chain : path.join(dir, 'server.pem'), key: path.join(dir, 'server.key'), clientCa: path.join(dir, 'client-ca.pem'), ...((await exists(crl)) ? { crl } : {}) },
    };
    const server = await adapter.start(setup);
    try {
      const outcomes = [];
      for (const block of probes) {
        const tls = /^# TLS (1\.[23])/.exec(block)?.[1] ?? '?';
        const recorded: CaseResult | undefined = report.cases.find((c) => c.id === id && c.tls === tls);
        const lines = block.split('\n');
        for (const [i, line] of lines.entries()) {
          if (!line.startsWith('curl ')) continue;
          const label = /^# (.*) \(expected: \w+\)$/.exec(lines[i - 1] ?? '')?.[1] ?? '';
          const run = await execa('bash', ['-c', line], { cwd: dir, env: { PORT: String(server.port) }, reject: false, timeout: 10_000 });
          outcomes.push({ label, tls, recorded: recorded?.checks.find((c) => c.label === label)?.observation?.outcome, replayed: classifyCurl(run.exitCode, run.stdout, canary) });
        }
      }
      return outcomes;
    } finally {
      await server.stop();
    }
  }, { unsafeCleanup: true });
}

describe('replayable recipes in report.md', function () {
  let run: ReportRun;
  before(async function () {
    this.timeout(120_000);
    run = await reportRun();
  });

  it('replays without stray openssl output, with CRL dates relative to when it runs, and says to start the server with the CRLs', async function () {
    const md = await readFile(path.join(run.dir, 'invoice', 'report.md'), 'utf8');
    const [replay] = bashBlocks(md, 'revocation::revoked-leaf');
    if (replay === undefined) throw new Error('no replay script for revocation::revoked-leaf');
    expect(replay).to.not.match(/(?<![0-9A-Za-z])\d{12}(?:\d\d)?Z(?![0-9A-Za-z])/);
    const section = md.slice(md.indexOf('<a id="revocation--revoked-leaf"></a>'));
    expect(section).to.match(/Start the server with `server\.pem`, `server\.key`, the client CAs in `client-ca\.pem` and the CRLs in `crl-bundle\.pem`/);
    await tmp.withDir(async ({ path: dir }) => {
      // Two days from now, as `date +%s` tells the script: absolute dates would give a CRL that expired a day ago.
      await writeFile(path.join(dir, 'date'), '#!/bin/sh\nif [ "$1" = "+%s" ]; then echo $(( $(/bin/date +%s) + 172800 )); else exec /bin/date "$@"; fi\n', { mode: 0o755 });
      await writeFile(path.join(dir, 'replay.sh'), replay);
      const replayed = await execa('bash', ['replay.sh'], { cwd: dir, timeout: 30_000, env: { PATH: `${dir}:${process.env.PATH ?? ''}` } });
      expect(replayed.stdout + replayed.stderr).to.equal('');
      const next = await execa('openssl', ['crl', '-in', 'crl-bundle.pem', '-noout', '-nextupdate'], { cwd: dir, timeout: 10_000 });
      const nextUpdate = Date.parse(next.stdout.replace(/^nextUpdate=/, ''));
      expect(nextUpdate - Date.now()).to.be.above(2.5 * 86_400_000);
    }, { unsafeCleanup: true });
  });

  const cases: [string, string][] = [
    ['invoice', 'trust::valid-client'], ['invoice', 'trust::wrong-ca'], ['invoice', 'trust::missing-cert'],
    ['invoice', 'revocation::revoked-leaf'], ['broken-no-reject', 'trust::wrong-ca'],
  ];
  for (const [server, id] of cases) {
    it(`rebuilds the PKI of ${id} and reproduces what ${server} did with curl`, async function () {
      const report = run.reports.find((r) => r.server === server);
      const adapter = server === 'invoice' ? invoice : BROKEN_SERVERS.find((b) => b.adapter.name === server)?.adapter;
      if (!report || !adapter) throw new Error(`no report or adapter for ${server}`);
      const md = await readFile(path.join(run.dir, server, 'report.md'), 'utf8');
      const outcomes = await replayAndProbe(report, adapter, md, id);
      expect(outcomes.length).to.be.greaterThan(1);
      for (const o of outcomes) {
        expect(o.recorded, `${o.label} TLS ${o.tls} has a recorded outcome`).to.be.a('string');
        expect(served(o.replayed), `${o.label} TLS ${o.tls}`).to.equal(served(o.recorded));
      }
    });
  }
});
