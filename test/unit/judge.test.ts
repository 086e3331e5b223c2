// Judging a case run from its checks: the verdict rules (error before fail,
// policy failures as warnings unless strict, known deviations from the
// expectations file), the one-sentence message, and the evidence kept.
import { expect } from 'chai';
import type { CaseDefinition, Check } from '../../harness/run/case.ts';
import { expectedFailure, globToRegExp, NO_EXPECTATIONS, parseExpectations, staleEntries, type Expectations } from '../../harness/run/expectations.ts';
import { judge, type CaseResult, type Verdict } from '../../harness/run/runner.ts';
import type { Observation, ServerAdapter } from '../../harness/types.ts';
import { aboutOf } from '../../harness/run/results.ts';
import { failsRun, FAILING, SKIPPED, VERDICT_MARK, VERDICT_RANK, VERDICT_WORDS } from '../../harness/run/verdicts.ts';

const DEF: CaseDefinition = {
  id: 'trust::wrong-ca', title: "refuses a client signed by another company's CA", family: 'trust', severity: 'critical',
  why: 'A server that trusts any CA lets anyone with a certificate in.', expected: 'reject',
};
const ADAPTER: ServerAdapter = { name: 'unit', capabilities: [], start: () => Promise.reject(new Error('never started in a unit test')) };
const LABEL = "client 'client' requesting /";

const refusedObs: Observation = { outcome: 'rejected-handshake', alert: 'unknown_ca', canarySeen: false, ms: 4, protocol: 'TLSv1.3' };
const servedObs: Observation = { outcome: 'accepted', status: 200, canarySeen: true, ms: 4, protocol: 'TLSv1.3' };
const erredObs: Observation = { outcome: 'error', error: 'timeout: no answer within 5000 ms during the handshake', canarySeen: false, ms: 5000 };

const refused: Check = { label: LABEL, expected: 'reject', ok: true, observed: 'alert unknown_ca', observation: refusedObs };
const served: Check = { label: LABEL, expected: 'reject', ok: false, observed: 'served (HTTP 200)', observation: servedObs };
const erred: Check = { label: LABEL, expected: 'reject', ok: false, observed: 'error: timeout', observation: erredObs };
const diedUnderLoad: Check = { label: 'the server keeps serving a valid client', expected: 'alive', ok: false, observed: 'error: timeout', observation: erredObs };

interface Run {
  checks: Check[];
  failure?: string;
  level?: CaseResult['level'];
  strict?: boolean;
  expectations?: Expectations;
  logLines?: string[];
}

function run({ checks, failure, level = 'requirement', strict, expectations, logLines = [] }: Run): CaseResult {
  const base = { id: DEF.id, title: DEF.title, family: DEF.family, severity: DEF.severity, core: false, tls: '1.3' as const, level, expected: DEF.expected, startedAt: '2026-01-31T23:59:30.000Z', about: aboutOf(DEF) };
  const opts = { adapter: ADAPTER, cases: [DEF], ...(strict === undefined ? {} : { strict }), ...(expectations ? { expectations } : {}) };
  return judge(DEF, opts, base, checks, [], failure, logLines, undefined, 12);
}

const deviation = (pattern: string): Expectations => parseExpectations(JSON.stringify({ [pattern]: 'loads no CRL: a known gap' }), 'unit.json');

