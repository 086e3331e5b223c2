// The probe client: one TLS connection on loopback presenting a chosen identity
// (or none), one or more HTTP/1.1 requests on it, every wait bounded, and what
// happened classified per docs/contract.md ("Outcomes and verdicts") with the raw evidence kept.
import { constants as cryptoConstants } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { PROTOCOL, type SecureContexts } from './contexts.ts';
import type { Observation, TlsVersion } from '../types.ts';
import { HOLD_MARGIN_MS, HOLD_MS, PROBE_TIMEOUT_MS, RAW_TIMEOUT_MS } from '../run/bounds.ts';

/** A client identity: certificate chain and key, PEM text. */
export interface Identity {
  /** Leaf first, then any intermediates the client sends. */
  cert: string;
  key: string;
}

/** One HTTP request sent on the probe connection. */
export interface ProbeRequest {
  /** Request target, sent verbatim; default '/'. */
  path?: string;
  method?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

/** Everything one probe connection needs. */
export interface ProbeOptions {
  port: number;
  host?: string;
  tls: TlsVersion | 'legacy';
  /** PEM of the CA that issued the server certificate (the probe verifies the server). */
  serverCa: string;
  /** Identity to present; absent = no certificate. */
  identity?: Identity;
  /** The token that marks the protected resource. */
  canary: string;
  /** SNI to send; default 'localhost'; false sends none. */
  servername?: string | false;
  /** Requests sent in order on one keep-alive connection; default one GET /. */
  requests?: ProbeRequest[];
  /** A session to resume (from an earlier ProbeResult). */
  session?: Buffer;
  /** Bound on the whole connection; default 5000 ms. */
  timeoutMs?: number;
  /** OpenSSL cipher string; default lets the client send anything (SECLEVEL 0). */
  ciphers?: string;
  /** false: offer no session ticket extension, so TLS 1.2 resumption can only use a session id. */
  sessionTickets?: boolean;
  /** false: verify the server's chain but not its name (SNI variants that name another host). */
  verifyServerName?: boolean;
  /** After the last response, renegotiate this many times (TLS 1.2), each bounded by `timeoutMs` of its own. */
  renegotiate?: { attempts: number; timeoutMs: number };
  /**
   * After the handshake, wait this long for the server to end the connection before sending the request
   * (the TLS 1.3 hold test: a server that refused the certificate closes at once, one whose handler dies waits
   * for the request). Set by probe() itself when a TLS 1.3 ending is ambiguous.
   */
  holdMs?: number;
  /** false: take an ambiguous TLS 1.3 ending as it is, without the hold test (default true). */
  disambiguate?: boolean;
  /** Contexts kept across the connections of one case: one per identity, CA and ciphers, for all its versions, instead of one per connection. */
  contexts?: SecureContexts;
}

export { HOLD_MS };

/** The observations of one probe connection. */
export interface ProbeResult {
  /** One per request sent (all the same when the handshake failed). */
  observations: Observation[];
  /** The session to resume later, when the server issued one. */
  session?: Buffer;
  /** With `renegotiate`: how many renegotiations completed, and how the first refused one ended. */
  renegotiations?: { attempted: number; completed: number; refusal?: string };
}

/** TLS alert numbers (RFC 8446 §6, RFC 5246 §7.2) to names. */
export const ALERTS: Readonly<Record<number, string>> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 22: 'record_overflow', 40: 'handshake_failure',
  42: 'bad_certificate', 43: 'unsupported_certificate', 44: 'certificate_revoked', 45: 'certificate_expired',
  46: 'certificate_unknown', 47: 'illegal_parameter', 48: 'unknown_ca', 49: 'access_denied', 50: 'decode_error',
  51: 'decrypt_error', 70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error',
  86: 'inappropriate_fallback', 90: 'user_canceled', 100: 'no_renegotiation', 109: 'missing_extension', 110: 'unsupported_extension',
  112: 'unrecognized_name', 116: 'certificate_required', 120: 'no_application_protocol',
};

