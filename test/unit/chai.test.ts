// The chai plugin over observations and case results, and how a case run's
// verdict settles its mocha test: pure, no openssl, no servers.
import { AssertionError, expect } from 'chai';
import type Mocha from 'mocha';
import { CaseRunError } from '../../harness/mocha/chai.ts';
import { assertVerdict, caseLabels, testTitle } from '../../harness/mocha/run.ts';
import type { CaseResult, Verdict } from '../../harness/run/results.ts';
import type { Observation } from '../../harness/types.ts';

const served: Observation = { outcome: 'accepted', status: 200, canarySeen: true, ms: 3, handshake: true, requestSent: true };
const alerted: Observation = { outcome: 'rejected-handshake', alert: 'unknown_ca', canarySeen: false, ms: 2 };
const forbidden: Observation = { outcome: 'rejected-http', status: 403, canarySeen: false, ms: 2 };
const leakedWith403: Observation = { outcome: 'rejected-http', status: 403, canarySeen: true, ms: 2 };
const dropped: Observation = { outcome: 'dropped', canarySeen: false, ms: 2, handshake: true, requestSent: true };

function result(verdict: Verdict, outcome: CaseResult['outcome'] = 'accepted'): CaseResult {
  return {
    id: 'trust::wrong-ca', title: "refuses a client signed by another company's CA", family: 'trust', severity: 'critical', core: true, tls: '1.3',
    level: 'requirement', expected: 'reject', outcome, verdict, message: 'served (HTTP 200)', checks: [], evidence: {}, pki: [], replay: '',
    openssl: { processes: 0, ms: 0 }, ms: 1, startedAt: '2026-01-01T00:00:00.000Z', about: { why: 'w' },
  };
}

describe('chai plugin: served() and refused()', function () {
  it('served() holds only for an accepted observation, and says what was seen otherwise', function () {
    expect(served).to.be.served();
    expect(alerted).not.to.be.served();
    expect(() => { expect(alerted).to.be.served(); }).to.throw(AssertionError, /expected the client to be served, but it was alert unknown_ca/);
    expect(() => { expect(dropped).to.be.served(); }).to.throw(AssertionError);
  });

  it('refused() holds for TLS and HTTP refusals that showed nothing protected, and can demand the alert', function () {
    expect(alerted).to.be.refused();
    expect(alerted).to.be.refused('unknown_ca');
    expect(forbidden).to.be.refused();
    for (const obs of [served, leakedWith403, dropped]) expect(() => { expect(obs).to.be.refused(); }).to.throw(AssertionError, /expected the client to be refused/);
    expect(() => { expect(forbidden).to.be.refused('unknown_ca'); }).to.throw(AssertionError, /refused with alert unknown_ca/);
    expect(() => { expect(alerted).to.be.refused('certificate_required'); }).to.throw(AssertionError);
  });

  it('refuses what is not an observation', function () {
    expect(() => { expect({ status: 200 }).to.be.served(); }).to.throw(TypeError, /expects an observation/);
  });
});

describe('chai plugin: conform(), and the verdict of a mocha test', function () {
  const ctx = (): { ctx: Mocha.Context; skipped: () => boolean } => {
    let skipped = false;
    const fake = { skip: () => { skipped = true; throw new Error('skipped'); } } as unknown as Mocha.Context;
    return { ctx: fake, skipped: () => skipped };
  };

  it('a fail prints the case, its message, expected against observed', function () {
    try {
      expect(result('fail', 'leaked')).to.conform();
      expect.fail('conform() passed a fail');
    } catch (error) {
      expect(error).to.be.instanceOf(AssertionError);
      expect((error as Error).message).to.equal('trust::wrong-ca [TLS 1.3]: fail: served (HTTP 200)');
      expect(error).to.include({ expected: 'refused', actual: 'leaked' });
    }
  });

  for (const [verdict, settles] of [
    ['pass', 'passes'], ['fail', 'fails'], ['unexpected-pass', 'fails'], ['error', 'errs'],
    ['not-applicable', 'skips'], ['expected-fail', 'skips'], ['warning', 'skips'],
  ] as const) {
    it(`the verdict ${verdict} ${settles}`, function () {
      const { ctx: c, skipped } = ctx();
      let thrown: unknown;
      try { assertVerdict(c, result(verdict)); } catch (error) { thrown = error; }
      if (settles === 'passes') expect(thrown).to.equal(undefined);
      if (settles === 'fails') expect(thrown).to.be.instanceOf(AssertionError);
      if (settles === 'errs') expect(thrown).to.be.instanceOf(CaseRunError).and.not.to.be.instanceOf(AssertionError);
      expect(skipped()).to.equal(settles === 'skips');
    });
  }
});

describe('test titles', function () {
  it('name the case sentence and its TLS version, or the best one for a once case', function () {
    expect(testTitle({ title: 'serves a client' }, '1.3')).to.equal('serves a client [TLS 1.3]');
    expect(testTitle({ title: 'serves a client' }, 'once')).to.equal('serves a client [best TLS version]');
    expect(testTitle({ title: 'limits renegotiation' }, '1.2')).to.equal('limits renegotiation [TLS 1.2]');
  });

  it('one it per version for both, one for once, none for a version not selected', function () {
    const def = { id: 'x::y', title: 't', family: 'x', severity: 'low', why: 'w', expected: 'accept' } as const;
    expect(caseLabels(def, ['1.2', '1.3'])).to.deep.equal(['1.2', '1.3']);
    expect(caseLabels({ ...def, tls: 'once' }, ['1.2', '1.3'])).to.deep.equal(['once']);
    expect(caseLabels({ ...def, tls: '1.2' }, ['1.3'])).to.deep.equal([]);
    expect(caseLabels({ ...def, tls: '1.0-1.1' }, ['1.3'])).to.deep.equal(['1.0-1.1']);
  });
});
