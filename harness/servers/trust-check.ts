// Trust material the invoice server checks before it starts (OpenSSL parses
// the CRLs, so a 100,000-entry CRL is no problem): a client-CA
// bundle that cannot be read, holds nothing, holds garbage or holds no CA
// certificate, and a CRL file that holds no parseable CRL, stop the start
// (fail closed). The lenient variant is the broken pattern: such material is
// taken as "no restriction" (any certificate serves) or "no CRL".
import { X509Certificate, createHash } from 'node:crypto';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import type { ServerSetup } from '../types.ts';
import type { InvoiceOptions } from './invoice.ts';
import { readOwnFile, writeOwnFile } from '../run/own-files.ts';

/** 'refuse-start': bad material ends start() with an error; 'lenient': it silently weakens the server. */
export type TrustMaterialPolicy = 'refuse-start' | 'lenient';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----\r?\n?/g;

/** What was found wrong with each content already checked, by kind and digest (the TLS 1.2 and 1.3 runs of a case start on the same files). */
const flaws = new Map<string, string | undefined>();
const FLAWS_KEPT = 256;

/**
 * What is wrong with a PEM file that must hold only blocks of `kind` that `parse` accepts and whose parsed blocks
 * `judge` accepts, or undefined. One kind is always checked with the same `parse` and `judge`.
 */
function pemFlaw<T>(file: string, kind: string, parse: (der: Buffer, pem: string) => T, judge: (parsed: T[]) => string | undefined = () => undefined): string | undefined {
  let text: string;
  try {
    text = readOwnFile(file);
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  const key = `${kind} ${createHash('sha256').update(text).digest('base64')}`;
  if (flaws.has(key)) return flaws.get(key);
  const flaw = textFlaw(text, kind, parse, judge);
  if (flaws.size >= FLAWS_KEPT) flaws.clear();
  flaws.set(key, flaw);
  return flaw;
}

/** What is wrong with the text of such a file, or undefined. */
function textFlaw<T>(text: string, kind: string, parse: (der: Buffer, pem: string) => T, judge: (parsed: T[]) => string | undefined): string | undefined {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) return text.trim() === '' ? 'is empty' : `holds no PEM ${kind}`;
  if (text.replace(PEM_BLOCK, '').trim() !== '') return 'holds text outside its PEM blocks';
  const parsed: T[] = [];
  for (const [pem, type, body] of blocks) {
    if (type !== kind) return `holds a ${type ?? '?'} block where only ${kind} belongs`;
    try {
      parsed.push(parse(Buffer.from((body ?? '').replace(/\s+/g, ''), 'base64'), pem));
    } catch {
      return `holds a ${kind} block that does not parse`;
    }
  }
  return judge(parsed);
}

/** Why the client-CA bundle cannot anchor client verification, or undefined. */
function clientCaFlaw(file: string): string | undefined {
  return pemFlaw(file, 'CERTIFICATE', (der) => new X509Certificate(der),
    (certs) => (certs.some((c) => c.ca) ? undefined : 'holds no CA certificate (CA:TRUE), only end-entity certificates'));
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