const MAX_BODY = 1 << 20;

/**
 * Connects and sends the requests; never throws, never waits unbounded. Under TLS 1.3 a client learns that the
 * server refused its certificate only after its own handshake finished, and a server that then closes without
 * an alert looks like one whose request handler died (as does, under either version, a server that refuses
 * the client right after the handshake). When an ending after the handshake has no alert and no response, a
 * second connection holds back its request to tell the two apart: a refusing server closes before any request
 * comes, a dying handler only after it (see HOLD_MS).
 */
export async function probe(opts: ProbeOptions): Promise<ProbeResult> {
  const result = await connectOnce(opts);
  const first = result.observations[0];
  if (opts.disambiguate === false || opts.holdMs !== undefined || opts.renegotiate || (opts.requests?.length ?? 1) !== 1 || !first || !isAmbiguous(first)) return result;
  // A refusing server may be slow to decide (a large CRL on a loaded machine): the hold outlasts how long it took
  // to close the first connection after its handshake, within the probe's own bound.
  const timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS;
  const tookMs = closedAfterHandshake.get(first) ?? 0;
  const holdMs = Math.max(HOLD_MS, Math.min(2 * tookMs + HOLD_MS, timeoutMs - HOLD_MARGIN_MS));
  const held = await connectOnce({ ...opts, holdMs });
  const obs = held.observations[0];
  if (!obs) return result;
  return { ...result, observations: [obs] };
}

/** How long after its handshake the server ended an ambiguous connection (ms), for the hold test that follows it. */
const closedAfterHandshake = new WeakMap<Observation, number>();

/** An ending after a completed handshake, without alert or response, that by itself does not say whether the server refused the client. */
export function isAmbiguous(obs: Observation): boolean {
  return obs.outcome === 'rejected-handshake' && obs.handshake === true && obs.requestSent === true
    && (obs.alert === 'closed' || obs.alert === 'reset') && (obs.responseBytes ?? 0) === 0;
}

/** Whether a negotiated protocol lies within the range a probe offered. */
export function withinRange(protocol: string | undefined, min: tls.SecureVersion, max: tls.SecureVersion): boolean {
  if (protocol === undefined || !Object.hasOwn(PROTOCOL, protocol)) return false;
  const at = PROTOCOL[protocol as tls.SecureVersion];
  return at >= PROTOCOL[min] && at <= PROTOCOL[max];
}

