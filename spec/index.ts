// The catalogue: every family's cases in report order.
import type { CaseDefinition } from '../harness/case.ts';
import identity from './identity.spec.ts';
import revocation from './revocation.spec.ts';
import trust from './trust.spec.ts';

/** Every case of the suite, family by family. */
export const CATALOGUE: readonly CaseDefinition[] = [...trust, ...revocation, ...identity];
