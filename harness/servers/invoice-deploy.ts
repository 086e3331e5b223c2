// The invoice server's deployment modes: a TLS-terminating proxy in front of
// the suite's upstream, two virtual hosts on one port (HTTP/1.1 and HTTP/2),
// and optional client authentication. Each measure is a named option so that
// the broken variants are this same server with one measure switched off.
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { Forwarding, ServerSetup } from '../types.ts';
import { openListener } from './listener.ts';
import { PROXY_REQUEST_MS } from '../run/bounds.ts';

/** The deployment measures of the invoice server; see DEPLOY_SECURE for the reference values. */
export interface DeployOptions {
  /** Proxy: how the verified client's identity goes upstream — RFC 9440 Client-Cert, the CN pasted raw into X-SSL-Client-CN (broken), or not at all (null). */
  forwardIdentity: 'rfc9440' | 'cn-raw' | null;
  /** Proxy: which client-sent identity headers are removed — always, only where the proxy sets its own (a verified client), or never. */
  stripIdentityHeaders: 'always' | 'when-verified' | 'never';
  /** Proxy: judge the client before anything goes upstream (false: forwards as the request arrives and judges afterwards). */
  authorizeBeforeForwarding: boolean;
  /** Vhosts: answer 421 when the Host (or :authority) names another host than the SNI — on every request, the first of a connection only, or never. */
  misdirectedCheck: 'every-request' | 'first-request' | 'never';
  /** Vhosts: compare names case-insensitively and without a trailing dot (false: byte for byte, and an unknown SNI gets the default TLS policy without client auth). */
  normaliseSni: boolean;
  /** Vhosts: take the SNI from the TLS handshake (false: a router in front reads it from the first TLS record only and applies the default policy, without client auth, when it is not there). */
  sniFromHandshake: boolean;
  /** Vhosts: judge a resumed session's certificate like a full handshake's (false: a resumed session counts as authenticated). */
  verifyResumed: boolean;
  /** Optional mode: 'strict' (no certificate = anonymous, a bad one refused), 'downgrade' (a bad certificate = anonymous), 'as-required' (no certificate refused), 'never-asks' (no certificate is requested). */
  optionalAuth: 'strict' | 'downgrade' | 'as-required' | 'never-asks';
}

/** The reference deployment measures. */
export const DEPLOY_SECURE: DeployOptions = {
  forwardIdentity: 'rfc9440',
  stripIdentityHeaders: 'always',
  authorizeBeforeForwarding: true,
  misdirectedCheck: 'every-request',
  normaliseSni: true,
  sniFromHandshake: true,
  verifyResumed: true,
  optionalAuth: 'strict',
};

/** What the adapter declares it forwards, per the measures. */
export function forwardingOf(opts: DeployOptions): Forwarding | undefined {
  if (opts.forwardIdentity === 'cn-raw') return { header: 'x-ssl-client-cn', format: 'cn' };
  return { header: 'client-cert', format: 'rfc9440' };
}

/** Headers that carry a client identity between a proxy and its application; a client must never set them. */
const IDENTITY_HEADER = /^(client-cert(-chain)?|x-forwarded-client-cert|x-ssl-client(-.*)?|ssl-client(-.*)?|x-client-cert(-.*)?)$/i;
/** Hop-by-hop headers (RFC 9110 §7.6.1) and HTTP/2 pseudo-headers: never forwarded. */
const HOP_BY_HOP = /^(connection|keep-alive|proxy-connection|proxy-authenticate|proxy-authorization|te|trailer|transfer-encoding|upgrade|:.*)$/i;

/** The client certificate of a verified TLS connection, or undefined. */
function verifiedPeer(socket: TLSSocket): DetailedPeerCertificate | undefined {
  if (!socket.authorized) return undefined;
  const peer = socket.getPeerCertificate(false) as DetailedPeerCertificate | undefined;
  return peer && Buffer.isBuffer(peer.raw) ? peer : undefined;
}

