#!/usr/bin/env node
// Entry point. In a checkout (harness/*.ts present) the TypeScript sources run
// through tsx, so no build step is needed; the installed package runs the
// compiled dist/ without a loader.
import { existsSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';

// A closed pipe (`| head`) ends output quietly instead of with a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const fromSource = existsSync(fileURLToPath(new URL('../harness/cli/main.ts', import.meta.url)));
if (fromSource) {
  (await import('tsx/esm/api')).register();
  // A spec file that imports 'mtls-conformance' gets these sources, not the compiled dist/ (package.json "exports").
  const hook = 'export function resolve(s, c, next) { return next(s, { ...c, conditions: [...c.conditions, "mtls-conformance-source"] }); }';
  (await import('node:module')).register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
const { main } = fromSource ? await import('../harness/cli/main.ts') : await import('../dist/harness/cli/main.js');
const { reapDescendants } = fromSource ? await import('../harness/run/processes.ts') : await import('../dist/harness/run/processes.js');
const { keepHeapNearLiveData } = fromSource ? await import('../harness/run/memory.ts') : await import('../dist/harness/run/memory.js');
keepHeapNearLiveData();
const code = await main(process.argv.slice(2));
// Nothing outlives a run: a server an adapter failed to stop (a start or stop that hung) ends here.
try {
  const left = await reapDescendants();
  if (left.length > 0) {
    const shown = left.slice(0, 3).map((p) => `${p.pid} (${p.command.replace(/\s+/g, ' ').slice(0, 60)})`).join(', ');
    process.stderr.write(`mtls-conformance: stopped ${left.length} process${left.length === 1 ? '' : 'es'} the server adapter left running: ${shown}${left.length > 3 ? ', ...' : ''}; make its stop() end every process it starts\n`);
  }
} catch (error) {
  process.stderr.write(`mtls-conformance: could not check for processes left running (${error instanceof Error ? error.message : String(error)})\n`);
}
// Output reaches a pipe before the exit, on every platform.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => { stream.write('', resolve); })));
// Exit now: a start() that never resolved may still hold timers or pipes open.
process.exit(code);
