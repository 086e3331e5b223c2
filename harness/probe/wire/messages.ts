// Handshake messages (RFC 8446 §4, RFC 5246 §7.4): encode and decode, with
// the extensions this code uses. Decoding is strict: a bad length is a DecodeError.
import { DecodeError, Reader, u16, u16List, u8, vec16, vec24, vec8 } from './bytes.ts';

/** Handshake message types. */
export const HS = {
  helloRequest: 0, clientHello: 1, serverHello: 2, newSessionTicket: 4, encryptedExtensions: 8, certificate: 11,
  serverKeyExchange: 12, certificateRequest: 13, serverHelloDone: 14, certificateVerify: 15, clientKeyExchange: 16,
  finished: 20, keyUpdate: 24,
} as const;

/** Names of handshake message types, for traces. */
export const HS_NAMES: Readonly<Record<number, string>> = {
  0: 'HelloRequest', 1: 'ClientHello', 2: 'ServerHello', 4: 'NewSessionTicket', 8: 'EncryptedExtensions', 11: 'Certificate',
  12: 'ServerKeyExchange', 13: 'CertificateRequest', 14: 'ServerHelloDone', 15: 'CertificateVerify', 16: 'ClientKeyExchange',
  20: 'Finished', 24: 'KeyUpdate',
};

/** Extension types. */
export const EXT = {
  serverName: 0, supportedGroups: 10, ecPointFormats: 11, signatureAlgorithms: 13, extendedMasterSecret: 23, sessionTicket: 35,
  supportedVersions: 43, cookie: 44, pskKeyExchangeModes: 45, certificateAuthorities: 47, postHandshakeAuth: 49,
  signatureAlgorithmsCert: 50, keyShare: 51, renegotiationInfo: 0xff01,
} as const;

/** Cipher suites this code speaks. */
export const SUITES = {
  TLS_AES_128_GCM_SHA256: 0x1301, TLS_AES_256_GCM_SHA384: 0x1302,
  ECDHE_ECDSA_AES128_GCM_SHA256: 0xc02b, ECDHE_ECDSA_AES256_GCM_SHA384: 0xc02c,
  ECDHE_RSA_AES128_GCM_SHA256: 0xc02f, ECDHE_RSA_AES256_GCM_SHA384: 0xc030,
} as const;

/** A cipher suite's parameters. */
export interface SuiteParams {
  name: string;
  tls: '1.2' | '1.3';
  hash: 'sha256' | 'sha384';
  cipher: 'aes-128-gcm' | 'aes-256-gcm';
  keyLength: number;
}

export function suiteParams(code: number): SuiteParams | undefined {
  const name = (Object.keys(SUITES) as (keyof typeof SUITES)[]).find((n) => SUITES[n] === code);
  if (!name) return undefined;
  const big = name.includes('256_GCM');
  return { name, tls: name.startsWith('TLS_') ? '1.3' : '1.2', hash: name.endsWith('SHA384') ? 'sha384' : 'sha256', cipher: big ? 'aes-256-gcm' : 'aes-128-gcm', keyLength: big ? 32 : 16 };
}

/** The special ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3). */
export const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** One extension. */
export interface Extension {
  type: number;
  data: Buffer;
}

export function encodeExtensions(list: readonly Extension[]): Buffer {
  return vec16(Buffer.concat(list.map((e) => Buffer.concat([u16(e.type), vec16(e.data)]))));
}

/** Decodes an extensions block; a duplicate is a DecodeError. */
export function decodeExtensions(block: Buffer, what: string): Map<number, Buffer> {
  const r = new Reader(block, what);
  const out = new Map<number, Buffer>();
  while (r.remaining > 0) {
    const type = r.u16();
    const data = r.vec16();
    if (out.has(type)) throw new DecodeError(`${what}: extension ${type} appears twice`);
    out.set(type, data);
  }
  return out;
}

export interface ClientHello {
  random: Buffer;
  sessionId: Buffer;
  suites: number[];
  extensions: Extension[];
}

export function encodeClientHello(h: ClientHello): Buffer {
  return Buffer.concat([u16(0x0303), h.random, vec8(h.sessionId), u16List(h.suites), vec8(Buffer.from([0])), encodeExtensions(h.extensions)]);
}

export function decodeClientHello(body: Buffer): { random: Buffer; sessionId: Buffer; suites: number[]; extensions: Map<number, Buffer> } {
  const r = new Reader(body, 'ClientHello');
  r.u16();
  const random = r.bytes(32);
  const sessionId = r.vec8();
  const suites = u16s(r.vec16(), 'ClientHello cipher suites');
  r.vec8();
  const extensions = r.remaining > 0 ? decodeExtensions(r.vec16(), 'ClientHello extensions') : new Map<number, Buffer>();
  r.end();
  return { random, sessionId, suites, extensions };
}

export interface ServerHello {
  random: Buffer;
  sessionId: Buffer;
  suite: number;
  extensions: Map<number, Buffer>;
}

