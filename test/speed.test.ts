// Speed must not change answers: a parallel run gives the verdicts of a serial
// one, and CI shards split the catalogue without losing or repeating a case.
import { expect } from 'chai';
import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCli, selectCases, shardCases } from '../harness/cli/main.ts';
import { runCases, type CaseResult } from '../harness/run/runner.ts';
import invoice from '../harness/servers/invoice.ts';
import { BROKEN_SERVERS } from './fixtures/broken/broken.ts';
import { CATALOGUE } from '../spec/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'mtls-conformance.js');

const verdicts = (results: CaseResult[]): string[] => results.map((r) => `${r.id} ${r.tls} ${r.verdict} ${r.outcome ?? '-'}`);

describe('parallel runs', function () {
  it('give the same verdicts as a serial run, for a passing and a failing server', async function () {
    const noReject = BROKEN_SERVERS.find((b) => b.adapter.name === 'broken-no-reject')?.adapter;
    if (!noReject) throw new Error('broken-no-reject is missing');
    const cases = CATALOGUE.filter((c) => c.core === true || c.family === 'trust');
    for (const adapter of [invoice, noReject]) {
      const serial = await runCases({ adapter, cases, concurrency: 1 });
      const parallel = await runCases({ adapter, cases, concurrency: 8 });
      expect(verdicts(parallel), adapter.name).to.deep.equal(verdicts(serial));
    }
  });
});

describe('--shard', function () {
  it('splits the catalogue into slices whose union is the whole, with no case twice', function () {
    const all = selectCases({}).map((c) => c.id);
    for (const count of [1, 2, 3, 5, all.length + 1]) {
      const slices = Array.from({ length: count }, (_, i) => shardCases(selectCases({}), { index: i + 1, count }).map((c) => c.id));
      const union = slices.flat();
      expect(union.length, `${count} shards`).to.equal(all.length);
      expect([...union].sort(), `${count} shards`).to.deep.equal([...all].sort());
      expect(slices[0]?.length).to.be.greaterThan(0);
    }
  });

  it('gives separate processes the same slice: shard i/n of --list holds the cases at positions i, i+n, ... of the catalogue', async function () {
    this.timeout(60_000);
    // CI runs each shard in a job of its own: a slice must depend on the catalogue alone, never on the process.
    const ids = CATALOGUE.map((c) => c.id);
    const listed = await Promise.all([1, 2, 3].map(async (index) => {
      const run = await execa(process.execPath, [BIN, '--list', '--shard', `${index}/3`], { cwd: ROOT, timeout: 30_000, reject: false });
      expect(run.exitCode, run.stderr).to.equal(0);
      return run.stdout.split('\n').slice(0, -1).map((line) => line.split(' ')[0]);
    }));
    listed.forEach((slice, i) => {
      expect(slice, `shard ${i + 1}/3`).to.deep.equal(ids.filter((_, at) => at % 3 === i));
    });
  });

  for (const bad of ['0/3', '4/3', '1/0', 'a/b', '1', '1/2/3']) {
    it(`refuses --shard ${bad}`, function () {
      expect(() => parseCli(['--shard', bad])).to.throw(/Expected --shard to be i\/n/);
    });
  }
});
