// Slow keys made ahead of need: RSA-3072 and RSA-4096 take seconds to generate on
// a loaded machine, so each is generated once per process, in the background as
// soon as a run knows it will need it, and handed to every PKI that asks. Their
// generation is bounded on its own and never counts against a case's time.
import { readFile } from 'node:fs/promises';
import tmp from 'tmp-promise';
import { HarnessError } from './errors.ts';
import { OpensslSession } from './openssl.ts';

/** Key types worth generating ahead: the ones that take seconds. */
export const POOLED_KEYS = ['rsa-3072', 'rsa-4096'] as const;
export type PooledKey = (typeof POOLED_KEYS)[number];

/** Bound on generating one pooled key. */
const GENERATE_TIMEOUT_MS = 180_000;

const keys = new Map<PooledKey, Promise<string>>();

/** True for key types the pool generates ahead. */
export function isPooled(key: string): key is PooledKey {
  return (POOLED_KEYS as readonly string[]).includes(key);
}

/** Starts generating the given keys now (once each per process); returns at once. */
export function prewarmKeys(specs: Iterable<string>): void {
  for (const spec of specs) if (isPooled(spec)) void pooledKey(spec).catch(() => undefined);
}

/**
 * The PEM of the process's key of that type, generating it on first use. The file lives only
 * inside a temp dir removed as soon as the key is read; the PEM is written into case dirs only.
 */
export function pooledKey(spec: PooledKey): Promise<string> {
  let pending = keys.get(spec);
  if (!pending) {
    pending = generate(spec);
    keys.set(spec, pending);
    // A failed generation is tried again by the next caller.
    pending.catch(() => { keys.delete(spec); });
  }
  return pending;
}

async function generate(spec: PooledKey): Promise<string> {
  const bits = spec.slice(4);
  const timeout = AbortSignal.timeout(GENERATE_TIMEOUT_MS);
  return tmp.withDir(async ({ path: dir }) => {
    const session = new OpensslSession(dir, timeout);
    try {
      await session.run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${bits}`, '-out', 'key.pem']);
    } catch (error) {
      if (timeout.aborted) {
        throw new HarnessError('ERR_MTLS_OVERLOADED', `generating an ${spec.toUpperCase()} key took more than ${GENERATE_TIMEOUT_MS / 1000} s`, 'the machine is overloaded; run again when it is less busy');
      }
      throw error;
    }
    return readFile(session.resolve('key.pem'), 'utf8');
  }, { prefix: 'mtls-keys-', unsafeCleanup: true });
}
