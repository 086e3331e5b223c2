// The wire-level TLS client: a TLS 1.3 and TLS 1.2 (ECDHE, AES-GCM) handshake
// written out message by message, so each client-authentication step can be
// done right or wrong on purpose. One call, one connection, one HTTP/1.1
// request; every wait bounded by one deadline; never throws — the result says
// what happened (alert received, handshake completed, response, what the
// server's CertificateRequest asked for, or a local error).
import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import net from 'node:net';
import { ALERTS, parseResponse } from '../probe.ts';
import { DecodeError, u16, u16List, vec8 } from './bytes.ts';
import {
  certificateVerifyContent, describeKey, generateKeyShare, GROUPS, groupOf, OFFERED_SCHEMES, schemeName, schemesFor,
  SCHEMES, signWith, unofferedSchemesFor, verifyWith, type GroupName, type KeyShare,
} from './crypto.ts';
import {
  finished12, finishedMac, keyBlock12, masterSecret12, tls13ApplicationSecrets, tls13HandshakeSecrets, trafficKeys, Transcript, type HashName,
} from './key-schedule.ts';
import {
  decodeCertificate, decodeCertificateRequest, decodeCertificateVerify, decodeExtensions, decodeSelectedVersion, decodeServerHello,
  decodeServerKeyExchange, decodeServerKeyShare, encodeCertificate, encodeCertificateVerify, encodeClientHello, encodeClientKeyShares,
  encodeMalformedCertificate, EXT, HRR_RANDOM, HS, HS_NAMES, serverNameExtension, SUITES, suiteParams,
  type CertificateRequest, type Extension, type SuiteParams,
} from './messages.ts';
import { CONTENT, handshakeMessage, RecordError, RecordLayer, RecordTransport, Tls12Cipher, Tls13Cipher, TransportEnded, type RecordEvent } from './record.ts';
import { chainProblem, describeName, pemCertificates } from './x509.ts';
import { PROBE_TIMEOUT_MS } from '../../run/bounds.ts';

/** How the client departs from a correct client-authentication step. */
export type Deviation =
  | 'none'
  /** Send the Certificate, then Finished without a CertificateVerify. */
  | 'omit-certificate-verify'
  /** Sign the CertificateVerify with `otherKey` instead of the certificate's key. */
  | 'wrong-key'
  /** Flip the lowest bit of the signature's last byte. */
  | 'flip-signature-bit'
  /** Sign with a scheme the key can produce that the CertificateRequest did not list. */
  | 'unoffered-scheme'
  /** Sign the TLS 1.3 CertificateVerify with rsa_pkcs1_sha256 (allowed only in certificates there). */
  | 'rsa-pkcs1-in-tls13'
  /** Answer the CertificateRequest with an empty Certificate although an identity is configured. */
  | 'empty-certificate'
  /** Send a Certificate whose certificate_list length overruns the message. */
  | 'malformed-certificate';

export const DEVIATIONS: readonly Deviation[] = [
  'none', 'omit-certificate-verify', 'wrong-key', 'flip-signature-bit', 'unoffered-scheme', 'rsa-pkcs1-in-tls13', 'empty-certificate', 'malformed-certificate',
];

/** One wire-level connection. */
export interface WireOptions {
  port: number;
  host?: string;
  tls: '1.2' | '1.3';
  /** SNI; default 'localhost'; false sends none. */
  servername?: string | false;
  /** PEM of the CA that issued the server certificate; the chain and name are checked against it. */
  serverCa: string;
  /** Certificate chain (leaf first) and private key, PEM; absent = no certificate. */
  identity?: { cert: string; key: string };
  deviation?: Deviation;
  /** With 'wrong-key': the key that signs instead (PEM). */
  otherKey?: string;
  /** Which CertificateRequest the deviation answers: the handshake's, a post-handshake one, or any (default). */
  deviateAt?: 'handshake' | 'post-handshake' | 'any';
  /** TLS 1.3: offer post_handshake_auth (RFC 8446 §4.2.6); default true. */
  postHandshakeAuth?: boolean;
  /** Key-share groups, the first gets a share in TLS 1.3; default x25519 then secp256r1. */
  groups?: GroupName[];
  /** The request sent once the handshake completes; default GET /. */
  request?: { path?: string; method?: string; headers?: Record<string, string> };
  /** Token that marks the protected resource. */
  canary: string;
  /** Bound on the whole connection; default 5000 ms. */
  timeoutMs?: number;
}

