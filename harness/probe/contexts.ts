// Client secure contexts kept for the connections of one case: parsing the PEMs
// (certificate chain, key, trusted CA) into an OpenSSL context costs more than
// a loopback handshake, and a case connects with the same identity many times.
// A context holds only what its options say: Node's client contexts keep no
// sessions of their own (a session is resumed only when passed in), so sharing
// one changes nothing a connection does or sees.
import { createHash } from 'node:crypto';
import tls from 'node:tls';

/** The options a client context is made from; nothing else of a connection goes into it. */
export interface ContextOptions {
  ca: string;
  cert?: string;
  key?: string;
  ciphers: string;
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
  secureOptions?: number;
}

/** Contexts by their options, for one case; dropped with it. */
export class SecureContexts {
  private readonly made = new Map<string, tls.SecureContext>();
  /** How many contexts were made, and how many connections reused one. */
  created = 0;
  reused = 0;

  /** The context for these options, made on first use. Throws what tls.createSecureContext throws. */
  get(options: ContextOptions): tls.SecureContext {
    // A digest, so the map holds no key material as text.
    const hash = createHash('sha256');
    for (const part of [options.ca, options.cert ?? '', options.key ?? '', options.ciphers, options.minVersion, options.maxVersion, String(options.secureOptions ?? '')]) {
      hash.update(String(part.length)).update(':').update(part);
    }
    const id = hash.digest('hex');
    const known = this.made.get(id);
    if (known) {
      this.reused += 1;
      return known;
    }
    const context = tls.createSecureContext(options);
    this.made.set(id, context);
    this.created += 1;
    return context;
  }
}