describe('judge: verdicts', function () {
  // [what, run, verdict]
  const rows: [string, Run, Verdict][] = [
    ['every check passed', { checks: [refused] }, 'pass'],
    ['a check failed', { checks: [refused, served] }, 'fail'],
    ['no check was made', { checks: [] }, 'fail'],
    ['the failed check\'s probe failed on the suite\'s side', { checks: [erred] }, 'error'],
    ['a survival check failed because the server stopped answering', { checks: [refused, diedUnderLoad] }, 'fail'],
    ['the run failed outside any check', { checks: [refused], failure: 'server unit did not stop within 10 s' }, 'error'],
    ['a policy-level check failed', { checks: [served], level: 'policy' }, 'warning'],
    ['a policy-level check failed in a strict run', { checks: [served], level: 'policy', strict: true }, 'fail'],
    ['a policy-level case erred', { checks: [erred], level: 'policy' }, 'error'],
    ['a known deviation passed', { checks: [refused], expectations: deviation('trust::wrong-ca') }, 'unexpected-pass'],
    ['a known deviation failed', { checks: [served], expectations: deviation('trust::wrong-ca') }, 'expected-fail'],
    ['a known deviation erred', { checks: [erred], expectations: deviation('trust::*') }, 'expected-fail'],
    ['a known deviation of policy level failed', { checks: [served], level: 'policy', expectations: deviation('trust::wrong-?a') }, 'expected-fail'],
    ['the one glob matches only the start of the id', { checks: [served], expectations: deviation('trust::wrong') }, 'fail'],
  ];
  for (const [what, r, verdict] of rows) {
    it(`is ${verdict} when ${what}`, function () {
      expect(run(r).verdict).to.equal(verdict);
    });
  }
});

