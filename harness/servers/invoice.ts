// The invoice server: the seed tutorial's node:https server grown into the
// reference for doing mTLS right in Node. Runs in-process on port 0. Every
// hardening measure is a named option, so the broken variants that prove the
// suite's verdicts can fail are this same server with one measure switched off.
import https from 'node:https';
import http2 from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket, PeerCertificate, DetailedPeerCertificate } from 'node:tls';
import { X509Certificate, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { escapeLogValue } from '../probe/logs.ts';
import type { Capability, RunningServer, ServerAdapter, ServerSetup } from '../types.ts';
import {
  DEPLOY_SECURE, decideVhost, discardUpstream, forwardingOf, isAnonymous, relayUpstream, sendUpstream, startFirstRecordRouter,
  type DeployOptions, type VhostState,
} from './invoice-deploy.ts';
import { ocspGate, SECURE_OCSP, type OcspCheckOptions } from './ocsp-check.ts';
import { isSanRule, matchSanRules, SECURE_SAN, type SanIdentityOptions } from './san-identity.ts';
import { applyTrustMaterial, type TrustMaterialPolicy } from './trust-check.ts';
import { openListener } from './listener.ts';

/** The hardening measures of the invoice server; all on by default (deployment measures: see DeployOptions). */
export interface InvoiceOptions extends DeployOptions {
  /** Trust only the setup's client CA (without it Node falls back to its bundled public roots). */
  loadClientCa: boolean;
  /** Ask for a client certificate at all. */
  requestCert: boolean;
  /** Let the TLS layer refuse unverified clients (required mode). */
  rejectUnauthorized: boolean;
  /** Check req.socket.authorized before serving (the per-path mode check). */
  checkAuthorized: boolean;
  /** Load setup.tls.crl (every CRL in the bundle). */
  honourCrl: boolean;
  /** Log one line with the CN per accepted request. */
  logIdentity: boolean;
  /** Escape control characters in logged certificate fields. */
  escapeLogs: boolean;
  /** Route and authorize on one canonical path (decoded, dot segments resolved, `;` params and trailing slash dropped, lower case). */
  canonicalisePaths: boolean;
  /** Take the identity from the certificate only, never from X-SSL-Client-CN and friends. */
  ignoreIdentityHeaders: boolean;
  /** Refuse verified clients whose CN is not in setup.allowedClients. */
  enforceAllowlist: boolean;
  /** Match the allow-list byte for byte (no case folding, trimming, substring or look-alike folding). */
  exactAllowlist: boolean;
  /** Identity is the subject CN only, never a SAN entry. */
  identityFromCn: boolean;
  /** A multi-valued CN is one identity (values joined), never any one of its values. */
  multiValuedCnAsOne: boolean;
  /** Log "accepted" only after authorization, never at the TLS layer. */
  logAfterAuthorization: boolean;
  /** Authorize every request, not once per keep-alive connection. */
  authorizeEveryRequest: boolean;
  /** In per-path mode serve the public path without a certificate. */
  perPathMode: boolean;
  /** Require the client certificate whatever SNI the client sent. */
  clientAuthOnEverySni: boolean;
  /** Refuse TLS 1.0 and 1.1. */
  refuseLegacyTls: boolean;
  /** Refuse client-initiated renegotiation (Node allows three per ten minutes). */
  refuseRenegotiation: boolean;
  /** Keep Node's renegotiation limit (only matters when renegotiation is allowed). */
  limitRenegotiation: boolean;
  /** Own session ticket keys per server (a process-wide shared key resumes sessions across trust policies). */
  isolateTicketKeys: boolean;
  /** Apply the same certificate checks under TLS 1.2 as under TLS 1.3. */
  sameChecksOnTls12: boolean;
  /** Take the identity from the resumed session's certificate. */
  identityOnResumption: boolean;
  /** Keep serving after a malformed handshake (plain HTTP, garbage, oversized records). */
  surviveMalformedInput: boolean;
  /** Drop handshakes and request heads that stall (10 s instead of Node's 120 s handshake timeout). */
  shortTimeouts: boolean;
  /** Cap on open connections; null = none (a cap without short timeouts lets stalled handshakes take every slot). */
  maxConnections: number | null;
  /** Keep no per-refusal state (no handle, no buffer) after a refused handshake. */
  boundedRefusalState: boolean;
  /** How a client chain is judged: 'openssl' verifies it; 'presence' and 'issuer-name' are the broken seed patterns (any certificate / the right issuer CN). */
  verification: 'openssl' | 'presence' | 'issuer-name';
  /** Load every CRL of a PEM bundle (Node's `crl` string option loads only the first). */
  splitCrlBundle: boolean;
  /** OpenSSL security level: 2 refuses RSA keys under 2048 bits and SHA-1/MD5 signatures in client chains (Node's default is 1). */
  securityLevel: 0 | 1 | 2;
  /** Signature algorithms the server accepts from clients (OpenSSL sigalgs list); undefined keeps OpenSSL's full list. */
  sigalgs?: string;
  /** Policy: refuse a client certificate that is a CA, and chains whose CAs below the anchor carry EKU clientAuth (identities that mint identities). */
  refuseIssuingClients: boolean;
  /** Policy: most certificates a client chain may have, anchor included; 0 = no limit (OpenSSL's default depth is 100). */
  maxChainLength: number;
  /** Policy: the client certificate must carry EKU clientAuth (RFC 5280 would accept a certificate without EKU for any purpose). */
  requireClientAuthEku: boolean;
  /** Re-check the certificate's validity window when a session is resumed (resumption skips chain verification). */
  recheckResumed: boolean;
  /** reload() installs the new CA and CRL in a fresh secure context (false: it keeps serving with the old one). */
  reloadContext: boolean;
  /** reload() rotates the session-ticket keys so sessions made under the old trust state cannot be resumed (false: keeps them, as Node does when `ticketKeys` is configured, e.g. shared across a cluster). */
  rotateTicketKeysOnReload: boolean;
  /** Client-certificate OCSP with the responder setup.ocsp names (see ocsp-check.ts); null never asks. */
  ocsp: OcspCheckOptions | null;
  /** Typed allow-list entries (spiffe://, dns:, email:) matched against SANs (see san-identity.ts); null takes every entry as a CN. */
  san: SanIdentityOptions | null;
  /** A client-CA bundle with no usable CA, or a CRL file without a parseable CRL: refuse to start, or (broken) weaken silently (see trust-check.ts). */
  trustMaterial: TrustMaterialPolicy;
}

/** A secure invoice server. */
export const SECURE: InvoiceOptions = {
  ...DEPLOY_SECURE,
  loadClientCa: true,
  requestCert: true,
  rejectUnauthorized: true,
  checkAuthorized: true,
  honourCrl: true,
  logIdentity: true,
  escapeLogs: true,
  canonicalisePaths: true,
  ignoreIdentityHeaders: true,
  enforceAllowlist: true,
  exactAllowlist: true,
  identityFromCn: true,
  multiValuedCnAsOne: true,
  logAfterAuthorization: true,
  authorizeEveryRequest: true,
  perPathMode: true,
  clientAuthOnEverySni: true,
  refuseLegacyTls: true,
  refuseRenegotiation: true,
  limitRenegotiation: true,
  isolateTicketKeys: true,
  sameChecksOnTls12: true,
  identityOnResumption: true,
  surviveMalformedInput: true,
  shortTimeouts: true,
  maxConnections: null,
  boundedRefusalState: true,
  verification: 'openssl',
  splitCrlBundle: true,
  securityLevel: 2,
  refuseIssuingClients: true,
  maxChainLength: 4,
  requireClientAuthEku: true,
  recheckResumed: true,
  reloadContext: true,
  rotateTicketKeysOnReload: true,
  ocsp: SECURE_OCSP,
  san: SECURE_SAN,
  trustMaterial: 'refuse-start',
};

/** Whether Node reports the certificate as its own issuer (a trust anchor). */
function isSelfSigned(c: DetailedPeerCertificate): boolean {
  return c.issuerCertificate === c || c.fingerprint256 === c.issuerCertificate?.fingerprint256;
}

/** The client chain as Node reports it, leaf first, ending at the anchor or the last certificate sent. */
function peerChain(peer: DetailedPeerCertificate | undefined): DetailedPeerCertificate[] {
  const chain: DetailedPeerCertificate[] = [];
  for (let c = peer; c && Object.keys(c).length > 0 && chain.length < 64; c = c.issuerCertificate) {
    if (chain.includes(c)) break;
    chain.push(c);
    if (isSelfSigned(c)) break;
  }
  return chain;
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Why the invoice server's policy refuses this client despite a verified chain, or undefined. */
export function policyRefusal(socket: TLSSocket, peer: DetailedPeerCertificate | undefined, opts: InvoiceOptions, now = Date.now()): string | undefined {
  const chain = peerChain(peer);
  const leaf = chain[0];
  if (!leaf) return undefined;
  if (opts.recheckResumed && socket.isSessionReused()) {
    if (Date.parse(leaf.valid_to) < now) return `resumed session of a certificate that expired at ${leaf.valid_to}`;
    if (Date.parse(leaf.valid_from) > now) return `resumed session of a certificate not valid before ${leaf.valid_from}`;
  }
  if (opts.requireClientAuthEku && !(leaf.ext_key_usage ?? []).includes(CLIENT_AUTH)) return 'policy: the certificate does not carry EKU clientAuth';
  if (opts.refuseIssuingClients) {
    if (leaf.ca) return 'policy: the client certificate is a CA (CA:TRUE) and could mint identities';
    const minter = chain.slice(1).find((c) => c.ca && !isSelfSigned(c) && (c.ext_key_usage ?? []).includes(CLIENT_AUTH));
    if (minter) return `policy: issuer ${commonName(minter.subject) ?? '?'} is itself a client identity (CA with EKU clientAuth)`;
  }
  if (opts.maxChainLength > 0 && chain.length > opts.maxChainLength) return `policy: chain of ${chain.length} certificates exceeds ${opts.maxChainLength}`;
  return undefined;
}

/** The broken seed patterns: accept any certificate, or any whose top issuer CN names a trusted CA. */
function seedPatternAccepts(peer: DetailedPeerCertificate | undefined, opts: InvoiceOptions, trustedCns: readonly string[]): boolean {
  const chain = peerChain(peer);
  const top = chain.at(-1);
  if (!top) return false;
  if (opts.verification === 'presence') return true;
  return trustedCns.includes(commonName(top.issuer) ?? '');
}

/** Splits a PEM bundle into its blocks (Node's `crl` option reads only the first block of a string). */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN [A-Z0-9 ]+-----[\s\S]+?-----END [A-Z0-9 ]+-----\n?/g) ?? [];
}