/** What a CertificateRequest asked for. */
export interface CertificateRequestSeen {
  /** 'handshake', or 'post-handshake' (TLS 1.3 §4.6.2). */
  phase: 'handshake' | 'post-handshake';
  /** certificate_authorities, readable, in the order sent. */
  certificateAuthorities: string[];
  /** The same names, DER, hex. */
  certificateAuthoritiesDer: string[];
  signatureAlgorithms: string[];
  signatureAlgorithmsCert?: string[];
  /** TLS 1.2 ClientCertificateType values. */
  certificateTypes?: number[];
}

/** What happened on the connection. */
export interface WireResult {
  tls: '1.2' | '1.3';
  /** Our side sent Finished, and (TLS 1.2) verified the server's. */
  handshakeCompleted: boolean;
  /** An alert the server sent (never one this side raised). */
  alert?: { name: string; description: number; fatal: boolean; afterHandshake: boolean };
  /** How the connection ended when it ended without a response or alert. */
  ending?: 'closed' | 'reset' | 'timeout';
  /** A local failure: a message that did not decode, a server that did not verify, a timeout. */
  error?: string;
  certificateRequests: CertificateRequestSeen[];
  /** The deviation asked for, whether it was carried out, and how. */
  deviation: { name: Deviation; applied: boolean; detail?: string };
  /** Whether a non-empty Certificate went out. */
  certificateSent: boolean;
  /** The scheme of the CertificateVerify we sent. */
  signatureScheme?: string;
  /** The scheme the server signed its CertificateVerify / ServerKeyExchange with. */
  serverSignatureScheme?: string;
  cipherSuite?: string;
  group?: string;
  /** TLS 1.2: whether the extended master secret was negotiated. */
  extendedMasterSecret?: boolean;
  /** TLS 1.2: the server asked to renegotiate (refused with no_renegotiation). */
  renegotiationRequested?: boolean;
  /** TLS 1.3: a post-handshake CertificateRequest arrived although post_handshake_auth was not offered. */
  unsolicitedPostHandshakeRequest?: boolean;
  requestSent: boolean;
  response?: { status: number; bodyExcerpt: string; canarySeen: boolean };
  /** The messages in order, "> ClientHello", "< ServerHello", for reports. */
  trace: string[];
  ms: number;
}

const MAX_BODY = 1 << 20;

/** Raised to end the state machine when the server sent an alert. */
class AlertReceived extends Error {}

/** Everything one run of the state machine shares. */
interface Session {
  opts: WireOptions;
  layer: RecordLayer;
  transcript: Transcript;
  result: WireResult;
  deadline: number;
  key?: KeyObject;
  chain: Buffer[];
  anchors: X509Certificate[];
  /** TLS 1.3 after the handshake: what post-handshake authentication needs. */
  traffic13?: Traffic13;
}

/** Connects, handshakes, sends the request and reads the response; never throws. */
export async function wireConnect(opts: WireOptions): Promise<WireResult> {
  const started = performance.now();
  const deadline = started + (opts.timeoutMs ?? PROBE_TIMEOUT_MS);
  const result: WireResult = {
    tls: opts.tls, handshakeCompleted: false, certificateRequests: [], deviation: { name: opts.deviation ?? 'none', applied: false },
    certificateSent: false, requestSent: false, trace: [], ms: 0,
  };
  let socket: net.Socket | undefined;
  try {
    const identity = opts.identity ? { key: createPrivateKey(opts.identity.key), chain: pemCertificates(opts.identity.cert) } : undefined;
    socket = await connectWithin(opts.host ?? '127.0.0.1', opts.port, deadline);
    const layer = new RecordLayer(new RecordTransport(socket));
    const s: Session = {
      opts, layer, transcript: new Transcript(), result, deadline,
      ...(identity ? { key: identity.key } : {}), chain: identity?.chain ?? [],
      anchors: pemCertificates(opts.serverCa).map((der) => new X509Certificate(der)),
    };
    if (opts.tls === '1.3') await handshake13(s);
    else await handshake12(s);
    await exchange(s);
  } catch (error) {
    record(result, error);
  } finally {
    socket?.destroy();
    result.ms = Math.round(performance.now() - started);
  }
  return result;
}