describe('judge: message, outcome and evidence', function () {
  it('says what was expected and what was observed when a refusal was not made', function () {
    const result = run({ checks: [refused, served] });
    expect(result.message).to.equal(`${LABEL}: expected the client to be refused; it was served the protected resource (HTTP 200) under TLS 1.3`);
    // A refused-expected client that was served the canary leaked it.
    expect(result.outcome).to.equal('leaked');
    expect(result.evidence).to.deep.equal({ status: 200 });
  });

  it('tells a pass by its deciding check, with the note it carries', function () {
    const noted: Check = { ...refused, observed: 'connection reset', note: 'a TLS server would ideally send alert unknown_ca', observation: { ...refusedObs, alert: 'reset' } };
    const result = run({ checks: [noted] });
    expect(result.message).to.equal(`${LABEL}: connection reset — note: a TLS server would ideally send alert unknown_ca`);
    expect([result.outcome, result.evidence.alert]).to.deep.equal(['rejected-handshake', 'reset']);
  });

  it('names the run\'s own failure, and keeps it as the evidence', function () {
    const result = run({ checks: [], failure: 'server unit never started' });
    expect([result.verdict, result.message, result.outcome, result.evidence.error]).to.deep.equal(['error', 'error: server unit never started', 'error', 'server unit never started']);
  });

  it('says so when the case made no check', function () {
    expect(run({ checks: [] })).to.include({ verdict: 'fail', message: 'the case made no check', outcome: null });
  });

  it('keeps the probe error of an erred check as evidence', function () {
    expect(run({ checks: [erred] }).evidence).to.deep.equal({ error: erredObs.error });
  });

  it('lets a check made without a probe speak for the case when nothing failed', function () {
    const refusedToStart: Check = { label: 'a server given an empty client-CA file', expected: 'reject', ok: true, observed: 'refused to start: no client CA' };
    const result = run({ checks: [refused, refusedToStart] });
    expect(result).to.include({ verdict: 'pass', message: 'a server given an empty client-CA file: refused to start: no client CA', outcome: null });
    expect(result.evidence).to.deep.equal({});
  });

  it('gives a stale known deviation a message that says to remove it, and a failed one the reason', function () {
    const passed = run({ checks: [refused], expectations: deviation('trust::*') });
    expect(passed.message).to.equal('passed, but the expectations file lists it as a known deviation ("loads no CRL: a known gap"): remove the stale entry');
    expect(passed.reason).to.equal('loads no CRL: a known gap');
    const failed = run({ checks: [served], expectations: deviation('trust::*') });
    expect(failed.reason).to.equal('loads no CRL: a known gap');
    expect(failed.message).to.match(/^client 'client' requesting \/: expected the client to be refused/);
    expect(run({ checks: [served] })).to.not.have.property('reason');
  });

  it('keeps the last 20 log lines, and copies the checks rather than sharing them', function () {
    const lines = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`);
    const checks = [refused];
    const result = run({ checks, logLines: lines });
    expect(result.evidence.logExcerpt).to.deep.equal(lines.slice(5));
    expect(result.checks).to.deep.equal(checks);
    expect(result.checks[0]).to.not.equal(checks[0]);
    expect([result.replay, result.pki, result.openssl, result.ms]).to.deep.equal(['', [], { processes: 0, ms: 0 }, 12]);
  });
});

describe('the verdict rules', function () {
  const ALL: Verdict[] = ['pass', 'fail', 'warning', 'not-applicable', 'expected-fail', 'unexpected-pass', 'error'];

  it('fails a run on fail, error and unexpected pass only', function () {
    expect(ALL.filter(failsRun)).to.deep.equal(['fail', 'unexpected-pass', 'error']);
    expect([...FAILING].sort()).to.deep.equal(['error', 'fail', 'unexpected-pass']);
  });

  it('counts every verdict once: pass, failing or skipped', function () {
    expect(['pass', ...FAILING, ...SKIPPED].sort()).to.deep.equal([...ALL].sort());
  });

  it('gives every verdict its own mark and words, and ranks fail worst and not-applicable least', function () {
    for (const table of [VERDICT_MARK, VERDICT_WORDS, VERDICT_RANK] as Record<Verdict, unknown>[]) {
      expect(Object.keys(table).sort()).to.deep.equal([...ALL].sort());
      expect(new Set(Object.values(table)).size).to.equal(ALL.length);
    }
    expect([...ALL].sort((a, b) => VERDICT_RANK[b] - VERDICT_RANK[a])).to.deep.equal(['fail', 'error', 'unexpected-pass', 'warning', 'expected-fail', 'pass', 'not-applicable']);
  });
});

describe('expectations files', function () {
  it('match case ids by anchored globs: * any run, ? one character, everything else literal', function () {
    const rows: [string, string, boolean][] = [
      ['trust::*', 'trust::wrong-ca', true], ['trust::*', 'revocation::revoked-leaf', false], ['*::revoked-*', 'revocation::revoked-leaf', true],
      ['trust::wrong-?a', 'trust::wrong-ca', true], ['trust::wrong-?a', 'trust::wrong-a', false], ['trust::wrong', 'trust::wrong-ca', false],
      ['ca', 'trust::wrong-ca', false], ['a.b', 'axb', false], ['a.b', 'a.b', true], ['(x)+', '(x)+', true], ['[ab]', 'a', false],
    ];
    expect(rows.filter(([glob, id, match]) => globToRegExp(glob).test(id) !== match).map(([glob, id]) => `${glob} ${id}`)).to.deep.equal([]);
  });

  it('give the reason of the first matching entry, skip comments, and list the entries that match nothing', function () {
    const exp = parseExpectations(JSON.stringify({ $comment: 'why this file exists', '// note': 'x', 'revocation::*': 'no CRL', 'revocation::revoked-leaf': 'shadowed', 'gone::case': 'retired' }), 'unit.json');
    expect(exp.entries.map((e) => e.pattern)).to.deep.equal(['revocation::*', 'revocation::revoked-leaf', 'gone::case']);
    expect(expectedFailure(exp, 'revocation::revoked-leaf')).to.equal('no CRL');
    expect(expectedFailure(exp, 'trust::wrong-ca')).to.equal(undefined);
    expect(expectedFailure(NO_EXPECTATIONS, 'trust::wrong-ca')).to.equal(undefined);
    expect(staleEntries(exp, ['revocation::revoked-leaf', 'trust::wrong-ca'])).to.deep.equal(['gone::case']);
  });

  it('refuse a document that is not an object of non-empty reasons, naming the file and the entry', function () {
    const rows: [string, RegExp][] = [
      ['{"trust::*": ', /^expectations file unit\.json is not valid JSON/],
      ['[]', /holds an array, not an object/],
      ['null', /holds object, not an object/],
      ['42', /holds number, not an object/],
      ['{"trust::wrong-ca": "  "}', /entry "trust::wrong-ca" has no reason/],
      ['{"trust::wrong-ca": 1}', /entry "trust::wrong-ca" has no reason/],
    ];
    for (const [text, message] of rows) {
      expect(() => parseExpectations(text, 'unit.json'), text).to.throw(message).with.property('code', 'ERR_MTLS_EXPECTATIONS');
    }
  });
});
