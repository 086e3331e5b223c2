// Stands for your own Node server: an HTTPS app that requires client
// certificates. Nothing in it knows about the conformance suite.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';

/** Where the server finds its TLS material and what it serves. */
export interface MyServerOptions {
  cert: string;
  key: string;
  ca: string;
  crl?: string;
  invoice: string;
  log: (line: string) => void;
}

/** Creates the server (not yet listening). */
export function createMyServer(opts: MyServerOptions): https.Server {
  return https.createServer({
    cert: readFileSync(opts.cert),
    key: readFileSync(opts.key),
    ca: readFileSync(opts.ca),
    ...(opts.crl ? { crl: readFileSync(opts.crl) } : {}),
    requestCert: true,
    rejectUnauthorized: true,
  }, (req, res) => {
    const cn = (req.socket as TLSSocket).getPeerCertificate().subject.CN;
    opts.log(`${req.method ?? 'GET'} ${JSON.stringify(req.url)} by CN=${JSON.stringify(cn)}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end(opts.invoice);
  });
}
