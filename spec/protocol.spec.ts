// protocol: cases of the catalogue's protocol family.
import type { CaseDefinition } from '../harness/index.ts';

const cases: CaseDefinition[] = [];

export default cases;