/** Files a thrown value into the result: transport endings and alerts are not local errors. */
function record(result: WireResult, error: unknown): void {
  if (error instanceof AlertReceived) return;
  if (error instanceof TransportEnded) {
    if (error.how === 'timeout') result.error ??= `timeout: no answer before the deadline ${result.handshakeCompleted ? 'after the handshake' : 'during the handshake'}`;
    result.ending ??= error.how;
    return;
  }
  const kind = error instanceof DecodeError ? 'decode error' : error instanceof RecordError ? 'record error' : 'error';
  result.error ??= `${kind}: ${error instanceof Error ? error.message : String(error)}`;
}

function connectWithin(host: string, port: number, deadline: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => { socket.destroy(); reject(new TransportEnded('timeout', 'connect timed out')); }, Math.max(0, deadline - performance.now()));
    socket.once('connect', () => { clearTimeout(timer); socket.removeAllListeners('error'); resolve(socket); });
    socket.once('error', (err: NodeJS.ErrnoException) => { clearTimeout(timer); reject(new Error(`cannot connect to ${host}:${port}: ${err.code ?? err.message}`)); });
  });
}

/** Sends a handshake message, adds it to the transcript and the trace. */
function sendHandshake(s: Session, type: number, body: Buffer, note = ''): Buffer {
  const raw = handshakeMessage(type, body);
  s.transcript.add(raw);
  s.layer.send(CONTENT.handshake, raw);
  s.result.trace.push(`> ${HS_NAMES[type] ?? type}${note}`);
  return raw;
}

/** The next event; an alert ends the run (recorded), CCS is noted. */
async function next(s: Session): Promise<RecordEvent> {
  for (;;) {
    const event = await s.layer.receive(s.deadline);
    if (event.kind === 'alert') {
      const name = ALERTS[event.description] ?? `alert_${event.description}`;
      s.result.trace.push(`< alert ${name}`);
      // close_notify is an ending, not a refusal alert, unless nothing else came.
      s.result.alert = { name, description: event.description, fatal: event.level === 2, afterHandshake: s.result.handshakeCompleted };
      throw new AlertReceived(name);
    }
    if (event.kind === 'handshake') s.result.trace.push(`< ${HS_NAMES[event.type] ?? event.type}`);
    if (event.kind === 'ccs') s.result.trace.push('< ChangeCipherSpec');
    return event;
  }
}

/** The next handshake message, which must be of `type` (or one of `types`). */
async function expectMessage(s: Session, ...types: number[]): Promise<{ type: number; body: Buffer; raw: Buffer }> {
  for (;;) {
    const event = await next(s);
    if (event.kind === 'ccs' && s.opts.tls === '1.3') continue;
    if (event.kind !== 'handshake') throw new DecodeError(`expected ${types.map((t) => HS_NAMES[t]).join(' or ')}, received ${event.kind === 'data' ? 'application data' : event.kind}`);
    if (!types.includes(event.type)) throw new DecodeError(`expected ${types.map((t) => HS_NAMES[t]).join(' or ')}, received ${HS_NAMES[event.type] ?? `message type ${event.type}`}`);
    return event;
  }
}

/** The CertificateRequest a server may send before `then` (noted and added to the transcript), and the `then` message. */
async function optionalCertificateRequest(s: Session, tls: '1.2' | '1.3', then: number): Promise<{ request: CertificateRequest | undefined; message: { type: number; body: Buffer; raw: Buffer } }> {
  const first = await expectMessage(s, HS.certificateRequest, then);
  if (first.type !== HS.certificateRequest) return { request: undefined, message: first };
  const request = decodeCertificateRequest(first.body, tls);
  noteRequest(s, request, 'handshake');
  s.transcript.add(first.raw);
  return { request, message: await expectMessage(s, then) };
}

/** Records what a CertificateRequest asked for. */
function noteRequest(s: Session, req: CertificateRequest, phase: 'handshake' | 'post-handshake'): void {
  s.result.certificateRequests.push({
    phase,
    certificateAuthorities: req.certificateAuthorities.map(describeName),
    certificateAuthoritiesDer: req.certificateAuthorities.map((dn) => dn.toString('hex')),
    signatureAlgorithms: req.signatureAlgorithms.map(schemeName),
    ...(req.signatureAlgorithmsCert ? { signatureAlgorithmsCert: req.signatureAlgorithmsCert.map(schemeName) } : {}),
    ...(req.certificateTypes ? { certificateTypes: req.certificateTypes } : {}),
  });
}