/** One connection: handshake, requests, classification. */
function connectOnce(opts: ProbeOptions): Promise<ProbeResult> {
  const requests = opts.requests ?? [{}];
  const timeoutMs = opts.timeoutMs ?? PROBE_TIMEOUT_MS;
  const started = performance.now();
  return new Promise<ProbeResult>((resolve) => {
    const observations: Observation[] = [];
    let session: Buffer | undefined;
    let handshakeDone = false;
    let requestSent = false;
    let sessionIssued = false;
    let received = 0;
    // With holdMs: whether the hold ran out with the connection open (the server waited for a request).
    let heldOpen: boolean | undefined;
    // When the handshake completed, and how long after it an ambiguous ending came.
    let handshakeAt: number | undefined;
    let pendingClose: number | undefined;
    let holdTimer: NodeJS.Timeout | undefined;
    let protocol: string | undefined;
    let buffer = Buffer.alloc(0);
    let settled = false;
    let renegotiation: { attempted: number; completed: number; refusal?: string } | undefined;
    const versions = opts.tls === 'legacy'
      ? { minVersion: 'TLSv1' as const, maxVersion: 'TLSv1.1' as const }
      : { minVersion: `TLSv${opts.tls}` as const, maxVersion: `TLSv${opts.tls}` as const };
    const contextOptions = {
      ca: opts.serverCa,
      ...(opts.identity ? { cert: opts.identity.cert, key: opts.identity.key } : {}),
      ...versions,
      ciphers: opts.ciphers ?? 'DEFAULT:@SECLEVEL=0',
      ...(opts.sessionTickets === false ? { secureOptions: cryptoConstants.SSL_OP_NO_TICKET } : {}),
    };
    const socket: tls.TLSSocket = tls.connect({
      host: opts.host ?? '127.0.0.1',
      port: opts.port,
      ...(opts.servername === false ? {} : { servername: opts.servername ?? 'localhost' }),
      ...(opts.contexts ? { secureContext: opts.contexts.get(contextOptions) } : contextOptions),
      ...(opts.session ? { session: opts.session } : {}),
      checkServerIdentity: opts.verifyServerName === false ? () => undefined : (host: string): Error | undefined => tls.checkServerIdentity(host, serverCertificate()),
      rejectUnauthorized: true,
    });
    // Node turns the whole verified server chain into objects only to hand it to checkServerIdentity. The name is
    // checked by the same function on the server's certificate alone (0.09 ms a handshake instead of 0.54 ms, and
    // 0.22 ms for an X509Certificate), and nothing else reads the chain of a probe socket.
    const serverCertificate = socket.getPeerCertificate.bind(socket, false);
    socket.getPeerCertificate = noPeerObjects;

    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(holdTimer);
      socket.destroy();
      const ms = Math.round(performance.now() - started);
      const last = observations.at(-1);
      while (observations.length < requests.length) {
        observations.push(last ? { ...last, ms } : { outcome: 'error', error: 'no response', canarySeen: false, ms });
      }
      resolve({ observations, ...(session ? { session } : {}), ...(renegotiation ? { renegotiations: renegotiation } : {}) });
    };
    const fail = (obs: Omit<Observation, 'ms' | 'canarySeen'>): void => {
      if (settled) return;
      if (renegotiation && observations.length >= requests.length) {
        // Every request was answered: an ending now is the server's answer to the renegotiation.
        renegotiation.refusal ??= describeObservation({ ...obs, canarySeen: false, ms: 0 });
        return finish();
      }
      const observation: Observation = { ...obs, canarySeen: false, ...(protocol ? { protocol } : {}), ...progress(), ms: Math.round(performance.now() - started) };
      if (pendingClose !== undefined) closedAfterHandshake.set(observation, pendingClose);
      observations.push(observation);
      finish();
    };
    const progress = (): Pick<Observation, 'handshake' | 'requestSent' | 'responseBytes' | 'sessionIssued'> =>
      ({ handshake: handshakeDone, requestSent, responseBytes: received, sessionIssued });
    // The connection ended (closed, or reset) with no complete response to the current request.
    const ended = (how: 'closed' | 'reset', code: string): void => {
      if (!handshakeDone) {
        return fail({ outcome: 'rejected-handshake', alert: how, error: `${code}: connection ${how === 'reset' ? 'reset' : 'closed'} during the handshake` });
      }
      if (!requestSent && opts.holdMs !== undefined) {
        return fail({ outcome: 'rejected-handshake', alert: how, error: code,
          evidence: `after the ${protocol ?? 'TLS'} handshake the server ${how === 'reset' ? 'reset' : 'closed'} the connection before any request was sent (${Math.round(performance.now() - started)} ms after connecting): it refused the client at the connection level` });
      }
      if (heldOpen === true) {
        return fail({ outcome: 'dropped', error: code,
          evidence: `the server kept the connection open for ${opts.holdMs ?? 0} ms after the ${protocol ?? 'TLS'} handshake, waiting for a request, and ${how === 'reset' ? 'reset' : 'closed'} it only after the request came, with ${received} bytes of response: its request handler dropped the request; nobody refused the client` });
      }
      // Ambiguous by itself: probe() runs the hold test, unless told not to.
      if (handshakeAt !== undefined) pendingClose = Math.round(performance.now() - handshakeAt);
      fail({ outcome: 'rejected-handshake', alert: how, error: code,
        evidence: `the connection ended after the ${protocol ?? 'TLS'} handshake without an alert or a response${sessionIssued ? ' (a session was issued)' : ''}; by itself this does not tell a refusal from a request handler that died` });
    };
    const timer = setTimeout(() => {
      fail({ outcome: 'error', error: `timeout: no answer within ${timeoutMs} ms ${handshakeDone ? 'after the handshake' : 'during the handshake'}` });
    }, timeoutMs);

    const sendNext = (): void => {
      const req = requests[observations.length];
      if (!req) return finish();
      const last = observations.length === requests.length - 1 && !opts.renegotiate;
      const headers: Record<string, string> = { Host: `localhost:${opts.port}`, 'User-Agent': 'mtls-conformance', Connection: last ? 'close' : 'keep-alive', ...req.headers };
      const head = `${req.method ?? 'GET'} ${req.path ?? '/'} HTTP/1.1\r\n` + Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
      requestSent = true;
      received = 0;
      socket.write(head);
    };

    const renegotiateOnce = (timeout: number): Promise<string | undefined> => new Promise((done) => {
      const timer = setTimeout(() => done(`no answer within ${timeout} ms`), timeout);
      const ok = socket.renegotiate({ rejectUnauthorized: true }, (err: NodeJS.ErrnoException | null) => {
        clearTimeout(timer);
        done(err ? err.code ?? err.message : undefined);
      });
      if (!ok) {
        clearTimeout(timer);
        done('the connection was already closed');
      }
    });
    const renegotiateRepeatedly = async (): Promise<void> => {
      const { attempts, timeoutMs: each } = opts.renegotiate ?? { attempts: 0, timeoutMs: 0 };
      const state: { attempted: number; completed: number; refusal?: string } = { attempted: 0, completed: 0 };
      renegotiation = state;
      for (let i = 0; i < attempts && !settled; i++) {
        state.attempted++;
        const refusal = await renegotiateOnce(each);
        if (refusal !== undefined) {
          state.refusal ??= refusal;
          break;
        }
        state.completed++;
      }
      finish();
    };
    socket.on('session', (s: Buffer) => { session = s; sessionIssued = true; });
    socket.once('secureConnect', () => {
      handshakeDone = true;
      handshakeAt = performance.now();
      protocol = socket.getProtocol() ?? undefined;
      // The version is pinned by the (possibly shared) context: a connection outside its range is the harness's fault, never the server's.
      if (!withinRange(protocol, versions.minVersion, versions.maxVersion)) {
        return fail({ outcome: 'error', error: `the probe negotiated ${protocol ?? 'no protocol'} though it offered only ${versions.minVersion}–${versions.maxVersion}` });
      }
      session ??= socket.getSession();
      if (opts.holdMs === undefined) return sendNext();
      holdTimer = setTimeout(() => { heldOpen = true; sendNext(); }, opts.holdMs);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (!requestSent) return fail({ outcome: 'error', error: `the server sent ${chunk.length} bytes of application data before any request` });
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length > MAX_BODY) return fail({ outcome: 'error', error: `response larger than ${MAX_BODY} bytes` });
      for (;;) {
        const parsed = parseResponse(buffer, false);
        if (!parsed) return;
        buffer = buffer.subarray(parsed.consumed);
        const answer = classifyResponse(parsed, opts.canary, protocol, socket.isSessionReused(), started);
        if (renegotiation) {
          // A response while renegotiating is the server's refusal of it (Node answers 400 and closes).
          renegotiation.refusal ??= describeObservation(answer);
          return finish();
        }
        observations.push(answer);
        if (observations.length >= requests.length) return opts.renegotiate ? void renegotiateRepeatedly() : finish();
        sendNext();
      }
    });
    socket.on('end', () => {
      const parsed = buffer.length > 0 ? parseResponse(buffer, true) : undefined;
      if (parsed) {
        const answer = classifyResponse(parsed, opts.canary, protocol, socket.isSessionReused(), started);
        if (renegotiation) renegotiation.refusal ??= describeObservation(answer);
        else observations.push(answer);
        return finish();
      }
      if (buffer.length > 0) return fail({ outcome: 'error', error: `the server closed after ${buffer.length} bytes that are not an HTTP response` });
      ended('closed', 'end of stream');
    });
    socket.on('close', () => {
      if (!settled) ended('closed', 'connection closed');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return ended('reset', err.code);
      fail(classifyError(err, handshakeDone));
    });
  });
}

