// A server's log lines written just after its response (an access log, output
// through a pipe) still reach the case's report, and waiting for them stays short.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { readSettledLogs } from '../harness/probe/logs.ts';
import { runCases } from '../harness/run/runner.ts';
import type { ServerAdapter } from '../harness/types.ts';
import { CATALOGUE } from '../spec/index.ts';

/** Serves like invoice, and logs each request a few milliseconds after its response, as an access log does. */
const lateLogger: ServerAdapter = {
  name: 'late-logger',
  capabilities: ['log-identity'],
  start: async (setup) => {
    const lines: string[] = [];
    const server = https.createServer({ cert: readFileSync(setup.tls.cert), key: readFileSync(setup.tls.key), ca: readFileSync(setup.tls.clientCa), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const subject = (req.socket as TLSSocket).getPeerCertificate().subject.CN;
      const cn = Array.isArray(subject) ? subject.join(',') : subject;
      res.end(setup.canary, () => { setTimeout(() => { lines.push(`access: GET ${req.url ?? ''} 200 CN=${cn}`); }, 5); });
    });
    await new Promise<void>((resolve) => { server.listen(0, setup.host, resolve); });
    return {
      port: (server.address() as AddressInfo).port,
      logs: () => Promise.resolve([...lines]),
      stop: () => new Promise<void>((resolve) => { server.close(() => { resolve(); }); server.closeAllConnections(); }),
    };
  },
};

describe('late log lines', function () {
  it('keeps a line the server logs just after its response in the case evidence', async function () {
    const cases = CATALOGUE.filter((c) => c.id === 'trust::valid-client');
    const results = await runCases({ adapter: lateLogger, cases, tls: ['1.3'] });
    expect(results.map((r) => r.verdict)).to.deep.equal(['pass']);
    expect(results[0]?.evidence.logExcerpt ?? []).to.satisfy((lines: string[]) => lines.some((l) => /^access: GET \/ 200 CN=/.test(l)));
  });

  it('reads once when the last response is long past, and never waits past its bound', async function () {
    let reads = 0;
    const quiet = { logs: () => { reads += 1; return Promise.resolve(['a']); } };
    expect(await readSettledLogs(quiet, performance.now() - 1_000)).to.deep.equal(['a']);
    expect(reads).to.equal(1);
    let n = 0;
    const chatty = { logs: () => Promise.resolve(Array.from({ length: ++n }, () => 'line')) };
    const begun = performance.now();
    await readSettledLogs(chatty, performance.now(), 25, 200);
    expect(performance.now() - begun).to.be.below(1_000);
  });
});