/** Checks the server's chain against the case root and its name (localhost / 127.0.0.1). */
function checkServerChain(s: Session, chain: Buffer[]): X509Certificate {
  const host = s.opts.servername === false ? undefined : s.opts.servername ?? 'localhost';
  const problem = chainProblem(chain, s.anchors, { ...(host !== undefined ? { host } : {}), ip: s.opts.host ?? '127.0.0.1' });
  if (problem !== undefined) {
    s.layer.sendAlert(48);
    throw new Error(`the server certificate does not verify: ${problem}`);
  }
  return new X509Certificate(chain[0] ?? Buffer.alloc(0));
}

function clientExtensions(s: Session, extra: Extension[]): Extension[] {
  const groups = s.opts.groups ?? ['x25519', 'secp256r1'];
  const name = s.opts.servername === false ? undefined : s.opts.servername ?? 'localhost';
  return [
    ...(name !== undefined ? [serverNameExtension(name)] : []),
    { type: EXT.supportedGroups, data: u16List(groups.map((g) => GROUPS[g])) },
    { type: EXT.signatureAlgorithms, data: u16List(OFFERED_SCHEMES) },
    ...extra,
  ];
}

/** Whether the deviation applies to a CertificateRequest of this phase. */
function deviating(s: Session, phase: 'handshake' | 'post-handshake'): Deviation {
  const at = s.opts.deviateAt ?? 'any';
  return at === 'any' || at === phase ? s.opts.deviation ?? 'none' : 'none';
}

/** What the client's Certificate left for its CertificateVerify to do. */
interface CertificatePlan {
  request: CertificateRequest;
  deviation: Deviation;
  /** Whether a CertificateVerify follows. */
  verify: boolean;
}

/** The client's Certificate in answer to a CertificateRequest, per the deviation. */
function sendClientCertificate(s: Session, req: CertificateRequest, phase: 'handshake' | 'post-handshake'): CertificatePlan {
  const tls = s.opts.tls;
  const deviation = deviating(s, phase);
  const context = req.context ?? Buffer.alloc(0);
  if (!s.key || s.chain.length === 0 || deviation === 'empty-certificate') {
    if (deviation === 'empty-certificate') s.result.deviation = { name: deviation, applied: true, detail: 'sent an empty Certificate although a certificate was configured' };
    sendHandshake(s, HS.certificate, encodeCertificate({ context, certificates: [] }, tls), ' (empty)');
    return { request: req, deviation, verify: false };
  }
  if (deviation === 'malformed-certificate') {
    sendHandshake(s, HS.certificate, encodeMalformedCertificate(s.chain, tls, context), ' (certificate_list length overruns the message by 7 bytes)');
    s.result.deviation = { name: deviation, applied: true, detail: 'sent a Certificate whose certificate_list length claims 7 bytes more than the message holds' };
  } else {
    sendHandshake(s, HS.certificate, encodeCertificate({ context, certificates: s.chain }, tls), ` (${s.chain.length} certificate${s.chain.length === 1 ? '' : 's'})`);
  }
  s.result.certificateSent = true;
  if (deviation === 'omit-certificate-verify') {
    s.result.deviation = { name: deviation, applied: true, detail: 'sent the Certificate and no CertificateVerify' };
    return { request: req, deviation, verify: false };
  }
  return { request: req, deviation, verify: true };
}