/** The invoice the seed server guards, now carrying the case's canary. */
function invoiceBody(canary: string): string {
  return JSON.stringify({ invoice: { number: 'INV-2026-0042', customer: 'Example GmbH', amount: '1280.00', currency: 'EUR' }, canary }) + '\n';
}

/** The CN of a peer certificate as one string (multi-valued CNs joined with '+'). */
function commonName(subject: PeerCertificate['subject'] | undefined): string | undefined {
  const cn: unknown = subject?.CN;
  if (Array.isArray(cn)) return cn.map(String).join('+');
  return typeof cn === 'string' ? cn : undefined;
}

/** The CNs of the trusted CA certificates (what the broken issuer-name pattern compares against). */
function caCommonNames(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return splitPem(text).map((pem) => /(?:^|\n)CN=([^\n]*)/.exec(new X509Certificate(pem).subject)?.[1] ?? '');
}

/** Builds an invoice-server adapter with the given measures (name shown in reports). */
export function invoiceAdapter(name = 'invoice', overrides: Partial<InvoiceOptions> = {}): ServerAdapter {
  const opts: InvoiceOptions = { ...SECURE, ...overrides };
  const capabilities: Capability[] = ['crl', 'crl-reload', 'auth-reload', 'path-authz', 'allowlist', 'log-identity', 'proxy', 'vhosts', 'optional-auth', 'ocsp', 'spiffe'];
  const forwarding = forwardingOf(opts);
  return {
    name,
    capabilities,
    ...(forwarding ? { forwarding } : {}),
    start: (setup) => startInvoiceServer(setup, opts),
  };
}

