// Client-certificate OCSP for the invoice server (RFC 6960): for each
// certificate of the verified chain below the trust anchor, ask the configured
// responder over node:http (bounded), verify who signed the answer and with
// which key, check the CertID, the status and the freshness, and refuse unless
// every answer says good. ASN.1 through @peculiar/asn1-*, signatures through
// node:crypto. A failure to learn the status refuses the client (fails closed).
import { X509Certificate, createHash, randomBytes, verify } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  BasicOCSPResponse, CertID, Nonce, OCSPRequest, OCSPResponse, OCSPResponseStatus, Request, TBSRequest,
  id_kp_OCSPSigning, id_pkix_ocsp_basic, id_pkix_ocsp_nonce,
} from '@peculiar/asn1-ocsp';
import { AlgorithmIdentifier, Extension } from '@peculiar/asn1-x509';
import { parsedCertificate } from './parsed-certificates.ts';

/** How the invoice server checks client certificates with OCSP; SECURE_OCSP is the reference. */
export interface OcspCheckOptions {
  /** 'chain': every certificate below the trust anchor; 'leaf': the client certificate only. */
  scope: 'chain' | 'leaf';
  /** Refuse when the status cannot be learned (responder down, garbage, untrusted or stale answer); false = soft-fail. */
  failClosed: boolean;
  /** Check that the answer is signed by the issuer or by a responder the issuer delegated (EKU OCSPSigning). */
  verifySigner: boolean;
  /** Accept answers of a delegated responder (false: only the issuer's own key, which refuses the usual deployment). */
  acceptDelegated: boolean;
  /** Refuse answers whose nextUpdate has passed (beyond the clock skew). */
  checkFreshness: boolean;
  /** Treat status unknown as a refusal (false: only revoked refuses). */
  refuseUnknown: boolean;
  /** Check resumed sessions too (false: trust the status seen at the full handshake). */
  checkResumed: boolean;
  /** Bound on one exchange with the responder. */
  timeoutMs: number;
}

/** The reference behaviour. */
export const SECURE_OCSP: OcspCheckOptions = {
  scope: 'chain', failClosed: true, verifySigner: true, acceptDelegated: true, checkFreshness: true, refuseUnknown: true, checkResumed: true, timeoutMs: 3_000,
};

/** Tolerated clock difference with the responder (OpenSSL's default for OCSP_check_validity). */
const SKEW_MS = 5 * 60_000;
/** An answer without nextUpdate is accepted this long after its thisUpdate. */
const MAX_AGE_WITHOUT_NEXT_UPDATE_MS = 60 * 60_000;
const MAX_RESPONSE_BYTES = 64 * 1024;
const OID_SHA1 = '1.3.14.3.2.26';
/** Digest per signature algorithm OID (null: the algorithm has none of its own, Ed25519). */
const SIGNATURE_DIGESTS: Readonly<Record<string, string | null>> = {
  '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null,
};

/** Why the status could not be learned: refuses when failing closed, logged either way. */
class OcspUnavailable extends Error {}

/** The outcome of checking one connection: undefined = serve; otherwise why the client is refused; `warning` notes a soft-fail. */
export interface OcspVerdict {
  refusal?: string;
  warning?: string;
}

/** Checks the verified client chain of `socket` with the responder at `url`. */
export async function checkClientOcsp(socket: TLSSocket, url: string, opts: OcspCheckOptions): Promise<OcspVerdict> {
  if (!opts.checkResumed && socket.isSessionReused()) return {};
  const peer = socket.getPeerCertificate(true);
  const chain = verifiedChain(peer);
  const subjects = opts.scope === 'leaf' ? chain.slice(0, 1) : chain;
  const warnings: string[] = [];
  // A verified client whose issuer cannot be found is not waved through: there is no one to ask about it.
  const anchorItself = peer.issuerCertificate === peer || peer.fingerprint256 === peer.issuerCertificate?.fingerprint256;
  if (chain.length === 0 && peer.raw && !anchorItself) {
    const why = 'OCSP: the issuer of the client certificate is not in the verified chain, so its status cannot be asked';
    if (opts.failClosed) return { refusal: why };
    warnings.push(`${why} (soft-fail: served)`);
  }
  for (const { cert, issuer } of subjects) {
    const name = cert.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? cert.serialNumber;
    try {
      const status = await certificateStatus(cert, issuer, url, opts);
      if (status === 'revoked') return { refusal: `OCSP: ${name} is revoked` };
      if (status === 'unknown' && opts.refuseUnknown) return { refusal: `OCSP: the responder does not know ${name} (status unknown)` };
    } catch (error) {
      const why = `OCSP: the status of ${name} could not be established: ${error instanceof Error ? error.message : String(error)}`;
      if (opts.failClosed) return { refusal: why };
      warnings.push(`${why} (soft-fail: served)`);
    }
  }
  return warnings.length > 0 ? { warning: warnings.join('; ') } : {};
}

