// After the build: the declarations in dist/ import each other as `.js`, like
// the JavaScript beside them. tsc keeps the sources' `.ts` specifiers in .d.ts
// files (TypeScript accepts them there, but editors and other tools look for
// files that dist/ does not have).
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const DIST = path.resolve(import.meta.dirname, '..', 'dist');
const SPECIFIER = /((?:from|import)\s*\(?\s*)(['"])(\.\.?\/[^'"]+)\.ts\2/g;

let files = 0;
for (const entry of await readdir(DIST, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = path.join(entry.parentPath, entry.name);
  const text = await readFile(file, 'utf8');
  const fixed = text.replace(SPECIFIER, (_, lead: string, quote: string, spec: string) => `${lead}${quote}${spec}.js${quote}`);
  if (fixed !== text) {
    await writeFile(file, fixed);
    files += 1;
  }
}
process.stdout.write(`dist: ${files} declaration files now import .js\n`);
