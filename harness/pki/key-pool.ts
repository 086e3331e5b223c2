// Slow keys made ahead of need: RSA keys take from a tenth of a second to
// seconds to generate, with a long tail, so each is generated once per process,
// in the background as soon as a run knows it will need it, and handed to every
// PKI that asks. Their generation is bounded on its own and never counts against
// a case's time. Certificates of one PKI that ask for the same kind of key get
// keys of their own (a slot each), so no two of them share a key.
//
// A client's key is multi-prime (RFC 8017 §3.2: three primes for RSA-2048 and
// RSA-3072, four for RSA-4096, the most OpenSSL 3 allows at those sizes, each
// prime over 680 bits). Only the suite's own tools sign with it (the probe, or
// the OCSP responder for a delegated signer); the server under test sees the
// public key alone, a modulus of the same size as any other, and signatures
// that verify the same way. Finding smaller primes is what makes it cheap: on
// this project's 2-core VM, 8-20 runs each, RSA-2048 took 79 ms on average
// instead of 243 ms, RSA-3072 179 ms instead of 897 ms and RSA-4096 228 ms
// instead of 1,974 ms. Keys a server or CA holds keep two primes: FIPS 186
// allows no more, and BoringSSL and ring refuse multi-prime private keys.
import tmp from 'tmp-promise';
import { HarnessError } from '../errors.ts';
import { OpensslSession } from './openssl.ts';
import { KEY_GENERATE_TIMEOUT_MS as GENERATE_TIMEOUT_MS } from '../run/bounds.ts';
import { readOwnFile } from '../run/own-files.ts';

/** Key types worth generating ahead: RSA from 2048 bits (RSA-1024 takes a few milliseconds). */
export const POOLED_KEYS = ['rsa-2048', 'rsa-3072', 'rsa-4096'] as const;
export type PooledKey = (typeof POOLED_KEYS)[number];

/** One key of the pool: its type, how many primes its modulus has, and which of the PKI's keys of that kind it is. */
export interface PoolKey {
  spec: PooledKey;
  primes: number;
  /** 0 for a PKI's first certificate with this type and prime count, 1 for its second, ... */
  slot: number;
}

/** Primes of a client's multi-prime key: the most OpenSSL 3 allows for that modulus size. */
export const CLIENT_KEY_PRIMES: Readonly<Record<PooledKey, number>> = { 'rsa-2048': 3, 'rsa-3072': 3, 'rsa-4096': 4 };

/** The openssl arguments that generate such a key into `out` (the pool runs them; a replay script shows them). */
export function genpkeyArgs(key: PoolKey, out: string): string[] {
  return ['genpkey', '-algorithm', 'RSA', '-pkeyopt', `rsa_keygen_bits:${key.spec.slice(4)}`,
    ...(key.primes > 2 ? ['-pkeyopt', `rsa_keygen_primes:${key.primes}`] : []), '-out', out];
}

/** A key being generated or made: its PEM, the runs that wait for it, and how to stop it. */
interface Entry {
  pem: Promise<string>;
  holders: Set<symbol>;
  stop: AbortController;
  done: boolean;
}

/** Entries by `spec/primes/slot`. */
const keys = new Map<string, Entry>();
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
export function leaseKeys(wanted: Iterable<PoolKey>): () => void {
  const holder = Symbol('run');
  const held: Entry[] = [];
  for (const key of wanted) {
    const entry = entryFor(key);
    if (held.includes(entry)) continue;
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
export function pooledKey(key: PoolKey): Promise<string> {
  return entryFor(key).pem;
}

function entryFor(key: PoolKey): Entry {
  const id = `${key.spec}/${key.primes}/${key.slot}`;
  let entry = keys.get(id);
  if (!entry) {
    const stop = new AbortController();
    const made: Entry = { pem: generate(key, stop.signal), holders: new Set(), stop, done: false };
    inFlight.add(made);
    made.pem.then(() => { made.done = true; inFlight.delete(made); }, () => {
      made.done = true;
      inFlight.delete(made);
      // A failed or stopped generation is tried again by the next caller.
      if (keys.get(id) === made) keys.delete(id);
    });
    keys.set(id, made);
    entry = made;
  }
  return entry;
}

async function generate(key: PoolKey, stop: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(GENERATE_TIMEOUT_MS);
  return tmp.withDir(async ({ path: dir }) => {
    const session = new OpensslSession(dir, AbortSignal.any([timeout, stop]));
    try {
      await session.run(genpkeyArgs(key, 'key.pem'));
    } catch (error) {
      if (timeout.aborted) {
        throw new HarnessError('ERR_MTLS_OVERLOADED', `generating an ${key.spec.toUpperCase()} key took more than ${GENERATE_TIMEOUT_MS / 1000} s`, 'the machine is overloaded; run again when it is less busy');
      }
      throw error;
    }
    return readOwnFile(session.resolve('key.pem'));
  }, { prefix: 'mtls-keys-', unsafeCleanup: true });
}