/** What a probe socket gives for getPeerCertificate(): nothing is built (see connectOnce). */
const noPeerObjects = (() => ({})) as tls.TLSSocket['getPeerCertificate'];

/** OpenSSL client errors that mean the peer's bytes are not TLS at all. */
const NOT_TLS = /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|HTTPS_PROXY_REQUEST|UNKNOWN_PROTOCOL|RECORD_LENGTH_MISMATCH|RECORD_TOO_LARGE|ENCRYPTED_LENGTH_TOO_LONG/;

/**
 * Classifies a socket error. Only an alert the server sent ("SSL alert number N" in OpenSSL's message) is
 * an alert; a reset is a reset; the probe's own TLS errors (bytes that are not TLS, a version it did not
 * offer, a server certificate it cannot verify) are errors that say what they are, never refusals.
 */
export function classifyError(err: NodeJS.ErrnoException, handshakeDone: boolean): Omit<Observation, 'ms' | 'canarySeen'> {
  const code = err.code ?? '';
  const alertNumber = /alert number (\d+)/.exec(err.message)?.[1];
  if (alertNumber !== undefined) {
    const n = Number(alertNumber);
    return { outcome: 'rejected-handshake', alert: ALERTS[n] ?? `alert_${n}`, error: code || err.message };
  }
  if (code === 'ECONNRESET' || code === 'EPIPE') return { outcome: 'rejected-handshake', alert: 'reset', error: code };
  if (NOT_TLS.test(code)) {
    return { outcome: 'error', error: `not TLS: the port answered bytes that are not a TLS record (the probe's ${code})` };
  }
  if (/UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|VERSION_TOO_LOW|VERSION_TOO_HIGH/.test(code)) {
    return { outcome: 'error', error: `the server chose a TLS version the probe did not offer (the probe's ${code})` };
  }
  if (!handshakeDone && (code.startsWith('ERR_TLS_') || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME|ALTNAME/.test(code))) {
    return { outcome: 'error', error: `the probe could not verify the server certificate: ${code} ${err.message}` };
  }
  if (code.startsWith('ERR_SSL_')) return { outcome: 'error', error: `the probe's TLS library failed: ${code} (${err.message.split('\n')[0] ?? ''})` };
  return { outcome: 'error', error: `${code || 'error'}: ${err.message}` };
}

