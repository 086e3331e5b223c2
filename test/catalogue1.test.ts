// The trust, validity, usage, algorithms and revocation families are complete
// data: each case documents itself and has a broken server that must fail it.
import { expect } from 'chai';
import { CATALOGUE } from '../spec/index.ts';
import { BROKEN_SERVERS } from '../harness/servers/broken.ts';
import { declarePki } from '../harness/runner.ts';

const FAMILIES = ['trust', 'validity', 'usage', 'algorithms', 'revocation'];
const cases = CATALOGUE.filter((c) => FAMILIES.includes(c.family));

describe('catalogue part 1 (trust, validity, usage, algorithms, revocation)', function () {
  it('holds every behaviour of the five families with a unique id in its family', function () {
    expect(cases.length).to.be.at.least(35);
    const ids = cases.map((c) => c.id);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const c of cases) expect(c.id, c.id).to.match(new RegExp(`^${c.family}::[a-z0-9]+(-[a-z0-9]+)*$`));
  });

  it('documents each case: a sentence title, the threat and a reference with an address', function () {
    for (const c of cases) {
      expect(c.title, c.id).to.match(/^[a-z].*[^.]$/);
      expect(c.why.length, c.id).to.be.greaterThan(40);
      expect(c.references?.some((r) => r.url?.startsWith('https://')), c.id).to.equal(true);
    }
  });

  it('states the policy wherever the suite goes beyond RFC 5280 and OpenSSL', function () {
    for (const id of ['trust::client-leaf-mints-identities', 'trust::chain-depth', 'usage::no-key-usage-extensions', 'algorithms::rsa-1024-client-key']) {
      expect(cases.find((c) => c.id === id)?.policy, id).to.be.a('string').and.have.length.greaterThan(40);
    }
  });

  it('gives every case a broken server that must fail it', function () {
    const failed = new Set(BROKEN_SERVERS.flatMap((b) => b.fails));
    expect(cases.map((c) => c.id).filter((id) => !failed.has(id))).to.deep.equal([]);
  });

  it('declares every PKI without a contradiction', function () {
    for (const c of cases) expect(() => declarePki(c), c.id).not.to.throw();
  });
});