/** Each certificate below the anchor with its issuer, leaf first (Node has verified this chain). */
function verifiedChain(peer: DetailedPeerCertificate | undefined): { cert: X509Certificate; issuer: X509Certificate }[] {
  const out: { cert: X509Certificate; issuer: X509Certificate }[] = [];
  for (let c = peer; c?.raw && c.issuerCertificate?.raw && out.length < 16; c = c.issuerCertificate) {
    if (c.issuerCertificate === c || c.fingerprint256 === c.issuerCertificate.fingerprint256) break;
    const cert = new X509Certificate(c.raw);
    const issuer = new X509Certificate(c.issuerCertificate.raw);
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) break;
    out.push({ cert, issuer });
  }
  return out;
}

/** Asks the responder about one certificate and judges the answer; throws OcspUnavailable when no trustworthy answer came. */
async function certificateStatus(cert: X509Certificate, issuer: X509Certificate, url: string, opts: OcspCheckOptions): Promise<'good' | 'revoked' | 'unknown'> {
  const issuerAsn = parsedCertificate(issuer.raw);
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA1, parameters: null }),
    issuerNameHash: new OctetString(sha1(Buffer.from(AsnConvert.serialize(issuerAsn.tbsCertificate.subject)))),
    issuerKeyHash: new OctetString(sha1(Buffer.from(issuerAsn.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey))),
    serialNumber: arrayBuffer(parsedCertificate(cert.raw).tbsCertificate.serialNumber),
  });
  const nonce = randomBytes(16);
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({
      requestList: [new Request({ reqCert: certId })],
      requestExtensions: [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(AsnConvert.serialize(new Nonce(nonce))) })],
    }),
  });
  const body = await post(url, Buffer.from(AsnConvert.serialize(request)), opts.timeoutMs);
  let response: OCSPResponse;
  let basic: BasicOCSPResponse;
  try {
    response = AsnConvert.parse(body, OCSPResponse);
    if (response.responseStatus !== OCSPResponseStatus.successful) throw new OcspUnavailable(`the responder answered ${OCSPResponseStatus[response.responseStatus] ?? response.responseStatus}`);
    if (response.responseBytes?.responseType !== id_pkix_ocsp_basic) throw new OcspUnavailable('the answer is not a basic OCSP response');
    basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
  } catch (error) {
    if (error instanceof OcspUnavailable) throw error;
    throw new OcspUnavailable(`the answer is not an OCSP response (${body.length} bytes)`);
  }
  if (opts.verifySigner) checkSigner(basic, issuer, opts.acceptDelegated);
  const single = basic.tbsResponseData.responses.find((r) => sameCertId(r.certID, certId));
  if (!single) throw new OcspUnavailable('the answer does not name the certificate asked about');
  const now = Date.now();
  if (opts.checkFreshness) {
    if (single.thisUpdate.getTime() > now + SKEW_MS) throw new OcspUnavailable(`the answer's thisUpdate ${single.thisUpdate.toISOString()} lies in the future`);
    if (single.nextUpdate ? single.nextUpdate.getTime() < now - SKEW_MS : single.thisUpdate.getTime() < now - MAX_AGE_WITHOUT_NEXT_UPDATE_MS) {
      throw new OcspUnavailable(`the answer is stale (nextUpdate ${single.nextUpdate?.toISOString() ?? 'absent'}, thisUpdate ${single.thisUpdate.toISOString()})`);
    }
  }
  const echoed = basic.tbsResponseData.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  if (echoed && !Buffer.from(echoed.extnValue.buffer).equals(Buffer.from(AsnConvert.serialize(new Nonce(nonce))))) throw new OcspUnavailable('the answer carries another request\'s nonce');
  if (single.certStatus.revoked) return 'revoked';
  if (single.certStatus.good !== undefined) return 'good';
  return 'unknown';
}

