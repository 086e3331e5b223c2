// Slow keys made ahead of need: RSA-3072 and RSA-4096 take seconds to generate on
// a loaded machine, so each is generated once per process, in the background as
// soon as a run knows it will need it, and handed to every PKI that asks. Their
// generation is bounded on its own and never counts against a case's time.
import { readFile } from 'node:fs/promises';
import tmp from 'tmp-promise';
import { HarnessError } from '../errors.ts';
import { OpensslSession } from './openssl.ts';
import { KEY_GENERATE_TIMEOUT_MS as GENERATE_TIMEOUT_MS } from '../run/bounds.ts';

/** Key types worth generating ahead: the ones that take seconds. */
export const POOLED_KEYS = ['rsa-3072', 'rsa-4096'] as const;
export type PooledKey = (typeof POOLED_KEYS)[number];

/** A key being generated or made: its PEM, the runs that wait for it, and how to stop it. */
interface Entry {
  pem: Promise<string>;
  holders: Set<symbol>;
  stop: AbortController;
  done: boolean;
}

const keys = new Map<PooledKey, Entry>();
/** Generations not yet settled, also those a failure took out of `keys`. */
const inFlight = new Set<Entry>();

/** True for key types the pool generates ahead. */
export function isPooled(key: string): key is PooledKey {
  return (POOLED_KEYS as readonly string[]).includes(key);
}

/**
 * Starts generating the given keys now (once each per process) for one run; returns the release that the run
 * calls when it ends. A generation every holder has released before it finished is stopped, so no openssl
 * outlives an interrupted run.
 */
export function leaseKeys(specs: Iterable<string>): () => void {
  const holder = Symbol('run');
  const held: Entry[] = [];
  for (const spec of specs) {
    if (!isPooled(spec)) continue;
    const entry = entryFor(spec);
    entry.holders.add(holder);
    held.push(entry);
  }
  return () => {
    for (const entry of held) {
      entry.holders.delete(holder);
      if (entry.holders.size === 0 && !entry.done) entry.stop.abort();
    }
  };
}

/** Resolves once every stopped generation has ended: its openssl gone, its temp dir removed (a run awaits it before it ends). */
export async function stoppedKeysSettled(): Promise<void> {
  await Promise.allSettled([...inFlight].filter((e) => e.stop.signal.aborted).map((e) => e.pem));
}

/**
 * The PEM of the process's key of that type, generating it on first use. The file lives only
 * inside a temp dir removed as soon as the key is read; the PEM is written into case dirs only.
 */
export function pooledKey(spec: PooledKey): Promise<string> {
  return entryFor(spec).pem;
}

function entryFor(spec: PooledKey): Entry {
  let entry = keys.get(spec);
  if (!entry) {
    const stop = new AbortController();
    const made: Entry = { pem: generate(spec, stop.signal), holders: new Set(), stop, done: false };
    inFlight.add(made);
    made.pem.then(() => { made.done = true; inFlight.delete(made); }, () => {
      made.done = true;
      inFlight.delete(made);
      // A failed or stopped generation is tried again by the next caller.
      if (keys.get(spec) === made) keys.delete(spec);
    });
    keys.set(spec, made);
    entry = made;
  }
  return entry;
}

async function generate(spec: PooledKey, stop: AbortSignal): Promise<string> {
  const bits = spec.slice(4);
  const timeout = AbortSignal.timeout(GENERATE_TIMEOUT_MS);
  return tmp.withDir(async ({ path: dir }) => {
    const session = new OpensslSession(dir, AbortSignal.any([timeout, stop]));
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
