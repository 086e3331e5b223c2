// The suite's OCSP responder: a small node:http front on 127.0.0.1 port 0 that
// answers each request (RFC 6960 appendix A: POST body or base64 GET path) with
// one `openssl ocsp -index ... -reqin ... -respout ...` call for the CA the
// request names, plus the deliberate breakage a case declares (garbage, stale
// or forged answers). A second listener resets every connection: the address
// of a responder that is down. Started before the PKI is built, because the
// client certificates carry its URL in authorityInfoAccess.
import { createHash, createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { BasicOCSPResponse, OCSPRequest, OCSPResponse, OCSPResponseStatus, ResponseBytes, id_pkix_ocsp_basic } from '@peculiar/asn1-ocsp';
import { Certificate } from '@peculiar/asn1-x509';
import { HarnessError } from '../errors.ts';
import { answerOcspRequest } from './openssl.ts';
import type { BuildOptions, BuiltOcsp, BuiltPki, OcspAnswer, PkiBuilder } from './pki.ts';
import { OCSP_LISTEN_MS as LISTEN_MS, OCSP_REQUEST_MS as REQUEST_MS } from '../run/bounds.ts';
import { makeOwnDir, readOwnBytes, writeOwnFile } from '../run/own-files.ts';

/** Which responder URL a server is given. */
export type ResponderChoice = 'responder' | 'down';

/** A running responder, shared by the TLS-version runs of one case. */
export interface OcspResponder {
  /** Where it answers, e.g. http://127.0.0.1:41234/ocsp. */
  readonly url: string;
  /** An address where every connection is reset (a responder that is down). */
  readonly downUrl: string;
  /** What build() needs to write the URL into the certificates. */
  readonly buildOptions: BuildOptions;
  /** Starts answering for this PKI's declared responders. */
  serve(pki: BuiltPki): void;
  /** Restores the declared answers (between the runs of a case). */
  reset(): void;
  /** Answers `name` revoked from now on. */
  revoke(name: string): void;
  /** One line per request answered so far. */
  log(): string[];
  /** Frees both ports and waits for running openssl calls; idempotent. */
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 64 * 1024;
const OID_SHA1 = '1.3.14.3.2.26';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
/** Signature algorithm OIDs of the answers the responder re-signs, and their digests. */
const SIGNATURE_DIGESTS: Readonly<Record<string, string | null>> = {
  '1.2.840.10045.4.3.2': 'sha256', '1.2.840.10045.4.3.3': 'sha384', '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.113549.1.1.11': 'sha256', '1.2.840.113549.1.1.12': 'sha384', '1.2.840.113549.1.1.13': 'sha512',
  '1.3.101.112': null,
};

/** Starts a responder when the declared PKI has one; undefined otherwise. */
export async function startResponderFor(builder: PkiBuilder, signal?: AbortSignal): Promise<OcspResponder | undefined> {
  return builder.declaresOcsp() ? startOcspResponder(signal) : undefined;
}

/** The setup's responder URL for a server given these overrides. */
export function responderUrl(responder: OcspResponder, choice: ResponderChoice | undefined): string {
  return choice === 'down' ? responder.downUrl : responder.url;
}

/** One declared responder, ready to answer. */
interface Served {
  built: BuiltOcsp;
  /** issuerKeyHash per hash algorithm OID, hex. */
  keyHashes: ReadonlyMap<string, string>;
  /** The index as the responder serves it now. */
  index: string;
}

/** Starts both listeners on port 0 of 127.0.0.1. */
export async function startOcspResponder(signal?: AbortSignal): Promise<OcspResponder> {
  let pki: BuiltPki | undefined;
  let served: Served[] = [];
  let requests = 0;
  const lines: string[] = [];
  const running = new Set<Promise<unknown>>();
  const note = (line: string): void => { lines.push(`${new Date().toISOString()} ${line}`); };

  const answer = async (der: Buffer): Promise<{ body: Buffer; what: string }> => {
    if (!pki) return { body: statusOnly(OCSPResponseStatus.tryLater), what: 'tryLater (not serving yet)' };
    let request: OCSPRequest;
    try {
      request = AsnConvert.parse(der, OCSPRequest);
    } catch {
      return { body: statusOnly(OCSPResponseStatus.malformedRequest), what: 'malformedRequest' };
    }
    const certId = request.tbsRequest.requestList[0]?.reqCert;
    if (!certId) return { body: statusOnly(OCSPResponseStatus.malformedRequest), what: 'malformedRequest (no CertID)' };
    const keyHash = Buffer.from(certId.issuerKeyHash.buffer).toString('hex');
    const responder = served.find((s) => s.keyHashes.get(certId.hashAlgorithm.algorithm) === keyHash);
    const serial = canonicalSerial(Buffer.from(certId.serialNumber).toString('hex'));
    if (!responder) return { body: statusOnly(OCSPResponseStatus.unauthorized), what: `unauthorized (serial ${serial} of an issuer it does not serve)` };
    const entry = [...responder.built.certs].find(([s]) => canonicalSerial(s) === serial)?.[1];
    const kind: OcspAnswer = entry?.answer ?? 'unknown';
    const who = `${entry?.name ?? `serial ${serial}`} of ${responder.built.issuer}`;
    if (kind === 'garbage') return { body: Buffer.concat([Buffer.from('this is no OCSP response: '), randomBytes(48)]), what: `garbage for ${who}` };
    const id = ++requests;
    const dir = pki.dir;
    const rel = (file: string): string => path.join('ocsp-requests', file);
    makeOwnDir(path.join(dir, 'ocsp-requests'), true);
    writeOwnFile(path.join(dir, rel(`${id}.req.der`)), der);
    const signer = kind === 'forged' ? responder.built.forger ?? responder.built.signer : responder.built.signer;
    await answerOcspRequest(dir, {
      index: responder.built.index, ca: `${responder.built.issuer}.pem`, signer: `${signer}.pem`, signerKey: `${signer}.key`,
      request: rel(`${id}.req.der`), response: rel(`${id}.resp.der`),
    }, signal);
    let body: Buffer = readOwnBytes(path.join(dir, rel(`${id}.resp.der`)));
    if (kind === 'stale') body = redate(body, createPrivateKey(readOwnBytes(path.join(dir, `${signer}.key`))));
    const status = responder.index.split('\n').find((row) => canonicalSerial(row.split('\t')[3] ?? '') === serial)?.[0];
    const said = kind === 'stale' ? 'good, dated past its nextUpdate' : kind === 'forged' ? `good, signed by ${signer}` : status === 'R' ? 'revoked' : status === 'V' ? 'good' : 'unknown';
    return { body, what: `${said} for ${who}` };
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const reply = (status: number, type: string, body: Buffer): void => {
      res.writeHead(status, { 'content-type': type, 'content-length': body.length, connection: 'close' });
      res.end(body);
    };
    const work = (async () => {
      const der = req.method === 'POST' ? await readBody(req) : decodeGetPath(req.url ?? '/');
      if (!der) return reply(400, 'text/plain', Buffer.from('no OCSP request\n'));
      const { body, what } = await answer(der);
      note(`${req.method ?? 'GET'} answered ${what}`);
      reply(200, 'application/ocsp-response', body);
    })().catch((error: unknown) => {
      note(`${req.method ?? 'GET'} failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) reply(200, 'application/ocsp-response', statusOnly(OCSPResponseStatus.internalError));
      else res.destroy();
    });
    running.add(work);
    void work.finally(() => running.delete(work));
  };

  const http = createServer({ requestTimeout: REQUEST_MS, headersTimeout: REQUEST_MS }, handle);
  const down = createTcpServer((socket: Socket) => { socket.resetAndDestroy(); });
  const sockets = new Set<Socket>();
  http.on('connection', (socket: Socket) => { sockets.add(socket); socket.once('close', () => sockets.delete(socket)); });
  const port = await listen(http);
  const closeHttp = async (): Promise<void> => { await new Promise<void>((resolve) => { http.close(() => { resolve(); }); for (const s of sockets) s.destroy(); }); };
  let downPort: number;
  try {
    downPort = await listen(down);
  } catch (error) {
    await closeHttp();
    throw error;
  }
  let closed: Promise<void> | undefined;
  const url = `http://127.0.0.1:${port}/ocsp`;

  const writeIndex = (s: Served): void => {
    if (pki) writeOwnFile(path.join(pki.dir, s.built.index), s.index);
  };
  return {
    url,
    downUrl: `http://127.0.0.1:${downPort}/ocsp`,
    buildOptions: { ocspUrl: url },
    serve: (built) => {
      pki = built;
      served = [...built.ocsp.values()].map((b) => ({ built: b, keyHashes: keyHashes(built.cert(b.issuer).x509.raw), index: b.indexText }));
    },
    reset: () => {
      for (const s of served) {
        s.index = s.built.indexText;
        writeIndex(s);
      }
    },
    revoke: (name) => {
      const s = served.find((r) => [...r.built.certs.values()].some((c) => c.name === name));
      const serial = s ? [...s.built.certs].find(([, c]) => c.name === name)?.[0] : undefined;
      if (!s || serial === undefined) throw new HarnessError('ERR_MTLS_PKI_SPEC', `no OCSP responder of this PKI answers for ${name}`, 'declare a responder for its issuer with b.ocsp()');
      const revokedAt = new Date(Date.now() - 1000).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z').slice(2);
      const rows = s.index.split('\n').filter((row) => row !== '' && row.split('\t')[3] !== serial);
      rows.push(`R\t${revokedAt}\t${revokedAt},keyCompromise\t${serial}\tunknown\t/CN=${name}`);
      s.index = rows.join('\n') + '\n';
      writeIndex(s);
      note(`revoked ${name} (serial ${serial})`);
    },
    log: () => [...lines],
    close: () => {
      closed ??= (async () => {
        down.close();
        await closeHttp();
        await Promise.allSettled([...running]);
      })();
      return closed;
    },
  };
}

/** A serial as upper-case hex without leading zeros (DER, the index and the builder differ in leading zeros). */
export function canonicalSerial(hex: string): string {
  return hex.toUpperCase().replace(/^0+(?=.)/, '');
}

/** Listens on 127.0.0.1 port 0, bounded. */
function listen(server: Server): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new HarnessError('ERR_MTLS_OCSP', `the OCSP responder did not listen within ${LISTEN_MS} ms`, 'check the loopback interface')); }, LISTEN_MS);
    server.once('error', (error) => { clearTimeout(timer); reject(error); });
    server.listen(0, '127.0.0.1', () => { clearTimeout(timer); resolve((server.address() as AddressInfo).port); });
  });
}

