// The suite's verdicts can go either way: the reference invoice server passes
// every case, and each deliberately broken variant fails exactly its cases.
import { expect } from 'chai';
import { CATALOGUE } from '../spec/index.ts';
import { runCases, type CaseResult } from '../harness/run/runner.ts';
import { BROKEN_SERVERS } from './fixtures/broken/broken.ts';
import invoice from '../harness/servers/invoice.ts';
import { WIRE_BROKEN_SERVERS, WIRE_REFERENCE } from './fixtures/wire-server.ts';

function verdicts(results: CaseResult[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of results) (out[r.id] ??= []).push(`${r.tls}:${r.verdict}`);
  return out;
}

describe('verdicts can fail', function () {
  it('has a broken server for every case of the catalogue', function () {
    const failed = new Set([...BROKEN_SERVERS, ...WIRE_BROKEN_SERVERS].flatMap((b) => b.fails));
    expect(CATALOGUE.map((c) => c.id).filter((id) => !failed.has(id))).to.deep.equal([]);
    // And every case a broken server claims to fail exists.
    expect([...failed].filter((id) => !CATALOGUE.some((c) => c.id === id))).to.deep.equal([]);
  });

  it('the invoice server passes every case', async function () {
    const results = await runCases({ adapter: invoice, cases: CATALOGUE });
    const bad = results.filter((r) => r.verdict !== 'pass').map((r) => `${r.id} TLS ${r.tls}: ${r.message}`);
    expect(bad).to.deep.equal([]);
  });

  for (const broken of BROKEN_SERVERS) {
    it(`${broken.adapter.name} (${broken.flaw}) fails ${broken.fails.join(', ')} and passes the other core cases`, async function () {
      // Its own cases plus the core five: enough to show the flaw is caught and nothing else is blamed.
      const cases = CATALOGUE.filter((c) => broken.fails.includes(c.id) || c.core === true);
      // Strict: a policy-level case the broken server fails is a 'fail' here (a 'warning' by default, tested below).
      const results = await runCases({ adapter: broken.adapter, cases, strict: true });
      // A server that refuses even the control client proves nothing by refusing the others: those runs are errors
      // (every family's when it refuses trust::valid-client; the OCSP family's when it refuses every OCSP-checked client).
      const refusesAll = broken.fails.includes('trust::valid-client');
      const refusesOcsp = broken.fails.includes('ocsp::good');
      for (const r of results) {
        const shouldFail = broken.fails.includes(r.id);
        const unprovable = r.expected === 'reject' && (refusesAll || (refusesOcsp && r.family === 'ocsp'));
        expect(r.verdict, `${r.id} TLS ${r.tls}: ${r.message}`).to.equal(unprovable ? 'error' : shouldFail ? 'fail' : 'pass');
      }
      expect(Object.keys(verdicts(results))).to.include.members(broken.fails);
      expect(Object.keys(verdicts(results))).to.have.members(cases.map((c) => c.id));
    });
  }

  it('makes a failed policy-level case a warning unless the run is strict', async function () {
    const lax = BROKEN_SERVERS.find((b) => b.adapter.name === 'broken-unlimited-depth');
    if (!lax) throw new Error('broken-unlimited-depth is missing');
    const depth = CATALOGUE.filter((c) => c.id === 'trust::chain-depth');
    expect(depth[0]?.level).to.equal('policy');
    const [warned] = await runCases({ adapter: lax.adapter, cases: depth, tls: ['1.3'] });
    const [failed] = await runCases({ adapter: lax.adapter, cases: depth, tls: ['1.3'], strict: true });
    expect([warned?.verdict, failed?.verdict]).to.deep.equal(['warning', 'fail']);
  });
  // The handshake family's broken servers speak TLS through the wire-level server: the whole family runs against each,
  // with the core cases that need no CRL or identity log, so the flaw is caught and nothing else is blamed.
  const wireCases = CATALOGUE.filter((c) => c.family === 'handshake' || ['trust::valid-client', 'trust::wrong-ca', 'trust::missing-cert'].includes(c.id));
  for (const wire of [{ adapter: WIRE_REFERENCE, flaw: 'has no flaw', fails: [] as string[], errors: [] as string[] }, ...WIRE_BROKEN_SERVERS]) {
    it(`${wire.adapter.name} (${wire.flaw}) fails ${wire.fails.join(', ') || 'no case'} and passes the rest of the handshake family`, async function () {
      const results = await runCases({ adapter: wire.adapter, cases: wireCases, strict: true });
      for (const r of results) {
        const want = wire.fails.includes(r.id) ? 'fail' : wire.errors?.includes(`${r.id} ${r.tls}`) === true ? 'error' : 'pass';
        expect(r.verdict, `${r.id} TLS ${r.tls}: ${r.message}`).to.equal(want);
      }
      // Every case ran, so the reference (which fails none) is judged on all of them, not on none.
      expect(Object.keys(verdicts(results))).to.include.members(wire.fails);
      expect(Object.keys(verdicts(results))).to.have.members(wireCases.map((c) => c.id));
    });
  }

  it('explains a failure with what was expected and what was observed', async function () {
    const noReject = BROKEN_SERVERS.find((b) => b.adapter.name === 'broken-no-reject');
    if (!noReject) throw new Error('broken-no-reject is missing');
    const wrongCa = CATALOGUE.filter((c) => c.id === 'trust::wrong-ca');
    const [result] = await runCases({ adapter: noReject.adapter, cases: wrongCa, tls: ['1.3'] });
    expect(result?.message).to.equal("client 'client' requesting /: expected the client to be refused; it was served the protected resource (HTTP 200) under TLS 1.3");
  });
});