export function encodeServerHello(h: { random: Buffer; sessionId: Buffer; suite: number; extensions: Extension[] }): Buffer {
  return Buffer.concat([u16(0x0303), h.random, vec8(h.sessionId), u16(h.suite), u8(0), encodeExtensions(h.extensions)]);
}

export function decodeServerHello(body: Buffer): ServerHello {
  const r = new Reader(body, 'ServerHello');
  const version = r.u16();
  if (version !== 0x0303) throw new DecodeError(`ServerHello legacy_version 0x${version.toString(16)} (a server that speaks neither TLS 1.2 nor 1.3)`);
  const random = r.bytes(32);
  const sessionId = r.vec8();
  const suite = r.u16();
  const compression = r.u8();
  if (compression !== 0) throw new DecodeError(`ServerHello compression method ${compression}`);
  const extensions = r.remaining > 0 ? decodeExtensions(r.vec16(), 'ServerHello extensions') : new Map<number, Buffer>();
  r.end();
  return { random, sessionId, suite, extensions };
}

/** A list of 16-bit values in a vector with a 2-byte length. */
export function u16s(vector: Buffer, what: string): number[] {
  if (vector.length % 2 !== 0) throw new DecodeError(`${what}: odd length ${vector.length}`);
  const out: number[] = [];
  for (let i = 0; i < vector.length; i += 2) out.push(vector.readUInt16BE(i));
  return out;
}

/** server_name with one host_name (RFC 6066 §3). */
export function serverNameExtension(host: string): Extension {
  return { type: EXT.serverName, data: vec16(Buffer.concat([u8(0), vec16(Buffer.from(host, 'latin1'))])) };
}

/** The host_name of a server_name extension. */
export function decodeServerName(data: Buffer): string | undefined {
  const list = new Reader(new Reader(data, 'server_name').vec16(), 'server_name list');
  while (list.remaining > 0) {
    const type = list.u8();
    const name = list.vec16();
    if (type === 0) return name.toString('latin1');
  }
  return undefined;
}

/** A Certificate message. TLS 1.3 carries a request context and per-entry extensions. */
export interface CertificateMessage {
  context?: Buffer;
  certificates: Buffer[];
}

export function encodeCertificate(m: CertificateMessage, tls: '1.2' | '1.3'): Buffer {
  if (tls === '1.2') return vec24(Buffer.concat(m.certificates.map((c) => vec24(c))));
  return Buffer.concat([vec8(m.context ?? Buffer.alloc(0)), vec24(Buffer.concat(m.certificates.map((c) => Buffer.concat([vec24(c), vec16(Buffer.alloc(0))]))))]);
}

export function decodeCertificate(body: Buffer, tls: '1.2' | '1.3'): CertificateMessage {
  const r = new Reader(body, 'Certificate');
  const context = tls === '1.3' ? r.vec8() : undefined;
  const list = new Reader(r.vec24(), 'Certificate list');
  r.end();
  const certificates: Buffer[] = [];
  while (list.remaining > 0) {
    const der = list.vec24();
    if (der.length === 0) throw new DecodeError('Certificate: an empty certificate entry');
    certificates.push(der);
    if (tls === '1.3') list.vec16();
  }
  return { ...(context ? { context } : {}), certificates };
}

/** A Certificate message whose inner lengths lie: the list claims more bytes than follow (tlsfuzzer test_certificate_malformed). */
export function encodeMalformedCertificate(certificates: Buffer[], tls: '1.2' | '1.3', context: Buffer = Buffer.alloc(0)): Buffer {
  const good = encodeCertificate({ context, certificates }, tls);
  const listAt = tls === '1.3' ? 1 + context.length : 0;
  const bad = Buffer.from(good);
  // certificate_list claims 7 more bytes than the message holds; the first entry's length is left right.
  bad.writeUIntBE(good.readUIntBE(listAt, 3) + 7, listAt, 3);
  return bad;
}

/** What a CertificateRequest asks for. */
export interface CertificateRequest {
  /** TLS 1.3 certificate_request_context. */
  context?: Buffer;
  /** TLS 1.2 ClientCertificateType values. */
  certificateTypes?: number[];
  signatureAlgorithms: number[];
  signatureAlgorithmsCert?: number[];
  /** DER-encoded distinguished names, in the order sent. */
  certificateAuthorities: Buffer[];
}

function encodeAuthorities(dns: readonly Buffer[]): Buffer {
  return vec16(Buffer.concat(dns.map((dn) => vec16(dn))));
}

function decodeAuthorities(vector: Buffer): Buffer[] {
  const r = new Reader(vector, 'certificate_authorities');
  const out: Buffer[] = [];
  while (r.remaining > 0) out.push(Buffer.from(r.vec16()));
  return out;
}

export function encodeCertificateRequest(m: CertificateRequest, tls: '1.2' | '1.3'): Buffer {
  if (tls === '1.2') {
    return Buffer.concat([vec8(Buffer.from(m.certificateTypes ?? [1, 64])), u16List(m.signatureAlgorithms), encodeAuthorities(m.certificateAuthorities)]);
  }
  const extensions: Extension[] = [{ type: EXT.signatureAlgorithms, data: u16List(m.signatureAlgorithms) }];
  if (m.certificateAuthorities.length > 0) extensions.push({ type: EXT.certificateAuthorities, data: encodeAuthorities(m.certificateAuthorities) });
  return Buffer.concat([vec8(m.context ?? Buffer.alloc(0)), encodeExtensions(extensions)]);
}