/** The headers the upstream receives: the client's, minus hop-by-hop and identity headers, plus the proxy's own identity header (when `identity`). */
export function upstreamHeaders(headers: IncomingHttpHeaders, socket: TLSSocket, opts: DeployOptions, identity = true): Record<string, string | string[]> {
  const peer = opts.forwardIdentity === null || !identity ? undefined : verifiedPeer(socket);
  const strip = opts.stripIdentityHeaders === 'always' || (opts.stripIdentityHeaders === 'when-verified' && peer !== undefined);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.test(name) || (strip && IDENTITY_HEADER.test(name))) continue;
    out[name] = value;
  }
  if (peer && opts.forwardIdentity === 'rfc9440') out['client-cert'] = `:${peer.raw.toString('base64')}:`;
  if (peer && opts.forwardIdentity === 'cn-raw') out['x-ssl-client-cn'] = String(peer.subject.CN);
  out['x-forwarded-proto'] = 'https';
  return out;
}

/** An upstream exchange under way: its response, or why it failed. */
export type Forwarded = Promise<IncomingMessage | Error>;

/** Sends the request upstream (bounded); resolves to the response or the error. `identity`: false forwards no identity (a server that loses it). */
export function sendUpstream(req: IncomingMessage, socket: TLSSocket, upstream: NonNullable<ServerSetup['upstream']>, opts: DeployOptions, identity = true): Forwarded {
  return new Promise((resolve) => {
    let out: http.ClientRequest;
    try {
      out = http.request({ host: upstream.host, port: upstream.port, method: req.method ?? 'GET', path: req.url ?? '/', headers: upstreamHeaders(req.headers, socket, opts, identity), timeout: PROXY_REQUEST_MS });
    } catch (error) {
      // Node refuses header values with CR or LF: a raw CN carrying them never leaves the proxy.
      resolve(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    out.once('response', (response) => { resolve(response); });
    out.once('timeout', () => { out.destroy(new Error('the upstream did not answer within 5000 ms')); });
    out.once('error', (error) => { resolve(error); });
    req.pipe(out);
  });
}

/** Relays an upstream answer to the client; 502 when there is none. */
export async function relayUpstream(forwarded: Forwarded, res: ServerResponse, log: (line: string) => void): Promise<void> {
  const answer = await forwarded;
  if (answer instanceof Error) {
    log(`upstream error: ${answer.message}`);
    const body = '{"error":"bad gateway"}\n';
    res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP_BY_HOP.test(name)) headers[name] = value;
  res.writeHead(answer.statusCode ?? 502, headers);
  answer.pipe(res);
}

/** Drops an upstream answer the client must not see. */
export function discardUpstream(forwarded: Forwarded): void {
  void forwarded.then((answer) => { if (!(answer instanceof Error)) answer.resume(); });
}

/** A host name as DNS compares it: lower case, no trailing dot. */
function normaliseName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** The host of a Host header or :authority (port and IPv6 brackets dropped). */
function hostOf(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1);
  return authority.replace(/:\d*$/, '');
}

/** What the vhost layer decides for one request. */
export type VhostDecision = { kind: 'misdirected'; sni: string; host: string } | { kind: 'public' } | { kind: 'protected'; needsCert: boolean };

/** Per-server state of the vhost layer: connections already checked, and what a front router saw. */
export interface VhostState {
  checked: WeakSet<object>;
  /** With a front router: the SNI it read from the first record, by the backend connection's remote port (null: none found). */
  routed?: Map<number, string | null>;
}

/** Chooses the virtual host of a request: the TLS policy by SNI, the content by Host, and 421 when they differ. */
export function decideVhost(req: IncomingMessage, socket: TLSSocket, vhosts: NonNullable<ServerSetup['vhosts']>, opts: DeployOptions, state: VhostState): VhostDecision {
  const authority = String(req.headers[':authority'] ?? req.headers.host ?? '');
  const rawHost = hostOf(authority);
  const routeHost = normaliseName(rawHost);
  // The router in front of a broken variant read the SNI off the first record; a missing SNI means its default policy.
  const routed = state.routed?.get(socket.remotePort ?? -1);
  const sni: string | false | null = opts.sniFromHandshake ? socket.servername ?? false : routed ?? null;
  const connection = (req as unknown as { stream?: { session?: object } }).stream?.session ?? socket;
  const first = !state.checked.has(connection);
  state.checked.add(connection);
  const check = opts.misdirectedCheck === 'every-request' || (opts.misdirectedCheck === 'first-request' && first);
  if (typeof sni === 'string' && check) {
    const same = opts.normaliseSni ? normaliseName(sni) === routeHost : sni === rawHost;
    if (!same) return { kind: 'misdirected', sni, host: rawHost };
  }
  if (routeHost === vhosts.public) return { kind: 'public' };
  // The TLS policy: the SNI's name (the Host's when no SNI was sent). Every name but the public one needs a certificate,
  // unless names are matched byte for byte or read by a first-record router: then only the exact protected names do.
  const policy = typeof sni === 'string' ? (opts.normaliseSni ? normaliseName(sni) : sni) : sni === null ? vhosts.public : routeHost;
  const strictDefault = opts.normaliseSni && opts.sniFromHandshake;
  const needsCert = strictDefault ? policy !== vhosts.public : policy === vhosts.protected || policy === 'localhost';
  return { kind: 'protected', needsCert };
}

/** The SNI host name of a ClientHello that fits in the first TLS record of `data`; null when it is not there whole. */
export function sniFromFirstRecord(data: Buffer): string | null {
  if (data.length < 5 || data[0] !== 22) return null;
  const recordEnd = 5 + data.readUInt16BE(3);
  const record = data.subarray(5, Math.min(recordEnd, data.length));
  if (record.length < 4 || record[0] !== 1) return null;
  const helloLength = record.readUIntBE(1, 3);
  // A router that reads one record gives up when the ClientHello continues in the next.
  if (record.length < 4 + helloLength) return null;
  let at = 4 + 2 + 32;
  const skip = (lengthBytes: number): boolean => {
    if (at + lengthBytes > record.length) return false;
    at += lengthBytes + record.readUIntBE(at, lengthBytes);
    return at <= record.length;
  };
  if (!skip(1) || !skip(2) || !skip(1) || at + 2 > record.length) return null;
  const extensionsEnd = at + 2 + record.readUInt16BE(at);
  at += 2;
  while (at + 4 <= Math.min(extensionsEnd, record.length)) {
    const type = record.readUInt16BE(at);
    const length = record.readUInt16BE(at + 2);
    if (type === 0 && at + 4 + length <= record.length && length >= 5) {
      const nameLength = record.readUInt16BE(at + 7);
      return record.subarray(at + 9, at + 9 + nameLength).toString('latin1');
    }
    at += 4 + length;
  }
  return null;
}

/** A router in front of the server that reads the SNI from the first record (the broken first-record variant); returns its port and a stop. */
export async function startFirstRecordRouter(host: string, port: number, backendPort: number, routed: Map<number, string | null>): Promise<{ port: number; stop: () => Promise<void> }> {
  const front = net.createServer((client) => {
    client.on('error', () => undefined);
    client.once('data', (first: Buffer) => {
      // Nothing more is read until the backend is connected and piped.
      client.pause();
      let key = -1;
      const backend = net.connect({ host: '127.0.0.1', port: backendPort }, () => {
        key = backend.localPort ?? -1;
        routed.set(key, sniFromFirstRecord(first));
        backend.write(first);
        client.pipe(backend);
        backend.pipe(client);
      });
      backend.on('error', () => undefined);
      // Each end goes with the other: closing the router's connections closes every backend connection too.
      backend.once('close', () => { client.destroy(); routed.delete(key); });
      client.once('close', () => { backend.destroy(); });
    });
  });
  const listener = openListener(front);
  return { port: await listener.listen(host, port), stop: () => listener.close() };
}

/** Optional mode: whether this connection gets the anonymous response. */
export function isAnonymous(socket: TLSSocket, opts: DeployOptions): boolean {
  const peer = socket.getPeerCertificate?.() as Partial<DetailedPeerCertificate> | undefined;
  const presented = peer !== undefined && Buffer.isBuffer(peer.raw);
  switch (opts.optionalAuth) {
    case 'strict': return !presented;
    case 'downgrade': return !socket.authorized;
    case 'as-required': return false;
    case 'never-asks': return true;
  }
}
