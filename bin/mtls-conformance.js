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
process.exitCode = await main(process.argv.slice(2));
