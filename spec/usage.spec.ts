// usage: cases of the catalogue's usage family.
import type { CaseDefinition } from '../harness/index.ts';

const cases: CaseDefinition[] = [];

export default cases;