/** Throws unless the issuer itself, or a responder it certified for OCSP signing, signed the answer. */
function checkSigner(basic: BasicOCSPResponse, issuer: X509Certificate, acceptDelegated: boolean): void {
  const included = (basic.certs ?? []).map((c) => new X509Certificate(Buffer.from(AsnConvert.serialize(c))));
  const id = basic.tbsResponseData.responderID;
  const byKey = id.byKey ? Buffer.from(id.byKey.buffer).toString('hex') : undefined;
  const byName = id.byName ? Buffer.from(AsnConvert.serialize(id.byName)).toString('hex') : undefined;
  const named = (c: X509Certificate): boolean => {
    const asn = parsedCertificate(c.raw).tbsCertificate;
    if (byKey !== undefined) return sha1(Buffer.from(asn.subjectPublicKeyInfo.subjectPublicKey)).toString('hex') === byKey;
    return Buffer.from(AsnConvert.serialize(asn.subject)).toString('hex') === byName;
  };
  // The issuer is taken from the verified chain, never from the answer: a look-alike in `certs` is only a candidate delegate.
  const candidates = [issuer, ...included].filter(named);
  const digest = SIGNATURE_DIGESTS[basic.signatureAlgorithm.algorithm];
  if (digest === undefined) throw new OcspUnavailable(`the answer is signed with an unsupported algorithm ${basic.signatureAlgorithm.algorithm}`);
  const tbs = Buffer.from(basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData));
  const signature = Buffer.from(basic.signature);
  for (const signer of candidates) {
    if (!verify(digest, tbs, signer.publicKey, signature)) continue;
    if (signer.publicKey.equals(issuer.publicKey)) return;
    const now = Date.now();
    const delegated = acceptDelegated && signer.checkIssued(issuer) && signer.verify(issuer.publicKey) && (signer.keyUsage ?? []).includes(id_kp_OCSPSigning)
      && Date.parse(signer.validFrom) <= now && Date.parse(signer.validTo) >= now;
    if (delegated) return;
    throw new OcspUnavailable(`the answer is signed by ${signer.subject.replace(/\n/g, ', ')}, which ${issuer.subject.replace(/\n/g, ', ')} did not authorise to answer for it`);
  }
  throw new OcspUnavailable(candidates.length === 0 ? 'the answer\'s signer is neither the issuer nor a certificate it includes' : 'the answer\'s signature does not verify with the issuer\'s or its responder\'s key');
}

function sameCertId(a: CertID, b: CertID): boolean {
  const eq = (x: ArrayBuffer, y: ArrayBuffer): boolean => Buffer.from(x).equals(Buffer.from(y));
  return a.hashAlgorithm.algorithm === b.hashAlgorithm.algorithm && eq(a.issuerNameHash.buffer, b.issuerNameHash.buffer)
    && eq(a.issuerKeyHash.buffer, b.issuerKeyHash.buffer) && eq(a.serialNumber, b.serialNumber);
}

/** POSTs a request (RFC 6960 A.1), bounded in time and size; throws OcspUnavailable on any failure. */
function post(url: string, body: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => { reject(new OcspUnavailable(why)); };
    const req = httpRequest(url, {
      method: 'POST', agent: false, timeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs),
      headers: { 'content-type': 'application/ocsp-request', 'content-length': body.length, accept: 'application/ocsp-response' },
    }, (res) => {
      if (res.statusCode !== 200) { res.resume(); fail(`the responder answered HTTP ${res.statusCode ?? '?'}`); return; }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) { req.destroy(); fail(`the answer exceeds ${MAX_RESPONSE_BYTES} bytes`); } else chunks.push(chunk);
      });
      res.once('end', () => { resolve(Buffer.concat(chunks)); });
      res.once('error', (error) => { fail(`the answer broke off: ${error.message}`); });
    });
    req.once('timeout', () => { req.destroy(); fail(`no answer within ${timeoutMs} ms`); });
    req.once('error', (error: NodeJS.ErrnoException) => { fail(`the responder at ${url} cannot be reached (${error.code ?? error.message})`); });
    req.end(body);
  });
}

function sha1(data: Buffer): Buffer {
  return createHash('sha1').update(data).digest();
}

function arrayBuffer(data: ArrayBuffer): ArrayBuffer {
  return data.slice(0);
}

/** A request handler that serves only connections whose client chain the responder says is good (one check per connection). */
export function ocspGate(
  handler: (req: IncomingMessage, res: ServerResponse) => void, url: string, opts: OcspCheckOptions,
  note: (req: IncomingMessage, verb: 'refused' | 'warning', reason: string) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  const verdicts = new WeakMap<TLSSocket, Promise<OcspVerdict>>();
  return (req, res) => {
    const socket = req.socket as TLSSocket;
    // No verified chain, nothing to ask about: the handler refuses or serves the public path.
    if (!socket.authorized) { handler(req, res); return; }
    let verdict = verdicts.get(socket);
    if (!verdict) {
      verdict = checkClientOcsp(socket, url, opts).catch((error: unknown) => ({ refusal: `OCSP: the check failed: ${error instanceof Error ? error.message : String(error)}` }));
      verdicts.set(socket, verdict);
    }
    void verdict.then((v) => {
      if (v.warning !== undefined) note(req, 'warning', v.warning);
      if (v.refusal === undefined) { handler(req, res); return; }
      note(req, 'refused', v.refusal);
      const body = '{"error":"the client certificate\'s revocation status is not good"}\n';
      res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  };
}
