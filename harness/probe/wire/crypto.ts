// The primitives the handshake signs and agrees with, on node:crypto:
// ECDHE over X25519 and P-256, signature schemes (RFC 8446 §4.2.3) and what
// each key type may sign with under each TLS version.
import { constants, createECDH, createPublicKey, diffieHellman, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/** Named groups (RFC 8446 §4.2.7). */
export const GROUPS = { x25519: 0x001d, secp256r1: 0x0017 } as const;
export type GroupName = keyof typeof GROUPS;

/** One side's ephemeral key share. */
export interface KeyShare {
  group: GroupName;
  /** The public value as it goes on the wire. */
  public: Buffer;
  /** The shared secret with the peer's public value. */
  agree(peer: Buffer): Buffer;
}

/** A fresh ephemeral key pair of `group`. */
export function generateKeyShare(group: GroupName): KeyShare {
  if (group === 'secp256r1') {
    const ecdh = createECDH('prime256v1');
    const pub = ecdh.generateKeys();
    return { group, public: pub, agree: (peer) => ecdh.computeSecret(peer) };
  }
  const { publicKey, privateKey } = generateKeyPairSync('x25519');
  const x = publicKey.export({ format: 'jwk' }).x ?? '';
  return {
    group,
    public: Buffer.from(x, 'base64url'),
    agree: (peer) => {
      if (peer.length !== 32) throw new Error(`X25519 public value of ${peer.length} bytes`);
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peer.toString('base64url') }, format: 'jwk' });
      return diffieHellman({ privateKey, publicKey: key });
    },
  };
}

/** The group name of a code, if this code speaks it. */
export function groupOf(code: number): GroupName | undefined {
  return (Object.keys(GROUPS) as GroupName[]).find((g) => GROUPS[g] === code);
}

/** Signature schemes by name (RFC 8446 §4.2.3; the SHA-1 and SHA-224 ones are TLS 1.2 only). */
export const SCHEMES = {
  rsa_pkcs1_sha1: 0x0201, ecdsa_sha1: 0x0203, rsa_pkcs1_sha224: 0x0301, ecdsa_sha224: 0x0303,
  rsa_pkcs1_sha256: 0x0401, rsa_pkcs1_sha384: 0x0501, rsa_pkcs1_sha512: 0x0601,
  ecdsa_secp256r1_sha256: 0x0403, ecdsa_secp384r1_sha384: 0x0503, ecdsa_secp521r1_sha512: 0x0603,
  rsa_pss_rsae_sha256: 0x0804, rsa_pss_rsae_sha384: 0x0805, rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807, ed448: 0x0808, rsa_pss_pss_sha256: 0x0809, rsa_pss_pss_sha384: 0x080a, rsa_pss_pss_sha512: 0x080b,
} as const;
export type SchemeName = keyof typeof SCHEMES;

/** TLS 1.2 DSA schemes, named in reports only (RFC 5246 §7.4.1.4.1). */
const DSA_SCHEMES: Readonly<Record<number, string>> = { 0x0202: 'dsa_sha1', 0x0302: 'dsa_sha224', 0x0402: 'dsa_sha256', 0x0502: 'dsa_sha384', 0x0602: 'dsa_sha512' };

/** A scheme's name, or its hex code when unknown. */
export function schemeName(code: number): string {
  return (Object.keys(SCHEMES) as SchemeName[]).find((n) => SCHEMES[n] === code) ?? DSA_SCHEMES[code] ?? `0x${code.toString(16).padStart(4, '0')}`;
}

interface SchemeParams {
  kind: 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss' | 'eddsa';
  hash: string | null;
  /** The curve a TLS 1.3 ECDSA scheme binds the key to. */
  curve?: string;
}

function paramsOf(code: number): SchemeParams | undefined {
  const name = schemeName(code);
  if (name.startsWith('ecdsa_')) {
    const hash = /sha(\d+)$/.exec(name)?.[1];
    const curve = { ecdsa_secp256r1_sha256: 'P-256', ecdsa_secp384r1_sha384: 'P-384', ecdsa_secp521r1_sha512: 'P-521' }[name];
    return { kind: 'ecdsa', hash: hash === '1' ? 'sha1' : `sha${hash ?? '256'}`, ...(curve ? { curve } : {}) };
  }
  if (name.startsWith('rsa_pkcs1_')) return { kind: 'rsa-pkcs1', hash: name.slice('rsa_pkcs1_'.length) };
  if (name.startsWith('rsa_pss_')) return { kind: 'rsa-pss', hash: name.slice(-6) };
  if (name === 'ed25519' || name === 'ed448') return { kind: 'eddsa', hash: null };
  return undefined;
}

function saltLength(hash: string | null): number {
  return hash === 'sha384' ? 48 : hash === 'sha512' ? 64 : 32;
}

/** Signs `data` with `scheme`; the scheme need not suit the key's version rules (deviations use that). */
export function signWith(code: number, key: KeyObject, data: Buffer): Buffer {
  const p = paramsOf(code);
  if (!p) throw new Error(`cannot sign with unknown scheme ${schemeName(code)}`);
  switch (p.kind) {
    case 'ecdsa': return sign(p.hash, data, { key, dsaEncoding: 'der' });
    case 'rsa-pkcs1': return sign(p.hash, data, { key, padding: constants.RSA_PKCS1_PADDING });
    case 'rsa-pss': return sign(p.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: saltLength(p.hash) });
    case 'eddsa': return sign(null, data, key);
  }
}

