// relativizeDates: the absolute dates of a replay script become offsets from
// the moment the script runs, right across month, year and leap-day
// boundaries, snapped to whole minutes for stable docs, and bash turns them
// back into dates of the same form.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { relativizeDates } from '../../harness/report/stable.ts';

const HEAD = '#!/usr/bin/env bash\nset -euo pipefail\n';
const T0 = 'T0=$(date +%s)';
/** The expression a date at `offset` seconds becomes; `y` for a two-digit-year UTCTime. */
const at = (offset: number, year: 'Y' | 'y' = 'Y'): string => `$(date -u -d @$((T0 ${offset < 0 ? '-' : '+'} ${Math.abs(offset)})) +%${year}%m%d%H%M%SZ)`;
/** The body of a relativized one-line script, without its head and the two lines it adds. */
const body = (script: string, startedAt: string, exact = false): string => relativizeDates(`${HEAD}${script}`, startedAt, { exact }).split('\n').slice(4).join('\n');

describe('relativizeDates', function () {
  // [what, started at, date in the script, offset in seconds, year form]
  const rows: [string, string, string, number, 'Y' | 'y'][] = [
    ['a minute later across a month boundary', '2026-01-31T23:59:30Z', '20260201000030Z', 60, 'Y'],
    ['a minute earlier across a month boundary (UTCTime)', '2026-02-01T00:00:30Z', '260131235930Z', -60, 'y'],
    ['across a year boundary', '2025-12-31T23:59:00Z', '20260101000000Z', 60, 'Y'],
    ['across the leap day of 2028', '2028-02-28T23:00:00Z', '20280301000000Z', 90_000, 'Y'],
    ['across the end of February 2027, which has no leap day', '2027-02-28T23:00:00Z', '270301000000Z', 3_600, 'y'],
    ['thirty days on, from the last day of January', '2026-01-31T12:00:00Z', '20260302120000Z', 30 * 86_400, 'Y'],
    ['a year back (an expired certificate)', '2026-03-01T00:00:00Z', '20250301000000Z', -365 * 86_400, 'Y'],
    ['the start itself, given with milliseconds', '2026-03-01T12:00:00.400Z', '20260301120000Z', 0, 'Y'],
  ];
  for (const [what, startedAt, date, offset, year] of rows) {
    it(`writes a date ${what}: T0 ${offset < 0 ? '-' : '+'} ${Math.abs(offset)}`, function () {
      expect(body(`openssl ca -enddate ${date} -out x.pem`, startedAt)).to.equal(`openssl ca -enddate ${at(offset, year)} -out x.pem`);
    });
  }

  it('snaps offsets within 20 s of a whole minute for the docs, and keeps them to the second when exact', function () {
    const start = '2026-03-01T12:00:05Z';
    const dates = '20260301130000Z 20260301110000Z 20260301120020Z 20260301120040Z';
    expect(body(dates, start)).to.equal([at(3_600), at(-3_600), at(0), at(35)].join(' '));
    expect(body(dates, start, true)).to.equal([at(3_595), at(-3_605), at(15), at(35)].join(' '));
  });

  it('leaves digits that are part of a longer word or number alone', function () {
    for (const word of ['x20260301120000Z', '20260301120000Zx', '202603011200000Z', '2026030112000Z', '0x20260301120000Z', 'serial=20260301120000Z9']) {
      expect(relativizeDates(`${HEAD}echo ${word}\n`, '2026-03-01T12:00:00Z'), word).to.equal(`${HEAD}echo ${word}\n`);
    }
  });

  it('adds the T0 line once, after the set line, and leaves a relative script as it is', function () {
    const once = relativizeDates(`${HEAD}echo 20260301120000Z\n`, '2026-03-01T12:00:00Z');
    expect(once.split('\n').slice(0, 4)).to.deep.equal(['#!/usr/bin/env bash', 'set -euo pipefail', '# dates are relative to now, as when the suite built this PKI', T0]);
    expect(relativizeDates(once, '2026-03-01T12:00:00Z')).to.equal(once);
  });

  it('leaves a script without dates, an empty one, and one whose start is unknown unchanged', function () {
    expect(relativizeDates(`${HEAD}openssl genpkey -out k.pem\n`, '2026-03-01T12:00:00Z')).to.equal(`${HEAD}openssl genpkey -out k.pem\n`);
    expect(relativizeDates('', '2026-03-01T12:00:00Z')).to.equal('');
    expect(relativizeDates(`${HEAD}echo 20260301120000Z\n`, '')).to.equal(`${HEAD}echo 20260301120000Z\n`);
    expect(relativizeDates(`${HEAD}echo 20260301120000Z\n`, 'yesterday')).to.equal(`${HEAD}echo 20260301120000Z\n`);
  });

  it('unquotes a heredoc that now holds a date expression, and only that one', function () {
    const script = "cat > index.txt <<'MTLS_EOF'\nR\t260302120000Z\t260301120000Z\t01\tunknown\t/CN=client\nMTLS_EOF\ncat > plain.txt <<'MTLS_EOF'\nno dates\nMTLS_EOF\n";
    expect(body(script, '2026-03-01T12:00:00Z')).to.equal(`cat > index.txt <<MTLS_EOF\nR\t${at(86_400, 'y')}\t${at(0, 'y')}\t01\tunknown\t/CN=client\nMTLS_EOF\ncat > plain.txt <<'MTLS_EOF'\nno dates\nMTLS_EOF\n`);
  });

  it('leaves the dates of a heredoc that must stay quoted (its body holds $) as they are, and still relativizes the rest', function () {
    const script = "cat > index.txt <<'MTLS_EOF'\nV\t260301000000Z\t\t01\tunknown\t/CN=$x\nMTLS_EOF\necho 20260301120000Z\n";
    expect(body(script, '2026-03-01T12:00:00Z')).to.equal(`cat > index.txt <<'MTLS_EOF'\nV\t260301000000Z\t\t01\tunknown\t/CN=$x\nMTLS_EOF\necho ${at(0)}\n`);
  });

  it('gives bash dates of the same form, as far from now as they were from the start', function () {
    const script = relativizeDates(`${HEAD}echo 20260201000030Z 260131235830Z\n`, '2026-01-31T23:59:30Z');
    const before = Date.now();
    const [long, short] = execFileSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', timeout: 10_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TZ: 'Pacific/Kiritimati' } }).trim().split(' ');
    const parse = (asn1: string | undefined, digits: number): number => {
      const m = new RegExp(`^(\\d{${digits}})(\\d\\d)(\\d\\d)(\\d\\d)(\\d\\d)(\\d\\d)Z$`).exec(asn1 ?? '');
      if (!m) throw new Error(`not an ASN.1 time: ${String(asn1)}`);
      const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
      return Date.UTC(digits === 2 ? 2000 + y : y, mo - 1, d, h, mi, s);
    };
    // Within a few seconds of now plus the offset (bash reads the clock a moment after this test did).
    expect(parse(long, 4) - before).to.be.within(60_000 - 2_000, 60_000 + 5_000);
    expect(parse(short, 2) - before).to.be.within(-60_000 - 2_000, -60_000 + 5_000);
  });
});
