#!/usr/bin/env node
// Entry point: loads the TypeScript CLI through tsx so no build step is needed.
import { register } from 'tsx/esm/api';

// A closed pipe (`| head`) ends output quietly instead of with a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
register();
const { main } = await import('../harness/cli.ts');
const { reapDescendants } = await import('../harness/processes.ts');
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
