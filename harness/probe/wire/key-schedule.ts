// Key derivation: the TLS 1.3 key schedule (RFC 8446 §7, HKDF of RFC 5869) and
// the TLS 1.2 PRF (RFC 5246 §5) with the extended master secret (RFC 7627).
import { createHash, createHmac } from 'node:crypto';
import { u16, vec8 } from './bytes.ts';

/** Hashes of the cipher suites this code speaks. */
export type HashName = 'sha256' | 'sha384';

export function hashLength(hash: HashName): number { return hash === 'sha256' ? 32 : 48; }

export function digest(hash: HashName, data: Buffer): Buffer { return createHash(hash).update(data).digest(); }

export function hmac(hash: HashName, key: Buffer, data: Buffer): Buffer { return createHmac(hash, key).update(data).digest(); }

/** HKDF-Extract (RFC 5869 §2.2); an empty salt is hashLen zeros. */
export function hkdfExtract(hash: HashName, salt: Buffer, ikm: Buffer): Buffer {
  return hmac(hash, salt.length > 0 ? salt : Buffer.alloc(hashLength(hash)), ikm);
}

/** HKDF-Expand (RFC 5869 §2.3). */
export function hkdfExpand(hash: HashName, prk: Buffer, info: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous: Buffer = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(blocks).length < length; i++) {
    previous = hmac(hash, prk, Buffer.concat([previous, info, Buffer.from([i])]));
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** HKDF-Expand-Label (RFC 8446 §7.1). */
export function expandLabel(hash: HashName, secret: Buffer, label: string, context: Buffer, length: number): Buffer {
  const info = Buffer.concat([u16(length), vec8(Buffer.from(`tls13 ${label}`, 'latin1')), vec8(context)]);
  return hkdfExpand(hash, secret, info, length);
}

/** Derive-Secret (RFC 8446 §7.1) over an already computed transcript hash. */
export function deriveSecret(hash: HashName, secret: Buffer, label: string, transcriptHash: Buffer): Buffer {
  return expandLabel(hash, secret, label, transcriptHash, hashLength(hash));
}

/** Record key and IV of a traffic secret (RFC 8446 §7.3). */
export function trafficKeys(hash: HashName, secret: Buffer, keyLength: number): { key: Buffer; iv: Buffer } {
  return { key: expandLabel(hash, secret, 'key', Buffer.alloc(0), keyLength), iv: expandLabel(hash, secret, 'iv', Buffer.alloc(0), 12) };
}

/** Finished verify_data (RFC 8446 §4.4.4) from the base traffic secret and the transcript hash. */
export function finishedMac(hash: HashName, baseKey: Buffer, transcriptHash: Buffer): Buffer {
  const finishedKey = expandLabel(hash, baseKey, 'finished', Buffer.alloc(0), hashLength(hash));
  return hmac(hash, finishedKey, transcriptHash);
}

/** The TLS 1.3 secrets of one full handshake without PSK. */
export interface Tls13Secrets {
  handshake: Buffer;
  clientHandshake: Buffer;
  serverHandshake: Buffer;
  master: Buffer;
}

/** Early, handshake and master secrets from the (EC)DHE shared secret and the hash of ClientHello..ServerHello. */
export function tls13HandshakeSecrets(hash: HashName, shared: Buffer, helloHash: Buffer): Tls13Secrets {
  const zeros = Buffer.alloc(hashLength(hash));
  const empty = digest(hash, Buffer.alloc(0));
  const early = hkdfExtract(hash, zeros, zeros);
  const handshake = hkdfExtract(hash, deriveSecret(hash, early, 'derived', empty), shared);
  return {
    handshake,
    clientHandshake: deriveSecret(hash, handshake, 'c hs traffic', helloHash),
    serverHandshake: deriveSecret(hash, handshake, 's hs traffic', helloHash),
    master: hkdfExtract(hash, deriveSecret(hash, handshake, 'derived', empty), zeros),
  };
}

/** Application traffic secrets from the master secret and the hash of ClientHello..server Finished. */
export function tls13ApplicationSecrets(hash: HashName, master: Buffer, finishedHash: Buffer): { client: Buffer; server: Buffer } {
  return { client: deriveSecret(hash, master, 'c ap traffic', finishedHash), server: deriveSecret(hash, master, 's ap traffic', finishedHash) };
}

/** The handshake messages so far, hashed with whichever hash the cipher suite picks. */
export class Transcript {
  private readonly messages: Buffer[] = [];

  add(...raw: Buffer[]): void { this.messages.push(...raw); }

  /** Everything added, concatenated (TLS 1.2 signs this directly). */
  bytes(): Buffer { return Buffer.concat(this.messages); }

  hash(hash: HashName): Buffer { return digest(hash, this.bytes()); }

  /** After a HelloRetryRequest: ClientHello1 becomes message_hash (RFC 8446 §4.4.1). */
  replaceFirstWithMessageHash(hash: HashName): void {
    const first = this.messages.shift();
    if (!first) return;
    const h = digest(hash, first);
    this.messages.unshift(Buffer.concat([Buffer.from([254, 0, 0, h.length]), h]));
  }
}

/** P_hash of the TLS 1.2 PRF (RFC 5246 §5). */
export function prf12(hash: HashName, secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const fullSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let a: Buffer = fullSeed;
  let size = 0;
  while (size < length) {
    a = hmac(hash, secret, a);
    const block = hmac(hash, secret, Buffer.concat([a, fullSeed]));
    out.push(block);
    size += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** The TLS 1.2 master secret: extended (RFC 7627, over the session hash) or classic (over the randoms). */
export function masterSecret12(hash: HashName, premaster: Buffer, opts: { sessionHash: Buffer } | { clientRandom: Buffer; serverRandom: Buffer }): Buffer {
  if ('sessionHash' in opts) return prf12(hash, premaster, 'extended master secret', opts.sessionHash, 48);
  return prf12(hash, premaster, 'master secret', Buffer.concat([opts.clientRandom, opts.serverRandom]), 48);
}

/** TLS 1.2 AES-GCM keys: client and server write keys and 4-byte salts (RFC 5246 §6.3, RFC 5288). */
export function keyBlock12(hash: HashName, master: Buffer, clientRandom: Buffer, serverRandom: Buffer, keyLength: number): { clientKey: Buffer; serverKey: Buffer; clientSalt: Buffer; serverSalt: Buffer } {
  const block = prf12(hash, master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * keyLength + 8);
  return {
    clientKey: block.subarray(0, keyLength),
    serverKey: block.subarray(keyLength, 2 * keyLength),
    clientSalt: block.subarray(2 * keyLength, 2 * keyLength + 4),
    serverSalt: block.subarray(2 * keyLength + 4, 2 * keyLength + 8),
  };
}

/** TLS 1.2 Finished verify_data (RFC 5246 §7.4.9). */
export function finished12(hash: HashName, master: Buffer, who: 'client' | 'server', transcriptHash: Buffer): Buffer {
  return prf12(hash, master, `${who} finished`, transcriptHash, 12);
}