interface ParsedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  consumed: number;
}

/** Parses one HTTP/1.1 response off the front of `buf`; undefined while incomplete. */
export function parseResponse(buf: Buffer, atEnd: boolean): ParsedResponse | undefined {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return atEnd && buf.length > 0 ? { status: 0, headers: {}, body: buf, consumed: buf.length } : undefined;
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const start = headEnd + 4;
  const length = headers['content-length'];
  if (length !== undefined) {
    const end = start + Number(length);
    if (buf.length < end) return atEnd ? { status, headers, body: buf.subarray(start), consumed: buf.length } : undefined;
    return { status, headers, body: buf.subarray(start, end), consumed: end };
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const chunks: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return atEnd ? { status, headers, body: Buffer.concat(chunks), consumed: buf.length } : undefined;
      const size = parseInt(buf.subarray(at, lineEnd).toString('latin1'), 16);
      if (Number.isNaN(size)) return { status, headers, body: Buffer.concat(chunks), consumed: buf.length };
      if (size === 0) {
        const trailerEnd = buf.indexOf('\r\n\r\n', lineEnd);
        if (trailerEnd < 0 && !atEnd) return undefined;
        return { status, headers, body: Buffer.concat(chunks), consumed: trailerEnd < 0 ? buf.length : trailerEnd + 4 };
      }
      if (buf.length < lineEnd + 2 + size + 2) return atEnd ? { status, headers, body: Buffer.concat(chunks), consumed: buf.length } : undefined;
      chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
  }
  // No framing: the body runs to the end of the connection.
  return atEnd ? { status, headers, body: buf.subarray(start), consumed: buf.length } : undefined;
}