function tlsOptions(setup: ServerSetup, opts: InvoiceOptions, tls: ServerSetup['tls']): https.ServerOptions {
  // Read the way the tutorial reads them: fs.readFileSync.
  const [cert, key, ca] = [tls.cert, tls.key, tls.clientCa].map((file) => readFileSync(file, 'utf8')) as [string, string, string];
  const crl = tls.crl && opts.honourCrl ? readFileSync(tls.crl, 'utf8') : undefined;
  return {
    cert, key,
    ...(opts.loadClientCa ? { ca: splitPem(ca) } : {}),
    ...(crl !== undefined ? { crl: opts.splitCrlBundle ? splitPem(crl) : crl } : {}),
    requestCert: opts.requestCert && !(setup.clientAuth === 'optional' && opts.optionalAuth === 'never-asks'),
    // Optional mode and the public virtual host let clients without a certificate through the TLS layer; the handler decides.
    rejectUnauthorized: opts.rejectUnauthorized && opts.verification === 'openssl' && (setup.clientAuth === 'required' || (setup.clientAuth === 'per-path' && !opts.perPathMode)) && setup.vhosts === undefined,
    // TLS 1.0/1.1 need SHA-1 era ciphers, which OpenSSL 3 allows only at security level 0.
    ...(opts.refuseLegacyTls ? { minVersion: 'TLSv1.2' as const } : { minVersion: 'TLSv1' as const }),
    ciphers: `DEFAULT:@SECLEVEL=${opts.refuseLegacyTls ? opts.securityLevel : 0}`,
    ...(opts.sigalgs !== undefined ? { sigalgs: opts.sigalgs } : {}),
  };
}

