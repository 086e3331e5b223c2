// authorization: cases of the catalogue's authorization family.
import type { CaseDefinition } from '../harness/index.ts';

const cases: CaseDefinition[] = [];

export default cases;
