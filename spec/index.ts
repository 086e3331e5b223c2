// The catalogue: every family's cases in report order.
import type { CaseDefinition } from '../harness/run/case.ts';
import algorithms from './algorithms.spec.ts';
import authorization from './authorization.spec.ts';
import handshake from './handshake.spec.ts';
import identity from './identity.spec.ts';
import optional from './optional.spec.ts';
import ocsp from './ocsp.spec.ts';
import protocol from './protocol.spec.ts';
import proxy from './proxy.spec.ts';
import revocation from './revocation.spec.ts';
import robustness from './robustness.spec.ts';
import trust from './trust.spec.ts';
import usage from './usage.spec.ts';
import validity from './validity.spec.ts';
import vhost from './vhost.spec.ts';

/** Every case of the suite, family by family (the order of FAMILIES). */
export const CATALOGUE: readonly CaseDefinition[] = [
  ...trust, ...validity, ...usage, ...algorithms, ...revocation, ...ocsp, ...identity, ...authorization, ...protocol, ...robustness, ...handshake, ...proxy, ...vhost, ...optional,
];
