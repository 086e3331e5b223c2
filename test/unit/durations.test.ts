// Durations on the command line always carry a unit: a bare number is refused
// (seconds to some, milliseconds to others), and messages print them back.
import { expect } from 'chai';
import { formatDuration, parseDuration } from '../../harness/run/durations.ts';

describe('parseDuration', function () {
  const accepted: [string, number][] = [
    ['1ms', 1], ['500ms', 500], ['10s', 10_000], ['1.5s', 1_500], ['0.5s', 500], ['2m', 120_000], ['1.25m', 75_000],
    ['1h', 3_600_000], ['24h', 86_400_000], ['1440m', 86_400_000], [' 3s\t', 3_000], ['0.0015s', 2],
  ];
  for (const [value, ms] of accepted) {
    it(`reads ${JSON.stringify(value)} as ${ms} ms`, function () {
      expect(parseDuration('case-timeout', value)).to.equal(ms);
    });
  }

  for (const bare of ['5', '10', '1.5', '0', '86400000', ' 7 ']) {
    it(`refuses the bare number ${JSON.stringify(bare)}, suggesting both units`, function () {
      let error: unknown;
      try {
        parseDuration('case-timeout', bare);
      } catch (e) {
        error = e;
      }
      expect(error).to.include({ code: 'ERR_MTLS_USAGE', message: `Expected --case-timeout to be a duration with a unit, got ${JSON.stringify(bare)}` });
      expect((error as { hint?: string }).hint).to.equal(`write the unit: ${bare.trim()}s for seconds or ${bare.trim()}ms for milliseconds`);
    });
  }

  for (const bad of ['0s', '0ms', '0.4ms', '-1s', '25h', '86400001ms', 'soon', '', '10 s', '5sec', '5S', '1e3ms', '.5s', '5.s', 'Infinityms', 's']) {
    it(`refuses ${JSON.stringify(bad)} as no positive duration of at most 24h`, function () {
      expect(() => parseDuration('ready-timeout', bad)).to.throw(`Expected --ready-timeout to be a duration such as 500ms, 10s or 2m, got ${JSON.stringify(bad)}`)
        .with.property('code', 'ERR_MTLS_USAGE');
    });
  }
});

describe('formatDuration', function () {
  const rows: [number, string][] = [[1, '1 ms'], [999, '999 ms'], [1_000, '1 s'], [1_500, '1.5 s'], [59_000, '59 s'], [60_000, '1 min'], [90_000, '90 s'], [120_000, '2 min'], [3_600_000, '60 min']];
  for (const [ms, text] of rows) {
    it(`prints ${ms} ms as "${text}"`, function () {
      expect(formatDuration(ms)).to.equal(text);
    });
  }

  it('prints back what parseDuration read, in the unit a person would use', function () {
    expect(['500ms', '10s', '2m'].map((v) => formatDuration(parseDuration('x', v)))).to.deep.equal(['500 ms', '10 s', '2 min']);
  });
});