/** The client's CertificateVerify over `signedContent()`, per the deviation. */
function sendClientCertificateVerify(s: Session, plan: CertificatePlan, signedContent: () => Buffer): void {
  if (!plan.verify || !s.key) return;
  const tls = s.opts.tls;
  const { deviation } = plan;
  const applied = (detail: string): void => { s.result.deviation = { name: deviation, applied: true, detail }; };
  const offered = plan.request.signatureAlgorithms;
  const usable = schemesFor(s.key, tls);
  let scheme = usable.find((c) => offered.includes(c)) ?? usable[0];
  if (deviation === 'unoffered-scheme') {
    const unoffered = unofferedSchemesFor(s.key, offered)[0];
    if (unoffered === undefined) {
      s.result.deviation = { name: deviation, applied: false, detail: `the server offered every scheme a ${describeKey(s.key)} key can sign with` };
    } else {
      scheme = unoffered;
      applied(`signed with ${schemeName(unoffered)}, which the CertificateRequest did not list`);
    }
  }
  if (deviation === 'rsa-pkcs1-in-tls13') {
    if (s.key.asymmetricKeyType !== 'rsa') throw new Error(`deviation rsa-pkcs1-in-tls13 needs an RSA client key, got ${describeKey(s.key)}`);
    scheme = SCHEMES.rsa_pkcs1_sha256;
    applied(`signed with rsa_pkcs1_sha256${offered.includes(SCHEMES.rsa_pkcs1_sha256) ? ' (listed by the server for certificates)' : ' (not listed by the server)'}`);
  }
  if (scheme === undefined) throw new Error(`no signature scheme for a ${describeKey(s.key)} key under TLS ${tls}`);
  let signer = s.key;
  if (deviation === 'wrong-key') {
    if (s.opts.otherKey === undefined) throw new Error('deviation wrong-key needs otherKey');
    signer = createPrivateKey(s.opts.otherKey);
    applied(`signed with another ${describeKey(signer)} key than the certificate's`);
  }
  const signature = signWith(scheme, signer, signedContent());
  if (deviation === 'flip-signature-bit') {
    signature[signature.length - 1] = (signature[signature.length - 1] ?? 0) ^ 0x01;
    applied("flipped the lowest bit of the signature's last byte");
  }
  s.result.signatureScheme = schemeName(scheme);
  sendHandshake(s, HS.certificateVerify, encodeCertificateVerify({ scheme, signature }), ` (${schemeName(scheme)})`);
}

interface Traffic13 {
  hash: HashName;
  suite: SuiteParams;
  clientApplication: Buffer;
}

