// Decoding the client identity a proxy forwards to its upstream, in each of the
// formats a ServerAdapter can declare: what identities does the header yield,
// and is it well-formed? A header that yields two identities is a split.
import { X509Certificate } from 'node:crypto';
import type { BuiltCert } from '../pki/pki.ts';
import type { ForwardingFormat } from '../types.ts';

/** One identity read from a forwarded header. */
export interface ForwardedIdentity {
  /** The certificate, for formats that carry one. */
  cert?: X509Certificate;
  /** The subject CN (from the certificate, or the header itself for 'cn' / 'dn'). */
  cn?: string;
  /** How it reads in a report. */
  describe: string;
}

/** What a forwarded header yields. */
export interface DecodedForwarding {
  identities: ForwardedIdentity[];
  /** Why the header is not one well-formed identity, when it is not. */
  problem?: string;
}

/** Header values arrive as latin1 text; certificate names are UTF-8. */
function utf8(value: string): string {
  return Buffer.from(value, 'latin1').toString('utf8');
}

function certIdentity(cert: X509Certificate): ForwardedIdentity {
  const cn = subjectCn(cert);
  return { cert, ...(cn !== undefined ? { cn } : {}), describe: `certificate ${JSON.stringify(cn ?? cert.subject)} (SHA-256 ${cert.fingerprint256.slice(0, 23)}…)` };
}

/** The subject CN of a certificate as one string (multi-valued CNs joined with '+'). */
function subjectCn(cert: X509Certificate): string | undefined {
  const cns = cert.subject.split('\n').filter((l) => l.startsWith('CN=')).map((l) => l.slice(3));
  return cns.length === 0 ? undefined : cns.join('+');
}

function parsePems(text: string): X509Certificate[] | string {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return 'no PEM certificate in it';
  const certs: X509Certificate[] = [];
  for (const block of blocks) {
    // Apache's %{SSL_CLIENT_CERT}s turns the PEM's newlines into spaces: take the base64 between the markers.
    const b64 = block.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
    try {
      certs.push(new X509Certificate(Buffer.from(b64, 'base64')));
    } catch {
      return 'a PEM block that is not a certificate';
    }
  }
  return certs;
}

/** Splits at `sep` outside double quotes (backslash escapes inside them). */
function splitOutsideQuotes(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (quoted && ch === '\\') { current += ch + (text[i + 1] ?? ''); i++; continue; }
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === sep) { parts.push(current); current = ''; continue; }
    current += ch;
  }
  parts.push(current);
  return parts;
}

/** An HTTP quoted-string's content (RFC 9110 §5.6.4), or the text itself when unquoted. */
function unquote(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  return t;
}

/** The CN values of an RFC 4514 DN (`CN=a\,b,O=x`, hex escapes `\C3\BC`); undefined when malformed. */
export function dnCommonNames(dn: string): string[] | undefined {
  const values: string[] = [];
  let i = 0;
  while (i < dn.length) {
    const eq = dn.indexOf('=', i);
    if (eq < 0) return undefined;
    const type = dn.slice(i, eq).trim().toUpperCase();
    const bytes: number[] = [];
    let j = eq + 1;
    for (; j < dn.length; j++) {
      const ch = dn[j] ?? '';
      if (ch === ',' || ch === '+') break;
      if (ch === '\\') {
        const hex = dn.slice(j + 1, j + 3);
        if (/^[0-9A-Fa-f]{2}$/.test(hex)) { bytes.push(parseInt(hex, 16)); j += 2; continue; }
        const next = dn[j + 1];
        if (next === undefined) return undefined;
        bytes.push(...Buffer.from(next, 'utf8'));
        j += 1;
        continue;
      }
      bytes.push(...Buffer.from(ch, 'latin1'));
    }
    if (type === 'CN') values.push(Buffer.from(bytes).toString('utf8'));
    i = j + 1;
  }
  return values;
}

/** Reads every identity the forwarded header values yield in `format`. */
export function decodeForwarded(format: ForwardingFormat, values: readonly string[]): DecodedForwarding {
  if (values.length === 0) return { identities: [], problem: 'the header did not reach the upstream' };
  const identities: ForwardedIdentity[] = [];
  const problems: string[] = [];
  if (values.length > 1) problems.push(`the header arrived ${values.length} times`);
  for (const raw of values) {
    const value = raw.trim();
    if (value === '') { problems.push('the header is empty'); continue; }
    switch (format) {
      case 'rfc9440': {
        const m = /^:([A-Za-z0-9+/]+={0,2}):$/.exec(value);
        if (!m) { problems.push('not an RFC 8941 byte sequence (:base64:)'); break; }
        try {
          identities.push(certIdentity(new X509Certificate(Buffer.from(m[1] ?? '', 'base64'))));
        } catch {
          problems.push('the byte sequence is not a DER certificate');
        }
        break;
      }
      case 'pem-urlencoded': {
        let text: string;
        try {
          text = decodeURIComponent(value);
        } catch {
          problems.push('not valid URL encoding');
          break;
        }
        const certs = parsePems(text);
        if (typeof certs === 'string') problems.push(certs);
        else identities.push(...certs.map(certIdentity));
        break;
      }
      case 'xfcc': {
        for (const element of splitOutsideQuotes(value, ',')) {
          const pairs = new Map(splitOutsideQuotes(element, ';').map((p) => {
            const eq = p.indexOf('=');
            return [p.slice(0, eq).trim().toLowerCase(), unquote(p.slice(eq + 1))] as const;
          }));
          const cert = pairs.get('cert');
          const subject = pairs.get('subject');
          if (cert !== undefined) {
            let certs: X509Certificate[] | string;
            try {
              certs = parsePems(decodeURIComponent(cert));
            } catch {
              certs = 'Cert is not valid URL encoding';
            }
            if (typeof certs === 'string') problems.push(certs);
            else identities.push(...certs.slice(0, 1).map(certIdentity));
          } else if (subject !== undefined) {
            const cns = dnCommonNames(utf8(subject));
            if (cns === undefined) problems.push('Subject is not a DN');
            else identities.push(...cns.map((cn) => ({ cn, describe: `subject CN ${JSON.stringify(cn)}` })));
          } else {
            problems.push('an element with neither Cert nor Subject');
          }
        }
        break;
      }
      case 'dn': {
        const cns = dnCommonNames(utf8(value));
        if (cns === undefined) problems.push('not an RFC 4514 DN');
        else if (cns.length === 0) problems.push('a DN without a CN');
        else identities.push(...cns.map((cn) => ({ cn, describe: `DN CN ${JSON.stringify(cn)}` })));
        break;
      }
      case 'cn': {
        const text = utf8(value);
        // A quoted-string is one value; unquoted, a comma makes the field a list (RFC 9110 §5.3).
        const members = text.startsWith('"') && text.endsWith('"') && text.length >= 2 ? [unquote(text)] : splitOutsideQuotes(text, ',').map(unquote);
        identities.push(...members.map((cn) => ({ cn, describe: `CN ${JSON.stringify(cn)}` })));
        break;
      }
    }
  }
  if (identities.length > 1) problems.push(`it yields ${identities.length} identities: ${identities.map((i) => i.describe).join('; ')}`);
  return problems.length > 0 ? { identities, problem: problems.join('; ') } : { identities };
}

/** True when a forwarded identity is this client: the same certificate, or (name-only formats) the same CN. */
export function isClient(identity: ForwardedIdentity, client: BuiltCert): boolean {
  if (identity.cert) return identity.cert.fingerprint256 === client.x509.fingerprint256;
  return identity.cn !== undefined && identity.cn === client.cn;
}
