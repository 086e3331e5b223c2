// The built-in adapters by name.
import type { ServerAdapter } from '../types.ts';
import invoice from './invoice.ts';

/** Built-in adapters, loaded on demand (some start external programs). */
export const BUILT_INS: Readonly<Record<string, () => Promise<ServerAdapter>>> = {
  invoice: () => Promise.resolve(invoice),
};

/** Names of the built-in adapters in matrix order. */
export const BUILT_IN_NAMES = Object.keys(BUILT_INS);