/** The TLS 1.3 handshake (RFC 8446 §2, full handshake with optional HelloRetryRequest). */
async function handshake13(s: Session): Promise<void> {
  const groups = s.opts.groups ?? ['x25519', 'secp256r1'];
  const random = randomBytes(32);
  const sessionId = randomBytes(32);
  const hello = (share: KeyShare, cookie?: Buffer): Buffer => encodeClientHello({
    random, sessionId, suites: [SUITES.TLS_AES_128_GCM_SHA256, SUITES.TLS_AES_256_GCM_SHA384],
    extensions: clientExtensions(s, [
      { type: EXT.supportedVersions, data: vec8(u16(0x0304)) },
      { type: EXT.keyShare, data: encodeClientKeyShares([{ group: GROUPS[share.group], public: share.public }]) },
      { type: EXT.pskKeyExchangeModes, data: vec8(Buffer.from([1])) },
      ...(cookie ? [{ type: EXT.cookie, data: cookie }] : []),
      ...(s.opts.postHandshakeAuth !== false ? [{ type: EXT.postHandshakeAuth, data: Buffer.alloc(0) }] : []),
    ]),
  });
  let share = generateKeyShare(groups[0] ?? 'x25519');
  sendHandshake(s, HS.clientHello, hello(share), ` (TLS 1.3, key share ${share.group}${s.opts.postHandshakeAuth !== false ? ', post_handshake_auth' : ''})`);
  let sh = await expectMessage(s, HS.serverHello);
  let hello1 = decodeServerHello(sh.body);
  if (hello1.random.equals(HRR_RANDOM)) {
    // HelloRetryRequest: the transcript restarts from the hash of the first ClientHello.
    const suite = suiteParams(hello1.suite);
    if (!suite) throw new DecodeError(`HelloRetryRequest with unknown cipher suite 0x${hello1.suite.toString(16)}`);
    s.transcript.replaceFirstWithMessageHash(suite.hash);
    s.transcript.add(sh.raw);
    const ks = hello1.extensions.get(EXT.keyShare);
    const group = ks ? groupOf(decodeServerKeyShare(ks, true).group) : undefined;
    if (!group) throw new DecodeError('HelloRetryRequest asks for a group this client did not offer');
    share = generateKeyShare(group);
    sendHandshake(s, HS.clientHello, hello(share, hello1.extensions.get(EXT.cookie)), ` (retry, key share ${group})`);
    sh = await expectMessage(s, HS.serverHello);
    hello1 = decodeServerHello(sh.body);
  }
  s.transcript.add(sh.raw);
  const versionExt = hello1.extensions.get(EXT.supportedVersions);
  if (!versionExt || decodeSelectedVersion(versionExt) !== 0x0304) throw new Error('the server did not select TLS 1.3');
  const suite = suiteParams(hello1.suite);
  if (!suite || suite.tls !== '1.3') throw new DecodeError(`ServerHello selects cipher suite 0x${hello1.suite.toString(16)}, which was not offered`);
  const ks = hello1.extensions.get(EXT.keyShare);
  const serverShare = ks ? decodeServerKeyShare(ks, false) : undefined;
  if (!serverShare?.public || serverShare.group !== GROUPS[share.group]) throw new DecodeError('ServerHello key_share is missing or of another group');
  s.result.cipherSuite = suite.name;
  s.result.group = share.group;
  const hash = suite.hash;
  const secrets = tls13HandshakeSecrets(hash, share.agree(serverShare.public), s.transcript.hash(hash));
  const serverHs = trafficKeys(hash, secrets.serverHandshake, suite.keyLength);
  s.layer.tls13 = true;
  s.layer.reader = new Tls13Cipher(suite.cipher, serverHs.key, serverHs.iv);

  const ee = await expectMessage(s, HS.encryptedExtensions);
  decodeExtensions(ee.body.subarray(2), 'EncryptedExtensions');
  s.transcript.add(ee.raw);
  const { request, message } = await optionalCertificateRequest(s, '1.3', HS.certificate);
  const serverChain = decodeCertificate(message.body, '1.3').certificates;
  s.transcript.add(message.raw);
  const serverCert = checkServerChain(s, serverChain);
  const cv = await expectMessage(s, HS.certificateVerify);
  const serverSig = decodeCertificateVerify(cv.body);
  s.result.serverSignatureScheme = schemeName(serverSig.scheme);
  if (!verifyWith(serverSig.scheme, serverCert.publicKey, certificateVerifyContent('server', s.transcript.hash(hash)), serverSig.signature)) {
    s.layer.sendAlert(51);
    throw new Error(`the server's CertificateVerify (${schemeName(serverSig.scheme)}) does not verify with its certificate's key`);
  }
  s.transcript.add(cv.raw);
  const fin = await expectMessage(s, HS.finished);
  if (!fin.body.equals(finishedMac(hash, secrets.serverHandshake, s.transcript.hash(hash)))) {
    s.layer.sendAlert(51);
    throw new Error("the server's Finished does not verify");
  }
  s.transcript.add(fin.raw);
  const app = tls13ApplicationSecrets(hash, secrets.master, s.transcript.hash(hash));
  // The server writes under its application keys from here: an alert about our certificate comes that way.
  const serverApp = trafficKeys(hash, app.server, suite.keyLength);
  s.layer.reader = new Tls13Cipher(suite.cipher, serverApp.key, serverApp.iv);
  // Middlebox compatibility (RFC 8446 §D.4): one plaintext ChangeCipherSpec before our encrypted flight.
  s.layer.send(CONTENT.changeCipherSpec, Buffer.from([1]));
  const clientHs = trafficKeys(hash, secrets.clientHandshake, suite.keyLength);
  s.layer.writer = new Tls13Cipher(suite.cipher, clientHs.key, clientHs.iv);
  if (request) {
    const plan = sendClientCertificate(s, request, 'handshake');
    sendClientCertificateVerify(s, plan, () => certificateVerifyContent('client', s.transcript.hash(hash)));
  }
  sendHandshake(s, HS.finished, finishedMac(hash, secrets.clientHandshake, s.transcript.hash(hash)));
  const clientApp = trafficKeys(hash, app.client, suite.keyLength);
  s.layer.writer = new Tls13Cipher(suite.cipher, clientApp.key, clientApp.iv);
  s.result.handshakeCompleted = true;
  s.traffic13 = { hash, suite, clientApplication: app.client };
}

