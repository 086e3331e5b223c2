// robustness: cases of the catalogue's robustness family.
import type { CaseDefinition } from '../harness/index.ts';

const cases: CaseDefinition[] = [];

export default cases;
