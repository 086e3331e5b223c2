// Bare `npx mocha` in the repository (.mocharc.cjs loads this first): the
// catalogue's spec files run against the server MTLS_CONFORMANCE_SERVER names
// (a built-in name or an adapter module path; default invoice), with its
// expectations file, under MTLS_CONFORMANCE_TLS (1.2 or 1.3; default both).
// mocha's own --grep, .only and --bail apply; the CLI adds report files and
// the rest of its flags.
import { createRequire } from 'node:module';
import path from 'node:path';
import { resolveAdapter, looksLikePath } from '../servers/resolve.ts';
import { HarnessError } from '../errors.ts';
import { loadExpectations, NO_EXPECTATIONS } from '../run/expectations.ts';
import { packageRoot } from '../run/package-root.ts';
import type { TlsVersion } from '../types.ts';
import { ConformanceRun, setBareFactory } from './run.ts';

/** mocha's --grep / --fgrep / --invert as its CLI read them (so only the runs mocha will run are started ahead). */
function mochaGrep(): { re: RegExp; invert: boolean } | undefined {
  try {
    const require = createRequire(import.meta.url);
    const options = require('mocha/lib/cli/options.cjs') as { loadOptions: (argv: string[]) => { grep?: string | RegExp; fgrep?: string; invert?: boolean } };
    const o = options.loadOptions(process.argv.slice(2));
    const invert = o.invert === true;
    if (o.fgrep !== undefined) return { re: new RegExp(o.fgrep.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), invert };
    if (o.grep === undefined) return undefined;
    if (o.grep instanceof RegExp) return { re: o.grep, invert };
    const m = /^\/(.*)\/([dgimsuvy]*)$/.exec(o.grep);
    return { re: m ? new RegExp(m[1] ?? '', m[2]) : new RegExp(o.grep), invert };
  } catch {
    // Unknown: every registered run is started ahead; a run mocha skips is abandoned at the end.
    return undefined;
  }
}

function tlsFromEnv(): TlsVersion[] | undefined {
  const v = process.env['MTLS_CONFORMANCE_TLS'];
  if (v === undefined || v === '') return undefined;
  if (v !== '1.2' && v !== '1.3') throw new HarnessError('ERR_MTLS_USAGE', `MTLS_CONFORMANCE_TLS=${JSON.stringify(v)} is not a TLS version the suite runs`, 'use 1.2 or 1.3, or unset it for both');
  return [v];
}

setBareFactory(() => {
  const tls = tlsFromEnv();
  const server = process.env['MTLS_CONFORMANCE_SERVER'] || 'invoice';
  if (server === 'all') throw new HarnessError('ERR_MTLS_USAGE', 'MTLS_CONFORMANCE_SERVER=all: bare mocha checks one server', 'name one server, or run npx mtls-conformance --server all');
  const run = new ConformanceRun({
    eager: true, ...(tls ? { selection: { tls } } : {}),
    resolve: async () => {
      const adapter = await resolveAdapter(server);
      const file = process.env['MTLS_CONFORMANCE_EXPECTATIONS'];
      const expectations = file ? await loadExpectations(file) : looksLikePath(server) ? NO_EXPECTATIONS : await loadExpectations(path.join(packageRoot(), 'expectations', `${adapter.name}.json`), true);
      return { targets: [{ adapter, expectations }], settings: { ...(tls ? { tls } : {}) } };
    },
  });
  run.grep = mochaGrep();
  return run;
});
