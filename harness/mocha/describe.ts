// The spec API's entry in the package: its types name only the case data, so a
// project that imports it needs no mocha or chai type packages.
import type { CaseDefinition } from '../run/case.ts';
import { describeCases as register } from './run.ts';

/**
 * Declares a family of cases in a spec file. Under mocha it registers `describe(family)` with one `it` per case
 * and TLS version; imported outside mocha it does nothing. `moduleUrl` (`import.meta.url`) makes the registration
 * happen only when mocha loads that very file as a spec, not when another file imports it for its data.
 * docs/specs.md is the guide.
 */
export function describeCases(family: string, cases: readonly CaseDefinition[], moduleUrl?: string): void {
  register(family, cases, moduleUrl);
}