/** The TLS 1.2 ECDHE handshake (RFC 5246 §7.3, RFC 8422, RFC 7627). */
async function handshake12(s: Session): Promise<void> {
  const groups = s.opts.groups ?? ['x25519', 'secp256r1'];
  const clientRandom = randomBytes(32);
  sendHandshake(s, HS.clientHello, encodeClientHello({
    random: clientRandom, sessionId: Buffer.alloc(0),
    suites: [SUITES.ECDHE_ECDSA_AES128_GCM_SHA256, SUITES.ECDHE_RSA_AES128_GCM_SHA256, SUITES.ECDHE_ECDSA_AES256_GCM_SHA384, SUITES.ECDHE_RSA_AES256_GCM_SHA384],
    extensions: clientExtensions(s, [
      { type: EXT.ecPointFormats, data: vec8(Buffer.from([0])) },
      { type: EXT.extendedMasterSecret, data: Buffer.alloc(0) },
      { type: EXT.renegotiationInfo, data: vec8(Buffer.alloc(0)) },
    ]).map((e) => (e.type === EXT.supportedGroups ? { type: e.type, data: u16List(groups.map((g) => GROUPS[g])) } : e)),
  }), ' (TLS 1.2, ECDHE AES-GCM, extended_master_secret)');
  const sh = await expectMessage(s, HS.serverHello);
  const hello = decodeServerHello(sh.body);
  s.transcript.add(sh.raw);
  if (hello.extensions.has(EXT.supportedVersions)) throw new Error('the server selected TLS 1.3 in a TLS 1.2-only handshake');
  const suite = suiteParams(hello.suite);
  if (!suite || suite.tls !== '1.2') throw new DecodeError(`ServerHello selects cipher suite 0x${hello.suite.toString(16)}, which was not offered`);
  s.result.cipherSuite = suite.name;
  const ems = hello.extensions.has(EXT.extendedMasterSecret);
  s.result.extendedMasterSecret = ems;
  const hash = suite.hash;

  const certMsg = await expectMessage(s, HS.certificate);
  const serverChain = decodeCertificate(certMsg.body, '1.2').certificates;
  s.transcript.add(certMsg.raw);
  const serverCert = checkServerChain(s, serverChain);
  const skeMsg = await expectMessage(s, HS.serverKeyExchange);
  const ske = decodeServerKeyExchange(skeMsg.body);
  s.transcript.add(skeMsg.raw);
  s.result.serverSignatureScheme = schemeName(ske.signed.scheme);
  if (!verifyWith(ske.signed.scheme, serverCert.publicKey, Buffer.concat([clientRandom, hello.random, ske.params]), ske.signed.signature)) {
    s.layer.sendAlert(51);
    throw new Error(`the ServerKeyExchange signature (${schemeName(ske.signed.scheme)}) does not verify with the server certificate's key`);
  }
  const group = groupOf(ske.group);
  if (!group || !groups.includes(group)) throw new DecodeError(`ServerKeyExchange uses group 0x${ske.group.toString(16)}, which was not offered`);
  s.result.group = group;
  const { request, message } = await optionalCertificateRequest(s, '1.2', HS.serverHelloDone);
  if (message.body.length !== 0) throw new DecodeError('ServerHelloDone with a body');
  s.transcript.add(message.raw);

  const share = generateKeyShare(group);
  const premaster = share.agree(ske.point);
  // The client's Certificate comes before ClientKeyExchange, its CertificateVerify after (RFC 5246 §7.3).
  if (request && deviating(s, 'handshake') === 'rsa-pkcs1-in-tls13') throw new Error('deviation rsa-pkcs1-in-tls13 applies to TLS 1.3 only');
  const plan = request ? sendClientCertificate(s, request, 'handshake') : undefined;
  sendHandshake(s, HS.clientKeyExchange, vec8(share.public), ` (${group})`);
  // The extended master secret's session hash runs through ClientKeyExchange (RFC 7627 §3).
  const sessionHash = s.transcript.hash(hash);
  if (plan) sendClientCertificateVerify(s, plan, () => s.transcript.bytes());
  const master = masterSecret12(hash, premaster, ems ? { sessionHash } : { clientRandom, serverRandom: hello.random });
  const keys = keyBlock12(hash, master, clientRandom, hello.random, suite.keyLength);
  s.layer.send(CONTENT.changeCipherSpec, Buffer.from([1]));
  s.result.trace.push('> ChangeCipherSpec');
  s.layer.writer = new Tls12Cipher(suite.cipher, keys.clientKey, keys.clientSalt);
  sendHandshake(s, HS.finished, finished12(hash, master, 'client', s.transcript.hash(hash)));
  for (;;) {
    const event = await next(s);
    if (event.kind === 'ccs') break;
    if (event.kind === 'handshake' && event.type === HS.newSessionTicket) { s.transcript.add(event.raw); continue; }
    throw new DecodeError(`expected ChangeCipherSpec, received ${event.kind === 'handshake' ? HS_NAMES[event.type] ?? event.type : event.kind}`);
  }
  s.layer.reader = new Tls12Cipher(suite.cipher, keys.serverKey, keys.serverSalt);
  const expected = finished12(hash, master, 'server', s.transcript.hash(hash));
  const fin = await expectMessage(s, HS.finished);
  if (!fin.body.equals(expected)) {
    s.layer.sendAlert(51);
    throw new Error("the server's Finished does not verify");
  }
  s.transcript.add(fin.raw);
  s.result.handshakeCompleted = true;
}