export function classifyResponse(res: ParsedResponse, canary: string, protocol: string | undefined, resumed: boolean, started: number): Observation {
  const text = res.body.toString('utf8');
  const canarySeen = text.includes(canary);
  const base = { status: res.status, bodyExcerpt: text.slice(0, 200), canarySeen, resumed, ms: Math.round(performance.now() - started), ...(protocol ? { protocol } : {}),
    handshake: true, requestSent: true, responseBytes: res.consumed };
  if (canarySeen) return { ...base, outcome: res.status >= 200 && res.status < 300 ? 'accepted' : 'leaked' };
  if (res.status >= 400) return { ...base, outcome: 'rejected-http' };
  return { ...base, outcome: 'error', error: `HTTP ${res.status || '(no status line)'} without the canary` };
}

/** Terse evidence of an observation for console and tables, e.g. "alert unknown_ca". */
export function describeObservation(obs: Observation): string {
  switch (obs.outcome) {
    case 'accepted': return `served (HTTP ${obs.status ?? '?'})`;
    case 'leaked': return `leaked the canary with HTTP ${obs.status ?? '?'}`;
    case 'rejected-http': return `HTTP ${obs.status ?? '?'}`;
    case 'rejected-handshake':
      if (obs.alert === 'reset') return 'connection reset';
      if (obs.alert === 'closed') return 'connection closed without an alert';
      return `alert ${obs.alert ?? '?'}`;
    case 'dropped': return 'handshake completed, request sent, connection ended without a response';
    case 'error': return `error: ${obs.error ?? 'unknown'}`;
  }
}

/** The observation as the end of a sentence: "it was served the protected resource (HTTP 200) under TLS 1.3". */
export function observationSentence(obs: Observation, tls: string): string {
  const version = ` under ${obs.protocol?.replace('TLSv', 'TLS ') ?? `TLS ${tls}`}`;
  switch (obs.outcome) {
    case 'accepted': return `it was served the protected resource (HTTP ${obs.status ?? '?'})${version}`;
    case 'leaked':
      if ((obs.status ?? 0) >= 200 && (obs.status ?? 0) < 300) return `it was served the protected resource (HTTP ${obs.status ?? '?'})${version}`;
      return `the protected resource leaked in an HTTP ${obs.status ?? '?'} response${version}`;
    case 'rejected-http': return `it was refused with HTTP ${obs.status ?? '?'}${version}`;
    case 'rejected-handshake': return `it was refused at the TLS layer (${describeObservation(obs)})${version}`;
    case 'dropped': return `the handshake completed and the request was sent, then the server ended the connection without any response: nobody refused the client (${obs.evidence ?? 'no evidence'})${version}`;
    case 'error': return `the probe failed (${obs.error ?? 'unknown error'})${version}`;
  }
}

/** What a raw byte exchange saw. */
export interface RawResult {
  /** The first bytes the server sent back (at most 4 KiB). */
  received: Buffer;
  /** How the exchange ended: the server closed, reset, we reset, or the bound passed with the connection open. */
  ending: 'closed' | 'reset' | 'client-reset' | 'open' | 'refused';
  /** A connection-level error other than a reset (ECONNREFUSED when nothing listens). */
  error?: string;
  ms: number;
}

