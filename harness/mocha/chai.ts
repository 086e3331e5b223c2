// A chai plugin over the suite's observations and case results, so a failing
// `it` prints what was expected against what was observed:
//   expect(obs).to.be.served()          the protected resource reached the client
//   expect(obs).to.be.refused()         refused at the TLS or HTTP layer, nothing leaked
//   expect(obs).to.be.refused('unknown_ca')   ... with that alert
//   expect(result).to.conform()         a case run met its expectation
import * as chai from 'chai';
import { describeObservation } from '../probe/probe.ts';
import type { CaseResult } from '../run/runner.ts';
import type { Observation } from '../types.ts';
import { failsRun } from '../run/verdicts.ts';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Chai {
    interface Assertion {
      /** The observation is of a client that was served the protected resource. */
      served(): Assertion;
      /** The observation is of a client refused at the TLS or HTTP layer that saw nothing protected; with `alert`, by that alert. */
      refused(alert?: string): Assertion;
      /** The case run met its expectation (pass, or a verdict that does not fail a run). */
      conform(): Assertion;
    }
  }
}

function isObservation(value: unknown): value is Observation {
  return typeof value === 'object' && value !== null && 'outcome' in value && 'canarySeen' in value;
}

function isResult(value: unknown): value is CaseResult {
  return typeof value === 'object' && value !== null && 'verdict' in value && 'id' in value && 'checks' in value;
}

/** What the plugin needs of an assertion (chai's own, typed here so the package's types need no @types/chai). */
interface AssertionThis {
  _obj: unknown;
  assert(ok: boolean, message: string, negated: string, expected?: unknown, actual?: unknown): void;
}

/** What the plugin needs of chai. */
export interface ChaiLike {
  Assertion: { addMethod(name: string, method: (this: AssertionThis, ...args: never[]) => void): void };
}

/** The plugin: `chai.use(mtlsChai)` (done once by this module for the suite's own chai). */
export const mtlsChai = (c: ChaiLike): void => {
  c.Assertion.addMethod('served', function (this: AssertionThis) {
    const obs: unknown = this._obj;
    if (!isObservation(obs)) throw new TypeError('served() expects an observation (the result of probe() or ctx.probe())');
    this.assert(obs.outcome === 'accepted', `expected the client to be served, but it was ${describeObservation(obs)}`,
      `expected the client not to be served, but it was ${describeObservation(obs)}`, 'accepted', obs.outcome);
  });
  c.Assertion.addMethod('refused', function (this: AssertionThis, alert?: string) {
    const obs: unknown = this._obj;
    if (!isObservation(obs)) throw new TypeError('refused() expects an observation (the result of probe() or ctx.probe())');
    const refused = (obs.outcome === 'rejected-handshake' || obs.outcome === 'rejected-http') && !obs.canarySeen;
    const byAlert = alert === undefined || obs.alert === alert;
    const wanted = alert === undefined ? 'refused' : `refused with alert ${alert}`;
    this.assert(refused && byAlert, `expected the client to be ${wanted}, but it was ${describeObservation(obs)}`,
      `expected the client not to be ${wanted}, but it was ${describeObservation(obs)}`, alert ?? 'rejected', alert === undefined ? obs.outcome : obs.alert ?? obs.outcome);
  });
  c.Assertion.addMethod('conform', function (this: AssertionThis) {
    const result: unknown = this._obj;
    if (!isResult(result)) throw new TypeError('conform() expects a case result');
    const expected = result.expected === 'accept' ? 'served' : 'refused';
    this.assert(!failsRun(result.verdict), `${result.id} [TLS ${result.tls}]: ${result.verdict}: ${result.message}`,
      `expected ${result.id} [TLS ${result.tls}] not to conform, but it did: ${result.message}`, expected, result.outcome === null ? result.verdict : result.outcome);
  });
};

chai.use(mtlsChai as unknown as Chai.ChaiPlugin);

/** A run the harness could not judge (the server is not TLS, refuses everyone, the machine was too slow): not a conformance failure. */
export class CaseRunError extends Error {
  override name = 'CaseRunError';
}
