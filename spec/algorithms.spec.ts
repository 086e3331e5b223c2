// algorithms: cases of the catalogue's algorithms family.
import type { CaseDefinition } from '../harness/index.ts';

const cases: CaseDefinition[] = [];

export default cases;
