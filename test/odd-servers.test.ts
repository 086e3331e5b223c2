// Verdicts on servers the suite was not tuned to: each odd server of
// test/fixtures/odd-servers.ts is judged right — a refusal counts only when the
// same server serves a valid client, harness trouble is an error and never a
// fail, a dropped request is no refusal, and resources are the server's own.
import { expect } from 'chai';
import { runCases, type CaseResult, type RunOptions } from '../harness/run/runner.ts';
import { commandAdapter } from '../harness/servers/command.ts';
import { CATALOGUE } from '../spec/index.ts';
import { exactPath, handlerDies, LEAKY_SERVER, plainHttp, slowFirstHandshake, slowRefusal, startsLate, tls12Only } from './fixtures/odd-servers.ts';

const CORE = CATALOGUE.filter((c) => c.core === true);

function only(...ids: string[]): RunOptions['cases'] {
  return CATALOGUE.filter((c) => ids.includes(c.id));
}

/** `id tls verdict` for every result, for one readable deep-equal. */
function verdicts(results: readonly CaseResult[]): string[] {
  return results.map((r) => `${r.id} ${r.tls} ${r.verdict}`);
}

describe('verdicts on odd servers', function () {
  this.timeout(120_000);

  it('a port that does not speak TLS: every run an error that says so, none a pass', async function () {
    const cases = [...CORE.filter((c) => c.requires === undefined || c.id === 'identity::cn-logged'), ...only('protocol::tls12-tls13-parity')];
    const results = await runCases({ adapter: plainHttp, cases });
    // Every case has its runs, so the checks below cover them all.
    expect([...new Set(results.map((r) => r.id))]).to.have.members(cases.map((c) => c.id));
    expect(results.filter((r) => r.verdict !== 'error').map((r) => `${r.id} ${r.tls} ${r.verdict}`)).to.deep.equal([]);
    for (const r of results) expect(r.message, r.id).to.match(/does not answer TLS: to a ClientHello it answered \d+ bytes that are not a TLS record: "HTTP\/1\.1 400/);
  });

  it('a server that speaks only TLS 1.2: its TLS 1.3 runs are not applicable, its TLS 1.2 runs judged', async function () {
    const results = await runCases({ adapter: tls12Only, cases: [...CORE.filter((c) => c.id !== 'revocation::revoked-leaf'), ...only('protocol::tls12-tls13-parity')] });
    expect(verdicts(results)).to.deep.equal([
      'trust::valid-client 1.2 pass', 'trust::valid-client 1.3 not-applicable',
      'trust::wrong-ca 1.2 pass', 'trust::wrong-ca 1.3 not-applicable',
      'trust::missing-cert 1.2 pass', 'trust::missing-cert 1.3 not-applicable',
      'identity::cn-logged 1.2 pass', 'identity::cn-logged 1.3 not-applicable',
      'protocol::tls12-tls13-parity 1.2+1.3 not-applicable',
    ]);
    expect(results[1]?.message).to.match(/does not serve a valid client under TLS 1\.3 \(alert protocol_version\)/);
  });

  it('a request handler that dies without a certificate: no refusal, the bad clients\' cases fail as dropped', async function () {
    const results = await runCases({ adapter: handlerDies, cases: only('trust::valid-client', 'trust::wrong-ca', 'trust::missing-cert') });
    expect(verdicts(results)).to.deep.equal([
      'trust::valid-client 1.2 pass', 'trust::valid-client 1.3 pass',
      'trust::wrong-ca 1.2 fail', 'trust::wrong-ca 1.3 fail',
      'trust::missing-cert 1.2 fail', 'trust::missing-cert 1.3 fail',
    ]);
    for (const r of results.slice(2)) {
      expect(r.outcome, `${r.id} ${r.tls}`).to.equal('dropped');
      expect(r.message).to.match(/the handshake completed and the request was sent, then the server ended the connection without any response: nobody refused the client/);
      expect(r.message).to.match(/kept the connection open for \d+ ms after the TLSv1\.[23] handshake, waiting for a request/);
    }
  });

  it('a server that refuses 2 s after the handshake (a slow certificate check): judged a refusal, not a dropped request', async function () {
    const results = await runCases({ adapter: slowRefusal, cases: only('trust::valid-client', 'trust::wrong-ca', 'trust::missing-cert') });
    expect(verdicts(results)).to.deep.equal([
      'trust::valid-client 1.2 pass', 'trust::valid-client 1.3 pass',
      'trust::wrong-ca 1.2 pass', 'trust::wrong-ca 1.3 pass',
      'trust::missing-cert 1.2 pass', 'trust::missing-cert 1.3 pass',
    ]);
    for (const r of results.slice(2)) {
      expect(r.outcome, `${r.id} ${r.tls}`).to.equal('rejected-handshake');
      const refused = r.checks.find((c) => c.expected === 'reject');
      expect(refused?.observation?.evidence, `${r.id} ${r.tls}`).to.match(/closed the connection before any request was sent/);
    }
  });

  it('a server that takes 3 s to start: the time-bound certificate is issued after it answers, so expiry is judged', async function () {
    const results = await runCases({ adapter: startsLate, cases: only('validity::expiry-boundary') });
    expect(verdicts(results)).to.deep.equal(['validity::expiry-boundary 1.2 pass', 'validity::expiry-boundary 1.3 pass']);
  });

  it('a child server that keeps a descriptor and 1 MiB per refused handshake: the burst case sees its own process grow', async function () {
    const leaky = commandAdapter({ command: `node ${LEAKY_SERVER} {port} {cert} {key} {ca} {canary}`, readyTimeoutMs: 10_000, capabilities: [] });
    const [result] = await runCases({ adapter: leaky, cases: only('robustness::bad-cert-burst') });
    expect(result?.verdict, result?.message).to.equal('fail');
    expect(result?.message).to.match(/open descriptors grow by at most 100: .*\d+ before, \d+ after the burst/);
    expect(result?.notes?.find((n) => n.label === 'resources sampled')?.observed).to.match(/^server process \d+$/);
    // Its clients were all judged right: only the resources give it away.
    const clients = result?.checks.filter((c) => c.expected !== 'alive') ?? [];
    expect(clients).to.have.length.above(0);
    expect(clients.filter((c) => !c.ok).map((c) => `${c.label}: ${c.observed}`)).to.deep.equal([]);
  });

  it('a server that routes only the exact protected path: resumption and logging are judged on that path', async function () {
    const results = await runCases({ adapter: exactPath, cases: only('protocol::resumed-session-identity', 'identity::cn-logged') });
    expect(verdicts(results)).to.deep.equal([
      'identity::cn-logged 1.2 pass', 'identity::cn-logged 1.3 pass',
      'protocol::resumed-session-identity 1.2 pass', 'protocol::resumed-session-identity 1.3 pass',
    ]);
  });

  it('a server whose first handshake takes 4 s: judged right within --probe-timeout, and an error (never a fail) below it', async function () {
    const cases = only('trust::valid-client', 'trust::wrong-ca', 'trust::missing-cert');
    const patient = await runCases({ adapter: slowFirstHandshake, cases, probeTimeoutMs: 10_000 });
    expect(patient.map((r) => r.verdict)).to.deep.equal(['pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
    const hasty = await runCases({ adapter: slowFirstHandshake, cases: only('trust::valid-client'), probeTimeoutMs: 1_000 });
    expect(hasty.map((r) => r.verdict)).to.deep.equal(['error', 'error']);
    for (const r of hasty) expect(r.message).to.match(/timeout: no answer within 1000 ms during the handshake/);
  });
});