/** Sends the request and reads the response, answering post-handshake messages on the way. */
async function exchange(s: Session): Promise<void> {
  const req = s.opts.request ?? {};
  const headers: Record<string, string> = { Host: `localhost:${s.opts.port}`, 'User-Agent': 'mtls-conformance-wire', Connection: 'close', ...req.headers };
  const head = `${req.method ?? 'GET'} ${req.path ?? '/'} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  s.layer.send(CONTENT.applicationData, Buffer.from(head, 'latin1'));
  s.result.requestSent = true;
  s.result.trace.push(`> ${req.method ?? 'GET'} ${req.path ?? '/'}`);
  let body = Buffer.alloc(0);
  const finish = (atEnd: boolean): boolean => {
    const parsed = parseResponse(body, atEnd);
    if (!parsed) return false;
    const text = parsed.body.toString('utf8');
    s.result.response = { status: parsed.status, bodyExcerpt: text.slice(0, 200), canarySeen: text.includes(s.opts.canary) };
    s.result.trace.push(`< HTTP ${parsed.status}`);
    return true;
  };
  try {
    for (;;) {
      const event = await next(s);
      if (event.kind === 'data') {
        body = Buffer.concat([body, event.data]);
        if (body.length > MAX_BODY) throw new Error(`response larger than ${MAX_BODY} bytes`);
        if (finish(false)) return;
      } else if (event.kind === 'handshake') {
        postHandshake(s, event);
      } else {
        throw new DecodeError('ChangeCipherSpec after the handshake');
      }
    }
  } catch (error) {
    // A response cut short by close_notify or the end of the connection still counts.
    if (body.length > 0 && (error instanceof TransportEnded || (error instanceof AlertReceived && s.result.alert?.description === 0))) {
      if (finish(true)) {
        if (s.result.alert?.description === 0) delete s.result.alert;
        return;
      }
    }
    throw error;
  }
}

/** A handshake message after the handshake: tickets are dropped, a TLS 1.3 CertificateRequest is answered, renegotiation refused. */
function postHandshake(s: Session, event: { type: number; body: Buffer; raw: Buffer }): void {
  if (event.type === HS.newSessionTicket) return;
  if (s.opts.tls === '1.2') {
    if (event.type === HS.helloRequest) {
      s.result.renegotiationRequested = true;
      // no_renegotiation, a warning: the server decides what to do without a renegotiated certificate.
      s.layer.sendAlert(100, 1);
      s.result.trace.push('> alert no_renegotiation (warning)');
      return;
    }
    throw new DecodeError(`unexpected ${HS_NAMES[event.type] ?? event.type} after the handshake`);
  }
  if (event.type === HS.keyUpdate) throw new Error('KeyUpdate is not supported by this client');
  if (event.type !== HS.certificateRequest) throw new DecodeError(`unexpected ${HS_NAMES[event.type] ?? event.type} after the handshake`);
  const request = decodeCertificateRequest(event.body, '1.3');
  noteRequest(s, request, 'post-handshake');
  if (s.opts.postHandshakeAuth === false) {
    // RFC 8446 §4.6.2: a client that did not offer post_handshake_auth answers with unexpected_message.
    s.result.unsolicitedPostHandshakeRequest = true;
    s.layer.sendAlert(10);
    s.result.trace.push('> alert unexpected_message');
    throw new Error('the server sent a post-handshake CertificateRequest although the client did not offer post_handshake_auth');
  }
  const traffic = s.traffic13;
  if (!traffic) throw new Error('no TLS 1.3 traffic secrets');
  // The post-handshake transcript: the handshake through client Finished, then this request and the answer (RFC 8446 §4.4).
  const transcript = new Transcript();
  transcript.add(s.transcript.bytes(), event.raw);
  const saved = s.transcript;
  s.transcript = transcript;
  try {
    const plan = sendClientCertificate(s, request, 'post-handshake');
    sendClientCertificateVerify(s, plan, () => certificateVerifyContent('client', transcript.hash(traffic.hash)));
    sendHandshake(s, HS.finished, finishedMac(traffic.hash, traffic.clientApplication, transcript.hash(traffic.hash)), ' (post-handshake)');
  } finally {
    s.transcript = saved;
  }
}