export function decodeCertificateRequest(body: Buffer, tls: '1.2' | '1.3'): CertificateRequest {
  const r = new Reader(body, 'CertificateRequest');
  if (tls === '1.2') {
    const certificateTypes = [...r.vec8()];
    const signatureAlgorithms = u16s(r.vec16(), 'CertificateRequest signature algorithms');
    const certificateAuthorities = decodeAuthorities(r.vec16());
    r.end();
    return { certificateTypes, signatureAlgorithms, certificateAuthorities };
  }
  const context = Buffer.from(r.vec8());
  const extensions = decodeExtensions(r.vec16(), 'CertificateRequest extensions');
  r.end();
  const sigalgs = extensions.get(EXT.signatureAlgorithms);
  if (!sigalgs) throw new DecodeError('CertificateRequest without signature_algorithms (RFC 8446 §4.3.2 requires it)');
  const certSigalgs = extensions.get(EXT.signatureAlgorithmsCert);
  const cas = extensions.get(EXT.certificateAuthorities);
  return {
    context,
    signatureAlgorithms: u16s(new Reader(sigalgs, 'signature_algorithms').vec16(), 'signature_algorithms'),
    ...(certSigalgs ? { signatureAlgorithmsCert: u16s(new Reader(certSigalgs, 'signature_algorithms_cert').vec16(), 'signature_algorithms_cert') } : {}),
    certificateAuthorities: cas ? decodeAuthorities(new Reader(cas, 'certificate_authorities').vec16()) : [],
  };
}

/** A CertificateVerify (also the signed part of a TLS 1.2 ServerKeyExchange). */
export interface SignedPart {
  scheme: number;
  signature: Buffer;
}

export function encodeCertificateVerify(m: SignedPart): Buffer {
  return Buffer.concat([u16(m.scheme), vec16(m.signature)]);
}

export function decodeCertificateVerify(body: Buffer): SignedPart {
  const r = new Reader(body, 'CertificateVerify');
  const scheme = r.u16();
  const signature = Buffer.from(r.vec16());
  r.end();
  return { scheme, signature };
}

/** TLS 1.2 ECDHE ServerKeyExchange (RFC 8422 §5.4): named curve, point, signature. */
export interface ServerKeyExchange {
  group: number;
  point: Buffer;
  /** The ServerECDHParams bytes the signature covers (after the randoms). */
  params: Buffer;
  signed: SignedPart;
}

export function encodeServerKeyExchange(group: number, point: Buffer, signed: SignedPart): Buffer {
  return Buffer.concat([ecdhParams(group, point), encodeCertificateVerify(signed)]);
}

/** ServerECDHParams: curve_type named_curve (3), the group, the point. */
export function ecdhParams(group: number, point: Buffer): Buffer {
  return Buffer.concat([u8(3), u16(group), vec8(point)]);
}

export function decodeServerKeyExchange(body: Buffer): ServerKeyExchange {
  const r = new Reader(body, 'ServerKeyExchange');
  const curveType = r.u8();
  if (curveType !== 3) throw new DecodeError(`ServerKeyExchange curve_type ${curveType} (only named_curve is allowed)`);
  const group = r.u16();
  const point = Buffer.from(r.vec8());
  const params = ecdhParams(group, point);
  const scheme = r.u16();
  const signature = Buffer.from(r.vec16());
  r.end();
  return { group, point, params, signed: { scheme, signature } };
}

/** key_share of a ClientHello: the list of (group, public value). */
export function encodeClientKeyShares(shares: readonly { group: number; public: Buffer }[]): Buffer {
  return vec16(Buffer.concat(shares.map((s) => Buffer.concat([u16(s.group), vec16(s.public)]))));
}

export function decodeClientKeyShares(data: Buffer): { group: number; public: Buffer }[] {
  const r = new Reader(new Reader(data, 'key_share').vec16(), 'key_share list');
  const out: { group: number; public: Buffer }[] = [];
  while (r.remaining > 0) out.push({ group: r.u16(), public: Buffer.from(r.vec16()) });
  return out;
}

/** key_share of a ServerHello (one entry) or of a HelloRetryRequest (the group alone). */
export function decodeServerKeyShare(data: Buffer, retry: boolean): { group: number; public?: Buffer } {
  const r = new Reader(data, 'key_share');
  const group = r.u16();
  if (retry) {
    r.end();
    return { group };
  }
  const pub = Buffer.from(r.vec16());
  r.end();
  return { group, public: pub };
}

/** The selected version of a ServerHello's supported_versions. */
export function decodeSelectedVersion(data: Buffer): number {
  const r = new Reader(data, 'supported_versions');
  const v = r.u16();
  r.end();
  return v;
}
