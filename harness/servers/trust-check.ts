// Trust material the invoice server checks before it starts (OpenSSL parses
// the CRLs, so a 100,000-entry CRL is no problem): a client-CA
// bundle that cannot be read, holds nothing, holds garbage or holds no CA
// certificate, and a CRL file that holds no parseable CRL, stop the start
// (fail closed). The lenient variant is the broken pattern: such material is
// taken as "no restriction" (any certificate serves) or "no CRL".
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import type { ServerSetup } from '../types.ts';
import type { InvoiceOptions } from './invoice.ts';
import { readOwnFile, writeOwnFile } from '../run/own-files.ts';

/** 'refuse-start': bad material ends start() with an error; 'lenient': it silently weakens the server. */
export type TrustMaterialPolicy = 'refuse-start' | 'lenient';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----\r?\n?/g;

/** What is wrong with a PEM file that must hold only blocks of `kind` that `parse` accepts, or undefined. */
function pemFlaw(file: string, kind: string, parse: (der: Buffer, pem: string) => void): string | undefined {
  let text: string;
  try {
    text = readOwnFile(file);
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) return text.trim() === '' ? 'is empty' : `holds no PEM ${kind}`;
  if (text.replace(PEM_BLOCK, '').trim() !== '') return 'holds text outside its PEM blocks';
  for (const [pem, type, body] of blocks) {
    if (type !== kind) return `holds a ${type ?? '?'} block where only ${kind} belongs`;
    try {
      parse(Buffer.from((body ?? '').replace(/\s+/g, ''), 'base64'), pem);
    } catch {
      return `holds a ${kind} block that does not parse`;
    }
  }
  return undefined;
}

/** Why the client-CA bundle cannot anchor client verification, or undefined. */
function clientCaFlaw(file: string): string | undefined {
  const certs: X509Certificate[] = [];
  const flaw = pemFlaw(file, 'CERTIFICATE', (der) => { certs.push(new X509Certificate(der)); });
  if (flaw !== undefined) return flaw;
  return certs.some((c) => c.ca) ? undefined : 'holds no CA certificate (CA:TRUE), only end-entity certificates';
}

/** Checks (or, leniently, works around) the setup's trust files before the server starts. */
export function applyTrustMaterial(setup: ServerSetup, opts: InvoiceOptions): { setup: ServerSetup; opts: InvoiceOptions } {
  const caFlaw = opts.loadClientCa ? clientCaFlaw(setup.tls.clientCa) : undefined;
  const crlFlaw = setup.tls.crl !== undefined && opts.honourCrl ? pemFlaw(setup.tls.crl, 'X509 CRL', (_der, pem) => { createSecureContext({ crl: pem }); }) : undefined;
  if (opts.trustMaterial === 'refuse-start') {
    if (caFlaw !== undefined) throw new Error(`refusing to start: the client-CA file ${setup.tls.clientCa} ${caFlaw}`);
    if (crlFlaw !== undefined) throw new Error(`refusing to start: the CRL file ${setup.tls.crl ?? ''} ${crlFlaw}`);
    return { setup, opts };
  }
  let next = { setup, opts };
  if (caFlaw !== undefined) {
    // No usable anchor taken as "no client CA configured": any certificate serves.
    const empty = path.join(setup.dir, 'no-client-ca.pem');
    writeOwnFile(empty, '');
    next = { setup: { ...setup, tls: { ...setup.tls, clientCa: empty } }, opts: { ...opts, verification: 'presence', loadClientCa: false } };
  }
  if (crlFlaw !== undefined) next = { ...next, opts: { ...next.opts, honourCrl: false } };
  return next;
}
