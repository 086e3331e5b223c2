// The built-in adapters by name.
import type { ServerAdapter } from '../types.ts';
import invoice from './invoice.ts';

/** Built-in adapters, loaded on demand (some start external programs, whose binaries are checked here). */
export const BUILT_INS: Readonly<Record<string, () => Promise<ServerAdapter>>> = {
  invoice: () => Promise.resolve(invoice),
  'express-authz': async () => (await import('./express-authz.ts')).default,
  'https-crl': async () => (await import('./https-crl.ts')).default,
  nginx: async () => {
    const mod = await import('./nginx.ts');
    await mod.findNginx();
    return mod.default;
  },
  apache: async () => {
    const mod = await import('./apache.ts');
    await mod.findApache();
    return mod.default;
  },
};

/** Names of the built-in adapters in matrix order. */
export const BUILT_IN_NAMES = Object.keys(BUILT_INS);
