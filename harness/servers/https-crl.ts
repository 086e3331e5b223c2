// The CRL seed, as the tutorial wrote it: node:https with ca, crl, requestCert
// and rejectUnauthorized, one log line per request (date, remote address, CN,
// method, URL), the invoice on every path. The files are passed as read, so
// what Node does with a bundle (only the first PEM CRL) is what the suite sees.
import https from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { readFile } from 'node:fs/promises';
import type { Capability, RunningServer, ServerAdapter, ServerSetup } from '../types.ts';
import { listen } from './express-authz.ts';

/** Starts the CRL seed for one case. */
export async function startHttpsCrl(setup: ServerSetup): Promise<RunningServer> {
  const lines: string[] = [];
  const [key, cert, ca, crl] = await Promise.all([
    readFile(setup.tls.key), readFile(setup.tls.cert), readFile(setup.tls.clientCa),
    setup.tls.crl === undefined ? Promise.resolve(undefined) : readFile(setup.tls.crl),
  ]);
  const server = https.createServer({ key, cert, ca, ...(crl ? { crl } : {}), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate() as Partial<PeerCertificate>;
    lines.push(`${new Date().toISOString()} ${req.socket.remoteAddress ?? '-'} ${String(peer.subject?.CN)} ${req.method ?? '-'} ${req.url ?? '-'}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ invoice: 'INV-2026-0042', canary: setup.canary }) + '\n');
  });
  return listen(server, setup, () => [...lines]);
}

/** What the seed really does: no reload, no per-path mode, no allow-list. */
const CAPABILITIES: readonly Capability[] = ['crl', 'log-identity'];

/** The CRL seed adapter. */
const httpsCrl: ServerAdapter = { name: 'https-crl', capabilities: CAPABILITIES, start: startHttpsCrl };

export default httpsCrl;
