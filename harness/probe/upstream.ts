// The upstream of proxy cases: a plain HTTP/1.1 server the suite runs on
// loopback port 0 behind the server under test. It serves the canary, records
// every request it receives with its headers, and is stopped with the case.
import http from 'node:http';
import { UPSTREAM_HEADERS_MS, UPSTREAM_REQUEST_MS, UPSTREAM_WAIT_MS } from '../run/bounds.ts';
import { openListener } from '../servers/listener.ts';

/** One request as the upstream received it. */
export interface UpstreamRequest {
  method: string;
  /** Request target as received. */
  url: string;
  /** Header names and values in arrival order (names as sent, values as received, latin1). */
  rawHeaders: [string, string][];
  /** When it arrived (ms since the upstream started). */
  at: number;
}

/** A running upstream. */
export interface Upstream {
  host: '127.0.0.1';
  port: number;
  /** Every request received so far, in order. */
  requests(): UpstreamRequest[];
  /** Polls until `match` finds a request or `timeoutMs` passes; returns it or undefined. */
  waitFor(match: (req: UpstreamRequest) => boolean, timeoutMs?: number): Promise<UpstreamRequest | undefined>;
  /** Idempotent; closes every connection. */
  stop(): Promise<void>;
}

/** What the upstream serves. */
export interface UpstreamContent {
  canary: string;
  publicCanary?: string;
  paths: { protected: string; public?: string };
}

/** Requests kept; later ones are counted but not stored, so a looping proxy cannot exhaust memory. */
const MAX_REQUESTS = 1_000;

/** Every value of a header in a recorded request (name case-insensitive). */
export function headerValues(req: UpstreamRequest, name: string): string[] {
  const lower = name.toLowerCase();
  return req.rawHeaders.filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
}

/** Starts the upstream on 127.0.0.1, port 0. */
export async function startUpstream(content: UpstreamContent): Promise<Upstream> {
  const started = performance.now();
  const received: UpstreamRequest[] = [];
  const server = http.createServer({ headersTimeout: UPSTREAM_HEADERS_MS, requestTimeout: UPSTREAM_REQUEST_MS }, (req, res) => {
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i] ?? '', req.rawHeaders[i + 1] ?? '']);
    if (received.length < MAX_REQUESTS) received.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: pairs, at: Math.round(performance.now() - started) });
    // The body is drained (bounded by requestTimeout), never stored.
    req.resume();
    const path = (req.url ?? '/').split('?')[0];
    const body = path === content.paths.protected ? { upstream: 'invoice', invoice: 'INV-2026-0042', canary: content.canary }
      : path === content.paths.public ? { upstream: 'status', status: 'public', canary: content.publicCanary ?? '' } : undefined;
    const text = JSON.stringify(body ?? { error: 'not found' }) + '\n';
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  const listener = openListener(server);
  const port = await listener.listen('127.0.0.1', 0);
  return {
    host: '127.0.0.1',
    port,
    requests: () => received.map((r) => ({ ...r, rawHeaders: [...r.rawHeaders] })),
    waitFor: async (match, timeoutMs = UPSTREAM_WAIT_MS) => {
      const deadline = Date.now() + timeoutMs;
      let delay = 5;
      for (;;) {
        const found = received.find(match);
        if (found || Date.now() >= deadline) return found;
        // A poll interval bounded by the deadline: a proxy forwards on its own schedule.
        await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(1, deadline - Date.now()))));
        delay = Math.min(delay * 2, 100);
      }
    },
    stop: () => listener.close(),
  };
}