/** The request body, bounded in size; undefined when too large or empty. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) { req.destroy(); resolve(undefined); } else chunks.push(chunk);
    });
    req.once('end', () => { resolve(size > 0 ? Buffer.concat(chunks) : undefined); });
    req.once('error', reject);
  });
}

/** RFC 6960 A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}. */
function decodeGetPath(url: string): Buffer | undefined {
  const tail = url.replace(/^\/ocsp\/?/, '').replace(/^\//, '');
  if (tail === '') return undefined;
  try {
    const der = Buffer.from(decodeURIComponent(tail), 'base64');
    return der.length > 0 ? der : undefined;
  } catch {
    return undefined;
  }
}

/** An OCSPResponse with a status and no body (RFC 6960 §4.2.1). */
function statusOnly(status: OCSPResponseStatus): Buffer {
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: status })));
}

/** issuerKeyHash of a CA for each supported hash: the hash of its subjectPublicKey bits. */
function keyHashes(der: Buffer): Map<string, string> {
  const cert = AsnConvert.parse(der, Certificate);
  const bits = Buffer.from(cert.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
  return new Map([[OID_SHA1, createHash('sha1').update(bits).digest('hex')], [OID_SHA256, createHash('sha256').update(bits).digest('hex')]]);
}

/**
 * Dates openssl's answer in the past (thisUpdate two hours ago, nextUpdate one hour ago) and signs it again
 * with the same key: `openssl ocsp` takes only positive -ndays/-nmin, so it cannot write such an answer itself.
 */
function redate(der: Buffer, key: KeyObject): Buffer {
  const response = AsnConvert.parse(der, OCSPResponse);
  const bytes = response.responseBytes;
  if (response.responseStatus !== OCSPResponseStatus.successful || !bytes) return der;
  const basic = AsnConvert.parse(bytes.response.buffer, BasicOCSPResponse);
  const hour = 3_600_000;
  const now = Date.now();
  basic.tbsResponseData.producedAt = new Date(Math.floor((now - 2 * hour) / 1000) * 1000);
  for (const single of basic.tbsResponseData.responses) {
    single.thisUpdate = new Date(Math.floor((now - 2 * hour) / 1000) * 1000);
    single.nextUpdate = new Date(Math.floor((now - hour) / 1000) * 1000);
  }
  const tbs = Buffer.from(AsnConvert.serialize(basic.tbsResponseData));
  const digest = SIGNATURE_DIGESTS[basic.signatureAlgorithm.algorithm];
  if (digest === undefined) throw new Error(`cannot re-sign an OCSP answer with signature algorithm ${basic.signatureAlgorithm.algorithm}`);
  basic.tbsResponseDataRaw = tbs.buffer.slice(tbs.byteOffset, tbs.byteOffset + tbs.byteLength);
  basic.signature = new Uint8Array(sign(digest, tbs, key)).buffer;
  const encoded = AsnConvert.serialize(basic);
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({
    responseStatus: OCSPResponseStatus.successful,
    responseBytes: new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(encoded) }),
  })));
}