/** A ticket key shared by every server of the process, as a fleet sharing one ticket key file would. */
const SHARED_TICKET_KEYS = randomBytes(48);

/** The protected path as the router sees it: decoded, `;` parameters and empty or dot segments resolved, no trailing slash, lower case; undefined when undecodable. */
export function canonicalPath(url: string): string | undefined {
  const raw = url.split(/[?#]/)[0] ?? '/';
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  const out: string[] = [];
  for (const segment of decoded.split('/')) {
    const name = segment.split(';')[0] ?? '';
    if (name === '' || name === '.') continue;
    if (name === '..') out.pop();
    else out.push(name.toLowerCase());
  }
  return `/${out.join('/')}`;
}

/** Look-alike folding of a careless allow-list matcher: NFKC, trimmed, lower case, Cyrillic homoglyphs to Latin. */
function foldLoosely(name: string): string {
  const homoglyphs: Record<string, string> = { 'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'х': 'x', 'у': 'y', 'і': 'i' };
  return [...name.normalize('NFKC').trim().toLowerCase()].map((ch) => homoglyphs[ch] ?? ch).join('');
}

/** Certificate-verification refusals; every other OpenSSL handshake error is malformed input. */
const VERIFY_ERROR = /CERT|VERIFY|SELF_SIGNED|REVOKED|CRL|ISSUER|SIGNATURE|PURPOSE|EXPIRED|NOT_YET|UNABLE_TO|CHAIN|PATH_LENGTH|NAME_CONSTRAINT|KEY_USAGE|UNHANDLED_CRITICAL|CA_|_CA\b/;

/** Starts the invoice server for one case. */
export async function startInvoiceServer(given: ServerSetup, options: InvoiceOptions = SECURE): Promise<RunningServer> {
  const { setup, opts } = applyTrustMaterial(given, options);
  const lines: string[] = [];
  const log = (line: string): void => { lines.push(`${new Date().toISOString()} ${line}`); };
  const field = (value: string): string => (opts.escapeLogs ? escapeLogValue(value) : value);
  let current: ServerSetup['tls'] = { ...setup.tls };
  // The client-auth mode in force: reload() may tighten it (optional to required).
  let clientAuth = setup.clientAuth;
  const checkedSockets = new WeakSet<Socket>();
  const refusalHandles: number[] = [];
  const protectedPath = canonicalPath(setup.paths.protected);
  const publicPath = setup.paths.public === undefined ? undefined : canonicalPath(setup.paths.public);

  /** The client identity: the subject CN (multi-valued CNs joined with '+'), or what a broken variant takes instead. */
  const identityOf = (req: IncomingMessage, socket: TLSSocket, peer: DetailedPeerCertificate | undefined): string | undefined => {
    const spoofed = req.headers['x-ssl-client-cn'];
    if (!opts.ignoreIdentityHeaders && typeof spoofed === 'string') return spoofed;
    if (!opts.identityOnResumption && socket.isSessionReused()) return undefined;
    if (!opts.identityFromCn && peer?.subjectaltname) return peer.subjectaltname.split(', ')[0]?.replace(/^[A-Za-z ]+:/, '');
    const cn: unknown = peer?.subject?.CN;
    if (!opts.multiValuedCnAsOne && Array.isArray(cn)) {
      const values = cn.map(String);
      return values.find((v) => setup.allowedClients?.includes(v)) ?? values.at(-1);
    }
    return commonName(peer?.subject);
  };
  // A SAN rule is never compared with a CN: a CN that reads like a SPIFFE ID names nobody.
  const cnRules = (setup.allowedClients ?? []).filter((entry) => opts.san === null || !isSanRule(entry));
  const allowed = (cn: string | undefined): boolean => {
    if (!opts.enforceAllowlist || !setup.allowedClients) return true;
    if (cn === undefined) return false;
    if (opts.exactAllowlist) return cnRules.includes(cn);
    return cnRules.some((a) => foldLoosely(cn).includes(foldLoosely(a)));
  };
  /** Whether the TLS layer's verdict admits this client (the seed's `req.socket.authorized`). */
  const verified = (socket: TLSSocket, peer: Partial<PeerCertificate> | undefined): boolean => {
    // Node reports a TLS 1.3 session resumed without any certificate as authorized (its PSK exemption): a verified client has one.
    const presented = Buffer.isBuffer(peer?.raw);
    if (socket.authorized && (presented || !opts.verifyResumed)) return true;
    if (!opts.verifyResumed && socket.isSessionReused()) return true;
    if (!opts.sameChecksOnTls12 && socket.getProtocol() === 'TLSv1.2' && String(socket.authorizationError) === 'CERT_HAS_EXPIRED') return true;
    if (!opts.clientAuthOnEverySni && socket.servername !== 'localhost') return true;
    return false;
  };
  // Only the broken issuer-name pattern compares names; the secure server never parses the bundle itself.
  let trustedCns = opts.verification === 'issuer-name' ? caCommonNames(current.clientCa) : [];

  const vhostState: VhostState = { checked: new WeakSet() };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket as TLSSocket;
    const url = req.url ?? '/';
    const path = canonicalPath(url);
    // One object per request, chain included, for every check below.
    const peer = socket.getPeerCertificate?.(true) as DetailedPeerCertificate | undefined;
    const cn = identityOf(req, socket, peer);
    // A broken proxy sends the request upstream as it arrives, before judging the client.
    const forwardsIdentity = opts.identityOnResumption || !socket.isSessionReused();
    const early = setup.upstream !== undefined && !opts.authorizeBeforeForwarding ? sendUpstream(req, socket, setup.upstream, opts, forwardsIdentity) : undefined;
    const send = (status: number, body: string): void => {
      if (early) discardUpstream(early);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    // What an accepted request gets: the body here, or the upstream's answer in proxy mode.
    const serve = (body: string): void => {
      if (setup.upstream === undefined) return send(200, body);
      void relayUpstream(early ?? sendUpstream(req, socket, setup.upstream, opts, forwardsIdentity), res, log);
    };
    const publicBody = (status: string): string => JSON.stringify({ status, canary: setup.publicCanary ?? '' }) + '\n';
    if (path === undefined) return send(400, '{"error":"bad path"}\n');
    const vhost = setup.vhosts ? decideVhost(req, socket, setup.vhosts, opts, vhostState) : undefined;
    if (vhost?.kind === 'misdirected') {
      log(`misdirected ${socket.remoteAddress ?? '?'} SNI="${field(vhost.sni)}" Host="${field(vhost.host)}" ${req.method ?? 'GET'} ${field(url)}`);
      return send(421, '{"error":"misdirected request: this connection is not for that host"}\n');
    }
    if (vhost?.kind === 'public') return send(200, publicBody('public'));
    const skipChecks = !opts.authorizeEveryRequest && checkedSockets.has(socket);
    checkedSockets.add(socket);
    if (publicPath !== undefined && path === publicPath && clientAuth === 'per-path' && opts.perPathMode) {
      return serve(publicBody('public'));
    }
    // The router is lenient (like Express: case-insensitive, non-strict); authorization must see the same path.
    if (path !== protectedPath) return send(404, '{"error":"not found"}\n');
    if (clientAuth === 'optional' && isAnonymous(socket, opts)) {
      log(`anonymous ${socket.remoteAddress ?? '?'} ${req.method ?? 'GET'} ${field(url)}`);
      return send(200, publicBody('anonymous'));
    }
    // The broken variant guards only the literal request target, as middleware mounted on an exact string does.
    const guarded = opts.canonicalisePaths || clientAuth === 'required' || url === setup.paths.protected;
    if (!skipChecks && guarded && opts.checkAuthorized && (vhost === undefined || vhost.needsCert)) {
      const accepted = opts.verification === 'openssl' ? verified(socket, peer) : seedPatternAccepts(peer, opts, trustedCns);
      if (!accepted) {
        log(`refused ${socket.remoteAddress ?? '?'} ${req.method ?? 'GET'} ${field(url)}: ${socket.authorizationError ? String(socket.authorizationError) : 'no acceptable client certificate'}`);
        return send(403, '{"error":"a valid client certificate is required"}\n');
      }
      // The seed patterns had no policy at all; the policy measures refine verified chains only.
      const refusal = opts.verification === 'openssl' ? policyRefusal(socket, peer, opts) : undefined;
      if (refusal !== undefined) {
        log(`refused ${socket.remoteAddress ?? '?'} CN="${field(cn ?? '')}" ${req.method ?? 'GET'} ${field(url)}: ${refusal}`);
        return send(403, '{"error":"this client certificate is not accepted"}\n');
      }
    }
    const san = opts.san !== null && setup.allowedClients && peer?.raw ? matchSanRules(peer.raw, cn, setup.allowedClients, opts.san) : undefined;
    if (!skipChecks && !allowed(cn) && san?.match === undefined) {
      log(`forbidden ${socket.remoteAddress ?? '?'} CN="${field(cn ?? '')}" ${req.method ?? 'GET'} ${field(url)}: not in the allow-list${san?.refusal !== undefined ? ` (${field(san.refusal)})` : ''}`);
      return send(403, '{"error":"this client is not allowed"}\n');
    }
    if (opts.logIdentity) {
      const issuer = commonName(peer?.issuer) ?? '';
      log(`accepted ${socket.remoteAddress ?? '?'} CN="${field(cn ?? '')}"${san?.match ? ` identity="${field(san.match.identity)}"` : ''} issuer="${field(issuer)}" ${req.method ?? 'GET'} ${field(url)}${socket.isSessionReused() ? ' resumed' : ''}`);
    }
    serve(invoiceBody(setup.canary));
  };

  const served = opts.ocsp !== null && setup.ocsp !== undefined
    ? ocspGate(handler, setup.ocsp.url, opts.ocsp, (req, verb, reason) => { log(`${verb} ${req.socket.remoteAddress ?? '?'} ${req.method ?? 'GET'} ${field(req.url ?? '/')}: ${field(reason)}`); })
    : handler;
  const serverOptions: https.ServerOptions = {
    ...tlsOptions(setup, opts, current),
    // Node waits 120 s for a handshake and 60 s for request headers by default: ample room for slowloris.
    ...(opts.shortTimeouts ? { handshakeTimeout: 10_000, headersTimeout: 10_000, requestTimeout: 30_000 } : {}),
  };
  // Virtual hosts also speak HTTP/2, where one connection can carry requests for both names.
  const server: TlsServer = setup.vhosts
    ? http2.createSecureServer({ ...serverOptions, allowHTTP1: true } as http2.SecureServerOptions, served as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void)
    : https.createServer(serverOptions, served);
  if (opts.maxConnections !== null) server.maxConnections = opts.maxConnections;
  if (!opts.isolateTicketKeys) server.setTicketKeys(SHARED_TICKET_KEYS);
  const listener = openListener(server);
  server.on('secureConnection', (socket: TLSSocket) => {
    if (opts.refuseRenegotiation) socket.disableRenegotiation();
    else if (!opts.limitRenegotiation) {
      // Node counts handshakes in this hook and kills the connection after three; a server that removes it allows any number.
      const handle = (socket as unknown as { _handle?: { onhandshakestart?: () => void } })._handle;
      if (handle) handle.onhandshakestart = () => undefined;
    }
    if (!opts.logAfterAuthorization) {
      const peer = socket.getPeerCertificate();
      log(`accepted connection ${socket.remoteAddress ?? '?'} CN="${field(commonName(peer.subject) ?? '')}"`);
    }
  });
  let crashed = false;
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const code = err.code ?? err.message;
    log(`refused ${socket.remoteAddress ?? '?'} during the handshake: ${code}`);
    if (!opts.boundedRefusalState) refusalHandles.push(openSync('/dev/null', 'r'));
    if (!opts.surviveMalformedInput && !crashed && code.startsWith('ERR_SSL_') && !VERIFY_ERROR.test(code)) {
      // Stands in for a process that dies on input it did not expect: it stops answering.
      crashed = true;
      log(`crashed on ${code}`);
      server.close();
      for (const s of listener.sockets) s.destroy();
    }
  });
  let port = await listener.listen(setup.host, setup.port);
  // The broken first-record variant puts a router that reads the SNI off the first record in front.
  let router: { port: number; stop: () => Promise<void> } | undefined;
  if (setup.vhosts && !opts.sniFromHandshake) {
    vhostState.routed = new Map();
    router = await startFirstRecordRouter(setup.host, 0, port, vhostState.routed);
    port = router.port;
  }
  let stopped: Promise<void> | undefined;
  return {
    port,
    // In-process: the suite's own process serves.
    pid: process.pid,
    logs: () => Promise.resolve([...lines]),
    reload: (tls, change) => new Promise<void>((resolve) => {
      current = { ...current, ...tls };
      // Node's setSecureContext() keeps requestCert and rejectUnauthorized as created: a tightened mode is enforced by the handler (403).
      if (change?.clientAuth !== undefined) clientAuth = change.clientAuth;
      const keys = server.getTicketKeys();
      if (opts.reloadContext) {
        server.setSecureContext(tlsOptions({ ...setup, clientAuth }, opts, current));
        if (opts.verification === 'issuer-name') trustedCns = caCommonNames(current.clientCa);
      }
      // New trust, revocation or client-auth state must not be bypassed by resuming a session made under the old one.
      server.setTicketKeys(opts.rotateTicketKeysOnReload ? randomBytes(48) : keys);
      log(`reloaded CA and CRL${change?.clientAuth !== undefined ? `, client authentication ${clientAuth}` : ''}`);
      resolve();
    }),
    stop: () => {
      stopped ??= (() => {
        void router?.stop();
        for (const fd of refusalHandles.splice(0)) closeSync(fd);
        return listener.close();
      })();
      return stopped;
    },
  };
}

export default invoiceAdapter();