/** Options of a raw byte exchange. */
export interface RawOptions {
  port: number;
  host?: string;
  /** Bytes written in order right after connecting. */
  chunks: Buffer[];
  /** Reset the connection as soon as the server has answered anything (a reset mid-handshake). */
  resetAfterReply?: boolean;
  /** Bound on the whole exchange; default 2000 ms. */
  timeoutMs?: number;
}

/** Writes raw bytes to a port and records what came back; never throws, never waits unbounded. */
export function sendRaw(opts: RawOptions): Promise<RawResult> {
  const started = performance.now();
  return new Promise<RawResult>((resolve) => {
    const received: Buffer[] = [];
    let size = 0;
    let settled = false;
    const socket = net.connect({ host: opts.host ?? '127.0.0.1', port: opts.port });
    const finish = (ending: RawResult['ending'], error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (ending === 'client-reset') socket.resetAndDestroy();
      else socket.destroy();
      resolve({ received: Buffer.concat(received), ending, ...(error !== undefined ? { error } : {}), ms: Math.round(performance.now() - started) });
    };
    const timer = setTimeout(() => finish('open'), opts.timeoutMs ?? RAW_TIMEOUT_MS);
    socket.once('connect', () => { for (const chunk of opts.chunks) socket.write(chunk); });
    socket.on('data', (chunk: Buffer) => {
      if (size < 4096) received.push(chunk.subarray(0, 4096 - size));
      size += chunk.length;
      if (opts.resetAfterReply) finish('client-reset');
    });
    socket.on('end', () => finish('closed'));
    socket.on('close', () => finish('closed'));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish('reset');
      else finish(err.code === 'ECONNREFUSED' ? 'refused' : 'closed', `${err.code ?? 'error'}: ${err.message}`);
    });
  });
}

/** Connections held open after sending a few bytes (stalled handshakes). */
export interface StalledConnections {
  /** How many are still open. */
  open(): number;
  /** Destroys every one of them. */
  release(): void;
}

/** Opens `count` connections, writes `payload` on each and leaves them silent; resolves once every one connected or failed, within `timeoutMs`. */
export function holdStalled(opts: { port: number; host?: string; payload: Buffer; count: number; timeoutMs?: number }): Promise<StalledConnections> {
  const sockets = new Set<net.Socket>();
  const handle: StalledConnections = {
    open: () => sockets.size,
    release: () => { for (const s of sockets) s.destroy(); sockets.clear(); },
  };
  return new Promise<StalledConnections>((resolve) => {
    let pending = opts.count;
    const timer = setTimeout(() => resolve(handle), opts.timeoutMs ?? RAW_TIMEOUT_MS);
    const settle = (): void => {
      if (--pending === 0) {
        clearTimeout(timer);
        resolve(handle);
      }
    };
    for (let i = 0; i < opts.count; i++) {
      const socket = net.connect({ host: opts.host ?? '127.0.0.1', port: opts.port });
      sockets.add(socket);
      socket.once('connect', () => { socket.write(opts.payload); settle(); });
      socket.once('error', () => { sockets.delete(socket); settle(); });
      socket.once('close', () => { sockets.delete(socket); });
      // The server's replies are read and dropped so its writes never block on us.
      socket.on('data', () => undefined);
    }
  });
}

/** A real ClientHello as a Node TLS client sends it (SNI localhost), captured on a loopback listener; bounded by `timeoutMs`. */
export async function captureClientHello(version: TlsVersion, timeoutMs = RAW_TIMEOUT_MS): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ClientHello within ${timeoutMs} ms`)), timeoutMs);
      server.once('connection', (socket: net.Socket) => {
        socket.once('data', (chunk: Buffer) => {
          clearTimeout(timer);
          socket.destroy();
          client.destroy();
          resolve(chunk);
        });
      });
      const client = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', minVersion: `TLSv${version}`, maxVersion: `TLSv${version}` });
      client.on('error', () => undefined);
    });
  } finally {
    server.close();
  }
}
