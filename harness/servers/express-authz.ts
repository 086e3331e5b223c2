// The Express seed, as the tutorial wrote it: node:https with requestCert and
// rejectUnauthorized: false, and a middleware that checks req.client.authorized,
// logs the VALID / NOT VALID line and answers 403 itself. Per-path mode is the
// tutorial's global middleware that checks only paths starting with the
// protected prefix (its /admin). No CRL, no allow-list, no proxy, virtual hosts
// or optional mode: the seed has none, so those cases are not applicable.
import https from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { readFile } from 'node:fs/promises';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Capability, RunningServer, ServerAdapter, ServerSetup } from '../types.ts';
import { openListener } from './listener.ts';

/** Starts the Express seed for one case. */
export async function startExpressAuthz(setup: ServerSetup): Promise<RunningServer> {
  const lines: string[] = [];
  // The seed logs with console.log: no timestamp, no escaping.
  const log = (line: string): void => { lines.push(line); };

  const clientAuth = (req: Request, res: Response, next: NextFunction): void => {
    const socket = req.socket as TLSSocket;
    // The tutorial's check: getPeerCertificate() is {} (truthy) without a certificate, so it tests .subject.
    const cert = socket.getPeerCertificate() as Partial<PeerCertificate>;
    // req.client is the socket (an undocumented alias the tutorial uses, absent from the typings).
    if ((req as unknown as { client: TLSSocket }).client.authorized) {
      log(`Certificate "${String(cert.subject?.CN)}" is VALID and was issued by "${String(cert.issuer?.CN)}"`);
      next();
    } else if (cert.subject) {
      log(`Certificate "${String(cert.subject.CN)}" is NOT VALID and was issued by "${String(cert.issuer?.CN)}"`);
      res.status(403).send(`Sorry ${String(cert.subject.CN)}, certificates from ${String(cert.issuer?.CN)} are not welcome here.`);
    } else {
      log('Certificate is NOT VALID: no client certificate was sent');
      res.status(403).send('Sorry, but you need to provide a client certificate to continue.');
    }
  };

  const app = express();
  if (setup.clientAuth === 'per-path') {
    // The tutorial's own per-path form: a global middleware that checks only requests whose req.path starts with the
    // protected prefix (its '/admin'). Express routes case-insensitively, so '/INVOICES/42' skips the check and still
    // reaches the protected handler.
    const prefix = setup.paths.protected;
    app.use((req, res, next) => {
      if (!req.path.startsWith(prefix)) return next();
      clientAuth(req, res, next);
    });
    if (setup.paths.public !== undefined) {
      const publicCanary = setup.publicCanary ?? '';
      app.get(setup.paths.public, (_req, res) => { res.json({ status: 'public', canary: publicCanary }); });
    }
    app.get(setup.paths.protected, (_req, res) => { res.json({ invoice: 'INV-2026-0042', canary: setup.canary }); });
  } else {
    app.use(clientAuth);
    app.get(setup.paths.protected, (_req, res) => { res.json({ invoice: 'INV-2026-0042', canary: setup.canary }); });
  }

  const [key, cert, ca] = await Promise.all([readFile(setup.tls.key), readFile(setup.tls.cert), readFile(setup.tls.clientCa)]);
  const server = https.createServer({ key, cert, ca, requestCert: true, rejectUnauthorized: false }, app);
  return listen(server, setup, () => [...lines]);
}

/** Listens on the setup's port and returns the RunningServer; stop destroys open sockets. */
export async function listen(server: https.Server, setup: ServerSetup, logs: () => string[]): Promise<RunningServer> {
  const listener = openListener(server);
  return {
    port: await listener.listen(setup.host, setup.port),
    // In-process: the suite's own process serves.
    pid: process.pid,
    logs: () => Promise.resolve(logs()),
    stop: () => listener.close(),
  };
}

/** What the seed really does. */
const CAPABILITIES: readonly Capability[] = ['path-authz', 'log-identity'];

/** The Express seed adapter. */
const expressAuthz: ServerAdapter = { name: 'express-authz', capabilities: CAPABILITIES, start: startExpressAuthz };

export default expressAuthz;
