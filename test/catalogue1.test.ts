// Every family of the catalogue is complete data: each case documents itself
// (title, why, a reference with an address), states the policy it goes beyond
// the RFCs with, declares its PKI without a contradiction and has a broken
// server that must fail it.
import { expect } from 'chai';
import { FAMILIES, familyRank } from '../harness/run/case.ts';
import { ALERTS } from '../harness/probe/probe.ts';
import { declarePki } from '../harness/run/runner.ts';
import { BROKEN_SERVERS } from './fixtures/broken/broken.ts';
import { CATALOGUE } from '../spec/index.ts';
import { WIRE_BROKEN_SERVERS } from './fixtures/wire-server.ts';

describe('the catalogue, in every family', function () {
  it('holds cases of every family and of no other, in the order of FAMILIES, each with a unique id in its family', function () {
    expect(FAMILIES.filter((f) => !CATALOGUE.some((c) => c.family === f)), 'families without a case').to.deep.equal([]);
    expect(CATALOGUE.filter((c) => !(FAMILIES as readonly string[]).includes(c.family)).map((c) => c.id)).to.deep.equal([]);
    const order = CATALOGUE.map((c) => familyRank(c.family));
    expect(order, 'families in report order').to.deep.equal([...order].sort((a, b) => a - b));
    const ids = CATALOGUE.map((c) => c.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i), 'ids given twice').to.deep.equal([]);
    for (const c of CATALOGUE) expect(c.id, c.id).to.match(new RegExp(`^${c.family}::[a-z0-9]+(-[a-z0-9]+)*$`));
  });

  for (const family of FAMILIES) {
    it(`documents each ${family} case: a sentence title, the threat and a reference with an address`, function () {
      const cases = CATALOGUE.filter((c) => c.family === family);
      expect(cases, family).to.have.length.above(0);
      const problems = cases.flatMap((c) => [
        ...(/^[a-z].*[^.]$/.test(c.title) ? [] : [`${c.id}: title "${c.title}" is not a sentence of the report (lower-case start, no full stop)`]),
        ...(c.why.trim().length > 40 ? [] : [`${c.id}: why "${c.why}" does not say what goes wrong`]),
        ...(c.references?.some((r) => r.title.trim() !== '' && r.url?.startsWith('https://') === true) === true ? [] : [`${c.id}: no reference with a title and an https address`]),
        ...((c.references ?? []).filter((r) => r.title.trim() === '').map(() => `${c.id}: a reference without a title`)),
        ...(c.preferredAlert === undefined || Object.values(ALERTS).includes(c.preferredAlert) ? [] : [`${c.id}: preferred alert ${c.preferredAlert} is no TLS alert`]),
        ...(c.preferredAlert === undefined || c.expected === 'reject' ? [] : [`${c.id}: a preferred alert on a case that expects acceptance`]),
      ]);
      expect(problems).to.deep.equal([]);
    });
  }

  it('states the policy wherever the suite goes beyond RFC 5280 and OpenSSL', function () {
    for (const id of ['trust::client-leaf-mints-identities', 'trust::chain-depth', 'usage::no-key-usage-extensions', 'algorithms::rsa-1024-client-key']) {
      expect(CATALOGUE.find((c) => c.id === id)?.policy, id).to.be.a('string').and.have.length.greaterThan(40);
    }
    // A policy-level case is a choice of the suite: the report must say which.
    const unstated = CATALOGUE.filter((c) => c.level === 'policy' && !(typeof c.policy === 'string' && c.policy.length > 40)).map((c) => c.id);
    expect(unstated).to.deep.equal([]);
  });

  it('gives every case a broken server that must fail it', function () {
    const failed = new Set([...BROKEN_SERVERS, ...WIRE_BROKEN_SERVERS].flatMap((b) => b.fails));
    expect(CATALOGUE.map((c) => c.id).filter((id) => !failed.has(id))).to.deep.equal([]);
  });

  it('declares every PKI without a contradiction', function () {
    const refused = CATALOGUE.flatMap((c) => {
      try {
        declarePki(c);
        return [];
      } catch (error) {
        return [`${c.id}: ${error instanceof Error ? error.message : String(error)}`];
      }
    });
    expect(refused).to.deep.equal([]);
  });
});
