// Which cases a run takes: --core, --family and --grep together (selectCases),
// and the round-robin slice of the selection a CI shard runs (shardCases).
import { expect } from 'chai';
import type { CaseDefinition } from '../../harness/run/case.ts';
import { parseCli, selectCases, shardCases } from '../../harness/cli/main.ts';
import { CATALOGUE } from '../../spec/index.ts';

/** A small catalogue of its own, so the selections below do not move when the real one grows. */
const mini = (id: string, title: string, core = false): CaseDefinition => ({
  id, title, family: id.split('::')[0] as CaseDefinition['family'], severity: 'high', why: 'unit', expected: 'reject', ...(core ? { core } : {}),
});
const MINI: CaseDefinition[] = [
  mini('trust::valid-client', 'serves a valid client', true),
  mini('trust::wrong-ca', "refuses a client signed by another company's CA", true),
  mini('trust::expired-ca', 'refuses a client whose CA expired'),
  mini('revocation::revoked-leaf', 'refuses a revoked client', true),
  mini('revocation::crl-expired', 'refuses when the CRL expired'),
  mini('identity::cn-logged', 'logs the client CN'),
];
const ids = (cases: readonly CaseDefinition[]): string[] => cases.map((c) => c.id);

describe('selectCases', function () {
  // [flags, ids selected]
  const rows: [Parameters<typeof selectCases>[0], string[]][] = [
    [{}, ids(MINI)],
    [{ core: true }, ['trust::valid-client', 'trust::wrong-ca', 'revocation::revoked-leaf']],
    [{ family: 'revocation' }, ['revocation::revoked-leaf', 'revocation::crl-expired']],
    [{ core: true, family: 'revocation' }, ['revocation::revoked-leaf']],
    [{ grep: 'expired' }, ['trust::expired-ca', 'revocation::crl-expired']],
    // The title counts as well as the id.
    [{ grep: 'another company' }, ['trust::wrong-ca']],
    [{ grep: '^trust::' }, ['trust::valid-client', 'trust::wrong-ca', 'trust::expired-ca']],
    [{ grep: 'expired', family: 'trust' }, ['trust::expired-ca']],
    [{ grep: 'expired', core: true, family: 'trust' }, []],
  ];
  for (const [flags, selected] of rows) {
    it(`selects ${selected.length === 0 ? 'nothing' : selected.join(', ')} for ${JSON.stringify(flags)}, in catalogue order`, function () {
      if (selected.length === 0) expect(() => selectCases(flags, MINI)).to.throw().with.property('code', 'ERR_MTLS_NO_CASES');
      else expect(ids(selectCases(flags, MINI))).to.deep.equal(selected);
    });
  }

  it('says which flags together selected nothing', function () {
    expect(() => selectCases({ core: true, family: 'identity', grep: 'CN' }, MINI)).to.throw('--core with --family identity with --grep "CN" selects no case');
    expect(() => selectCases({ grep: 'nothing-at-all' }, MINI)).to.throw(/^--grep "nothing-at-all" selects no case$/);
  });

  it('selects from the whole catalogue by default', function () {
    expect(ids(selectCases({}))).to.deep.equal(ids(CATALOGUE));
  });
});

describe('shardCases', function () {
  const items = Array.from({ length: 11 }, (_, i) => `case-${i + 1}`);

  it('deals the selection round-robin: shard i of n holds positions i, i+n, i+2n, ...', function () {
    expect(shardCases(items, { index: 1, count: 3 })).to.deep.equal(['case-1', 'case-4', 'case-7', 'case-10']);
    expect(shardCases(items, { index: 2, count: 3 })).to.deep.equal(['case-2', 'case-5', 'case-8', 'case-11']);
    expect(shardCases(items, { index: 3, count: 3 })).to.deep.equal(['case-3', 'case-6', 'case-9']);
  });

  for (const count of [1, 2, 3, 4, 10, 11, 12, 20]) {
    it(`splits 11 cases into ${count} shards that differ in size by one at most, and join into the whole`, function () {
      const slices = Array.from({ length: count }, (_, i) => shardCases(items, { index: i + 1, count }));
      const sizes = slices.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes), sizes.join(',')).to.be.at.most(1);
      expect(slices.flat().sort()).to.deep.equal([...items].sort());
      // Every slice keeps catalogue order.
      for (const slice of slices) expect(slice).to.deep.equal(items.filter((c) => slice.includes(c)));
    });
  }

  it('leaves a shard beyond the selection empty, and returns a copy without a shard', function () {
    expect(shardCases(items.slice(0, 2), { index: 3, count: 3 })).to.deep.equal([]);
    const all = shardCases(items, undefined);
    expect(all).to.deep.equal(items);
    expect(all).to.not.equal(items);
  });

  it('reads --shard i/n as 1-based, and refuses anything else', function () {
    expect(parseCli(['--shard', '2/3']).shard).to.deep.equal({ index: 2, count: 3 });
    expect(parseCli(['--shard', '1/1']).shard).to.deep.equal({ index: 1, count: 1 });
    expect(parseCli([]).shard).to.equal(undefined);
    for (const bad of ['0/3', '4/3', '1/0', '-1/3', '1.5/3', ' 1/3', '1/3/']) {
      expect(() => parseCli([`--shard=${bad}`]), bad).to.throw(`Expected --shard to be i/n with 1 <= i <= n, got ${JSON.stringify(bad)}`).with.property('code', 'ERR_MTLS_USAGE');
    }
  });
});
