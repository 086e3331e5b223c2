// Client secure contexts kept for the connections of one case: parsing the PEMs
// (certificate chain, key, trusted CA) into an OpenSSL context costs more than
// a loopback handshake, and a case connects with the same identity many times.
// A context holds only what its options say: Node's client contexts keep no
// sessions of their own (a session is resumed only when passed in), so sharing
// one changes nothing a connection does or sees.
//
// One context serves every TLS version of a case: its version range is set
// just before each connection is made. OpenSSL copies the range into the
// connection when Node creates it, synchronously inside tls.connect, so a later
// change of the context's range leaves earlier connections as they were. The
// probe still checks the version each connection negotiated.
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

/** The versions' wire numbers (OpenSSL's TLS1_VERSION and so on), which the native context's range setters take; they order the versions too. */
export const PROTOCOL: Readonly<Record<tls.SecureVersion, number>> = {
  'TLSv1': 0x0301,
  'TLSv1.1': 0x0302,
  'TLSv1.2': 0x0303,
  'TLSv1.3': 0x0304,
};

/** The setters of Node's native context behind tls.SecureContext (what createSecureContext calls for minVersion and maxVersion). */
interface RangeSetters {
  setMinProto(version: number): void;
  setMaxProto(version: number): void;
  getMinProto(): number;
  getMaxProto(): number;
}

/** The native context's range setters, or undefined on a Node.js that does not have them. */
function rangeSetters(context: tls.SecureContext): RangeSetters | undefined {
  const native = (context as { context?: Partial<RangeSetters> }).context;
  const ok = typeof native?.setMinProto === 'function' && typeof native.setMaxProto === 'function'
    && typeof native.getMinProto === 'function' && typeof native.getMaxProto === 'function';
  return ok ? native as RangeSetters : undefined;
}

/** Sets a context's version range; false when it cannot be set (or did not take), so the caller makes a context per range. */
export function setVersionRange(context: tls.SecureContext, minVersion: tls.SecureVersion, maxVersion: tls.SecureVersion): boolean {
  const setters = rangeSetters(context);
  if (!setters) return false;
  const min = PROTOCOL[minVersion];
  const max = PROTOCOL[maxVersion];
  setters.setMinProto(min);
  setters.setMaxProto(max);
  return setters.getMinProto() === min && setters.getMaxProto() === max;
}

/** Contexts by their options, for one case (all its TLS versions); dropped with it. */
export class SecureContexts {
  private readonly made = new Map<string, tls.SecureContext>();
  /** Whether one context can serve several version ranges (false once a range failed to take). */
  private shareRanges = true;
  /** How many contexts were made, and how many connections reused one. */
  created = 0;
  reused = 0;

  /**
   * The context for these options, made on first use, with its version range set to theirs.
   * Pass it to tls.connect at once: the range holds only until the next call. Throws what tls.createSecureContext throws.
   */
  get(options: ContextOptions): tls.SecureContext {
    const id = this.idOf(options, this.shareRanges);
    const known = this.made.get(id);
    if (known) {
      if (!this.shareRanges || setVersionRange(known, options.minVersion, options.maxVersion)) {
        this.reused += 1;
        return known;
      }
      // This Node.js keeps the range out of reach: from now on, a context per range.
      this.shareRanges = false;
      return this.get(options);
    }
    const context = tls.createSecureContext(options);
    this.made.set(id, context);
    this.created += 1;
    return context;
  }

  /** A digest of the options (so the map holds no key material as text), without the version range when contexts share it. */
  private idOf(options: ContextOptions, withoutRange: boolean): string {
    const hash = createHash('sha256');
    const parts = [options.ca, options.cert ?? '', options.key ?? '', options.ciphers, String(options.secureOptions ?? '')];
    if (!withoutRange) parts.push(options.minVersion, options.maxVersion);
    for (const part of parts) hash.update(String(part.length)).update(':').update(part);
    return `${withoutRange ? 'any' : 'range'}:${hash.digest('hex')}`;
  }
}