/** Whether `signature` over `data` verifies with `key` under `scheme`; false (never throws) for a malformed signature. */
export function verifyWith(code: number, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const p = paramsOf(code);
  if (!p) return false;
  try {
    switch (p.kind) {
      case 'ecdsa': return verify(p.hash, data, { key, dsaEncoding: 'der' }, signature);
      case 'rsa-pkcs1': return verify(p.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
      case 'rsa-pss': return verify(p.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: saltLength(p.hash) }, signature);
      case 'eddsa': return verify(null, data, key, signature);
    }
  } catch {
    return false;
  }
}

/** Short description of a key, e.g. "EC P-256", "RSA 2048", "Ed25519". */
export function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': return `EC ${d.namedCurve === 'prime256v1' ? 'P-256' : d.namedCurve === 'secp384r1' ? 'P-384' : d.namedCurve === 'secp521r1' ? 'P-521' : d.namedCurve ?? '?'}`;
    case 'rsa': return `RSA ${d.modulusLength ?? '?'}`;
    case 'rsa-pss': return `RSA-PSS ${d.modulusLength ?? '?'}`;
    case 'ed25519': return 'Ed25519';
    case 'ed448': return 'Ed448';
    default: return key.asymmetricKeyType ?? '?';
  }
}

/** The schemes a key may correctly sign a handshake with under `tls`, most preferred first. */
export function schemesFor(key: KeyObject, tls: '1.2' | '1.3'): number[] {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (tls === '1.3') {
        return curve === 'prime256v1' ? [SCHEMES.ecdsa_secp256r1_sha256] : curve === 'secp384r1' ? [SCHEMES.ecdsa_secp384r1_sha384] : curve === 'secp521r1' ? [SCHEMES.ecdsa_secp521r1_sha512] : [];
      }
      // TLS 1.2 ECDSA schemes name only the hash; the curve is the certificate's.
      return [SCHEMES.ecdsa_secp256r1_sha256, SCHEMES.ecdsa_secp384r1_sha384, SCHEMES.ecdsa_secp521r1_sha512];
    case 'rsa': {
      const pss = [SCHEMES.rsa_pss_rsae_sha256, SCHEMES.rsa_pss_rsae_sha384, SCHEMES.rsa_pss_rsae_sha512];
      return tls === '1.3' ? pss : [...pss, SCHEMES.rsa_pkcs1_sha256, SCHEMES.rsa_pkcs1_sha384, SCHEMES.rsa_pkcs1_sha512];
    }
    case 'rsa-pss': return [SCHEMES.rsa_pss_pss_sha256, SCHEMES.rsa_pss_pss_sha384, SCHEMES.rsa_pss_pss_sha512];
    case 'ed25519': return [SCHEMES.ed25519];
    case 'ed448': return [SCHEMES.ed448];
    default: return [];
  }
}

/** Schemes this key can produce that are not correct choices for a server that offered `offered`: weak hashes first. */
export function unofferedSchemesFor(key: KeyObject, offered: readonly number[]): number[] {
  const candidates = key.asymmetricKeyType === 'ec'
    ? [SCHEMES.ecdsa_sha1, SCHEMES.ecdsa_sha224, SCHEMES.ecdsa_secp521r1_sha512, SCHEMES.ecdsa_secp384r1_sha384]
    : key.asymmetricKeyType === 'rsa'
      ? [SCHEMES.rsa_pkcs1_sha1, SCHEMES.rsa_pkcs1_sha224, SCHEMES.rsa_pss_rsae_sha512, SCHEMES.rsa_pkcs1_sha512]
      : [];
  return candidates.filter((c) => !offered.includes(c));
}

/** The signature schemes a client offers in its ClientHello. */
export const OFFERED_SCHEMES: readonly number[] = [
  SCHEMES.ecdsa_secp256r1_sha256, SCHEMES.ecdsa_secp384r1_sha384, SCHEMES.ecdsa_secp521r1_sha512, SCHEMES.ed25519,
  SCHEMES.rsa_pss_rsae_sha256, SCHEMES.rsa_pss_rsae_sha384, SCHEMES.rsa_pss_rsae_sha512,
  SCHEMES.rsa_pss_pss_sha256, SCHEMES.rsa_pss_pss_sha384, SCHEMES.rsa_pss_pss_sha512,
  SCHEMES.rsa_pkcs1_sha256, SCHEMES.rsa_pkcs1_sha384, SCHEMES.rsa_pkcs1_sha512,
];

/** The content a TLS 1.3 CertificateVerify signs (RFC 8446 §4.4.3). */
export function certificateVerifyContent(who: 'client' | 'server', transcriptHash: Buffer): Buffer {
  return Buffer.concat([Buffer.alloc(64, 0x20), Buffer.from(`TLS 1.3, ${who} CertificateVerify`, 'latin1'), Buffer.from([0]), transcriptHash]);
}
