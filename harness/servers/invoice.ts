// The invoice server: the seed tutorial's node:https server grown into the
// reference for doing mTLS right in Node. Runs in-process on port 0. Every
// hardening measure is a named option, so the broken variants that prove the
// suite's verdicts can fail are this same server with one measure switched off.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket, PeerCertificate, DetailedPeerCertificate } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { escapeLogValue } from '../logs.ts';
import type { Capability, RunningServer, ServerAdapter, ServerSetup } from '../types.ts';

/** The hardening measures of the invoice server; all on by default. */
export interface InvoiceOptions {
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
}

/** A secure invoice server. */
export const SECURE: InvoiceOptions = {
  loadClientCa: true,
  requestCert: true,
  rejectUnauthorized: true,
  checkAuthorized: true,
  honourCrl: true,
  logIdentity: true,
  escapeLogs: true,
};

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

/** Builds an invoice-server adapter with the given measures (name shown in reports). */
export function invoiceAdapter(name = 'invoice', overrides: Partial<InvoiceOptions> = {}): ServerAdapter {
  const opts: InvoiceOptions = { ...SECURE, ...overrides };
  const capabilities: Capability[] = ['crl', 'crl-reload', 'path-authz', 'allowlist', 'log-identity'];
  return {
    name,
    capabilities,
    start: (setup) => startInvoiceServer(setup, opts),
  };
}

async function tlsOptions(setup: ServerSetup, opts: InvoiceOptions, tls: ServerSetup['tls']): Promise<https.ServerOptions> {
  const [cert, key, ca, crl] = await Promise.all([
    readFile(tls.cert, 'utf8'), readFile(tls.key, 'utf8'), readFile(tls.clientCa, 'utf8'),
    tls.crl && opts.honourCrl ? readFile(tls.crl, 'utf8') : Promise.resolve(undefined),
  ]);
  return {
    cert, key,
    ...(opts.loadClientCa ? { ca: splitPem(ca) } : {}),
    ...(crl !== undefined ? { crl: splitPem(crl) } : {}),
    requestCert: opts.requestCert,
    rejectUnauthorized: opts.rejectUnauthorized && setup.clientAuth === 'required',
    minVersion: 'TLSv1.2',
  };
}

/** Starts the invoice server for one case. */
export async function startInvoiceServer(setup: ServerSetup, opts: InvoiceOptions = SECURE): Promise<RunningServer> {
  const lines: string[] = [];
  const log = (line: string): void => { lines.push(`${new Date().toISOString()} ${line}`); };
  const field = (value: string): string => (opts.escapeLogs ? escapeLogValue(value) : value);
  let current: ServerSetup['tls'] = { ...setup.tls };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket as TLSSocket;
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    const peer = socket.getPeerCertificate?.() as DetailedPeerCertificate | undefined;
    const cn = commonName(peer?.subject);
    const isProtected = path === setup.paths.protected;
    const isPublic = setup.paths.public !== undefined && path === setup.paths.public;
    const send = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (isPublic && setup.clientAuth === 'per-path') {
      return send(200, JSON.stringify({ status: 'public', canary: setup.publicCanary ?? '' }) + '\n');
    }
    if (!isProtected) return send(404, '{"error":"not found"}\n');
    if (opts.checkAuthorized && !socket.authorized) {
      log(`refused ${socket.remoteAddress ?? '?'} ${req.method ?? 'GET'} ${field(url)}: ${socket.authorizationError ? String(socket.authorizationError) : 'no client certificate'}`);
      return send(403, '{"error":"a valid client certificate is required"}\n');
    }
    if (setup.allowedClients && (cn === undefined || !setup.allowedClients.includes(cn))) {
      log(`forbidden ${socket.remoteAddress ?? '?'} CN="${field(cn ?? '')}" ${req.method ?? 'GET'} ${field(url)}: not in the allow-list`);
      return send(403, '{"error":"this client is not allowed"}\n');
    }
    if (opts.logIdentity) {
      const issuer = commonName(peer?.issuer) ?? '';
      log(`accepted ${socket.remoteAddress ?? '?'} CN="${field(cn ?? '')}" issuer="${field(issuer)}" ${req.method ?? 'GET'} ${field(url)}`);
    }
    send(200, invoiceBody(setup.canary));
  };

  const server = https.createServer(await tlsOptions(setup, opts, current), handler);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    log(`refused ${socket.remoteAddress ?? '?'} during the handshake: ${err.code ?? err.message}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(setup.port, setup.host, () => { server.off('error', reject); resolve(); });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : setup.port;
  let stopped: Promise<void> | undefined;
  return {
    port,
    logs: () => Promise.resolve([...lines]),
    reload: async (tls) => {
      current = { ...current, ...tls };
      server.setSecureContext(await tlsOptions(setup, opts, current));
      // New trust or revocation state must not be bypassed by resuming a session made under the old one.
      server.setTicketKeys(randomBytes(48));
      log('reloaded CA and CRL');
    },
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
  };
}

export default invoiceAdapter();
