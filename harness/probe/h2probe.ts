// An HTTP/2 probe (node:http2 over a TLS connection that offers ALPN h2 and
// http/1.1): several requests, possibly for different authorities, on one
// connection, as a browser coalescing connections would send them. Every wait
// is bounded; a server that does not select h2 is reported, not failed.
import http2 from 'node:http2';
import tls from 'node:tls';
import type { Identity } from './probe.ts';
import type { Observation, TlsVersion } from '../types.ts';
import { PROBE_TIMEOUT_MS } from '../run/bounds.ts';

/** One request on the HTTP/2 connection. */
export interface H2Request {
  /** The :authority pseudo-header, e.g. 'protected.localhost:8443'. */
  authority: string;
  path: string;
  /** The token that marks the expected response of this request. */
  canary: string;
}

/** Options of one HTTP/2 probe connection. */
export interface H2ProbeOptions {
  port: number;
  tls: TlsVersion;
  serverCa: string;
  servername: string;
  identity?: Identity;
  requests: H2Request[];
  /** Bound on the whole connection; default 5000 ms. */
  timeoutMs?: number;
}

/** What the HTTP/2 probe saw. */
export interface H2Result {
  /** The protocol the server selected by ALPN (false: none). */
  alpn: string | false;
  /** One per request sent; empty when the server did not select h2 or the handshake failed. */
  observations: Observation[];
  /** Why no request was sent, when none was. */
  error?: string;
}

const MAX_BODY = 1 << 16;

/** Connects once with ALPN h2 and sends the requests one after the other on that connection. */
export function probeH2(opts: H2ProbeOptions): Promise<H2Result> {
  const started = performance.now();
  const timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS;
  return new Promise<H2Result>((resolve) => {
    let settled = false;
    let session: http2.ClientHttp2Session | undefined;
    const observations: Observation[] = [];
    const socket = tls.connect({
      host: '127.0.0.1', port: opts.port, servername: opts.servername, ca: opts.serverCa,
      minVersion: `TLSv${opts.tls}`, maxVersion: `TLSv${opts.tls}`, ALPNProtocols: ['h2', 'http/1.1'],
      ...(opts.identity ? { cert: opts.identity.cert, key: opts.identity.key } : {}),
    });
    const finish = (result: Omit<H2Result, 'observations'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session?.destroy();
      socket.destroy();
      resolve({ ...result, observations });
    };
    const timer = setTimeout(() => {
      const ms = Math.round(performance.now() - started);
      while (session && observations.length < opts.requests.length) observations.push({ outcome: 'error', error: `timeout: no answer within ${timeoutMs} ms`, canarySeen: false, ms });
      finish({ alpn: socket.alpnProtocol ?? false, ...(session ? {} : { error: `timeout: no TLS handshake within ${timeoutMs} ms` }) });
    }, timeoutMs);
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (session) return;
      finish({ alpn: false, error: `${err.code ?? 'error'}: ${err.message}` });
    });
    socket.once('secureConnect', () => {
      const alpn = socket.alpnProtocol ?? false;
      if (alpn !== 'h2') return finish({ alpn, error: `the server selected ${alpn === false ? 'no protocol' : alpn} by ALPN, not h2` });
      const s = http2.connect(`https://${opts.servername}:${opts.port}`, { createConnection: () => socket });
      session = s;
      s.on('error', () => undefined);
      const protocol = socket.getProtocol() ?? undefined;
      const sendNext = (): void => {
        const req = opts.requests[observations.length];
        if (!req) return finish({ alpn });
        const ms = (): number => Math.round(performance.now() - started);
        const stream = s.request({ ':method': 'GET', ':path': req.path, ':authority': req.authority, ':scheme': 'https' }, { endStream: true });
        let status: number | undefined;
        const chunks: Buffer[] = [];
        let size = 0;
        let done = false;
        const record = (obs: Observation): void => {
          if (done) return;
          done = true;
          observations.push(obs);
          sendNext();
        };
        stream.on('response', (headers) => { status = Number(headers[':status']); });
        stream.on('data', (chunk: Buffer) => { if (size < MAX_BODY) chunks.push(chunk); size += chunk.length; });
        stream.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const canarySeen = text.includes(req.canary);
          const base = { status: status ?? 0, bodyExcerpt: text.slice(0, 200), canarySeen, ms: ms(), ...(protocol ? { protocol } : {}) };
          if (canarySeen) return record({ ...base, outcome: (status ?? 0) >= 200 && (status ?? 0) < 300 ? 'accepted' : 'leaked' });
          if ((status ?? 0) >= 400) return record({ ...base, outcome: 'rejected-http' });
          record({ ...base, outcome: 'error', error: `HTTP ${status ?? '(no status)'} without the canary` });
        });
        stream.on('error', (err: NodeJS.ErrnoException) => {
          record({ outcome: 'rejected-http', error: `stream refused: ${err.code ?? ''} ${err.message}`.trim(), canarySeen: false, ms: ms(), ...(protocol ? { protocol } : {}) });
        });
        stream.on('close', () => {
          if (!done) record({ outcome: 'rejected-http', error: `stream closed without a response (code ${stream.rstCode ?? '?'})`, canarySeen: false, ms: ms(), ...(protocol ? { protocol } : {}) });
        });
      };
      sendNext();
    });
  });
}
