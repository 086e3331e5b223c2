// Typed allow-list entries for the invoice server: `spiffe://trust-domain/path`
// (a SPIFFE ID, matched against the one URI SAN of an X509-SVID), `dns:name`
// and `email:address` (a SAN of that type); a plain entry stays a CN. SANs are
// read from the certificate's DER (@peculiar/asn1-x509), never from Node's
// printed subjectaltname string, and compared byte for byte.
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, type Certificate, KeyUsage, KeyUsageFlags, SubjectAlternativeName, id_ce_basicConstraints, id_ce_keyUsage, id_ce_subjectAltName } from '@peculiar/asn1-x509';
import { parsedCertificate } from './parsed-certificates.ts';

/** How the invoice server matches typed entries; SECURE_SAN is the reference. */
export interface SanIdentityOptions {
  /** A rule is satisfied only by a SAN of its own type (false: any SAN value, or the CN, satisfies any rule — envoy#18259). */
  typedMatch: boolean;
  /** Compare whole values (false: stop at an embedded NUL, as a C string comparison does — Envoy CVE-2025-66220). */
  nulSafe: boolean;
  /** A SPIFFE ID counts only in a valid X509-SVID: exactly one URI SAN, a leaf (CA:FALSE, no keyCertSign or cRLSign). */
  svidRules: boolean;
  /** Compare the trust domain of a SPIFFE ID too (false: the path alone, as a matcher on workload names does). */
  compareTrustDomain: boolean;
  /** Log which SAN the identity came from (`URI:spiffe://…`, `DNS:…`); false logs the bare value. */
  logSource: boolean;
}

/** The reference behaviour. */
export const SECURE_SAN: SanIdentityOptions = { typedMatch: true, nulSafe: true, svidRules: true, compareTrustDomain: true, logSource: true };

/** SAN types the allow-list can name, with their entry prefixes. */
type SanType = 'URI' | 'DNS' | 'email';

/** One SAN entry of a certificate. */
interface San {
  type: SanType | 'other';
  value: string;
}

/** Whether an allow-list entry is a typed (SAN) rule rather than a CN. */
export function isSanRule(entry: string): boolean {
  return entry.startsWith('spiffe://') || entry.startsWith('dns:') || entry.startsWith('email:');
}

/** SPIFFE ID syntax (SPIFFE-ID §2): lower-case trust domain, path segments of [A-Za-z0-9._-], no '.' or '..', no query, port or user info. */
export function isSpiffeId(id: string): boolean {
  const match = /^spiffe:\/\/([a-z0-9._-]+)((?:\/[A-Za-z0-9._-]+)*)$/.exec(id);
  if (!match) return false;
  return (match[2] ?? '').split('/').slice(1).every((segment) => segment !== '.' && segment !== '..');
}

/** Every SAN of a DER certificate, decoded from the ASN.1. */
function subjectAltNames(cert: Certificate): San[] {
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === id_ce_subjectAltName);
  if (!ext) return [];
  return AsnConvert.parse(ext.extnValue, SubjectAlternativeName).map((name): San => {
    if (name.uniformResourceIdentifier !== undefined) return { type: 'URI', value: name.uniformResourceIdentifier };
    if (name.dNSName !== undefined) return { type: 'DNS', value: name.dNSName };
    if (name.rfc822Name !== undefined) return { type: 'email', value: name.rfc822Name };
    return { type: 'other', value: '' };
  });
}

/** Why a certificate is no X509-SVID (SPIFFE X509-SVID §4 and §5.2), or undefined. */
function svidFlaw(cert: Certificate, sans: readonly San[]): string | undefined {
  const uris = sans.filter((s) => s.type === 'URI').length;
  if (uris !== 1) return `an X509-SVID carries exactly one URI SAN, this certificate has ${uris}`;
  const ext = (id: string): ArrayBuffer | undefined => cert.tbsCertificate.extensions?.find((e) => e.extnID === id)?.extnValue.buffer;
  const bc = ext(id_ce_basicConstraints);
  if (bc && AsnConvert.parse(bc, BasicConstraints).cA) return 'an X509-SVID used by a client is a leaf, this certificate is CA:TRUE';
  const ku = ext(id_ce_keyUsage);
  if (ku && (AsnConvert.parse(ku, KeyUsage).toNumber() & (KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)) !== 0) return 'a leaf X509-SVID must not carry keyCertSign or cRLSign';
  return undefined;
}

/** The identity a SAN rule granted: `URI:spiffe://…`, `DNS:…` or `email:…` (bare value with logSource false). */
export interface SanMatch {
  /** The allow-list entry satisfied. */
  entry: string;
  /** What to log as the identity. */
  identity: string;
}

/** The first typed allow-list entry the certificate satisfies, or why none is (undefined: no typed entry at all). */
export function matchSanRules(der: Buffer, cn: string | undefined, entries: readonly string[], opts: SanIdentityOptions): { match?: SanMatch; refusal?: string } | undefined {
  const rules = entries.filter(isSanRule);
  if (rules.length === 0) return undefined;
  const cert = parsedCertificate(der);
  const sans = subjectAltNames(cert);
  const cut = (v: string): string => (opts.nulSafe ? v : v.split('\0')[0] ?? '');
  const label = (type: string, value: string): string => (opts.logSource ? `${type}:${value}` : value);
  let refusal = 'no SAN of the certificate matches a SAN rule of the allow-list';
  for (const rule of rules) {
    const [type, wanted] = rule.startsWith('spiffe://') ? ['URI', rule] as const : rule.startsWith('dns:') ? ['DNS', rule.slice(4)] as const : ['email', rule.slice(6)] as const;
    const candidates: San[] = opts.typedMatch ? sans.filter((s) => s.type === type) : [...sans, ...(cn === undefined ? [] : [{ type: 'other' as const, value: cn }])];
    for (const san of candidates) {
      const value = cut(san.value);
      if (type === 'URI') {
        if (!isSpiffeId(rule) || !isSpiffeId(value)) continue;
        const same = opts.compareTrustDomain ? value === wanted : value.replace(/^spiffe:\/\/[^/]*/, '') === wanted.replace(/^spiffe:\/\/[^/]*/, '');
        if (!same) continue;
        // An untyped matcher has no notion of an SVID: it compares names, whatever field they sit in.
        const flaw = opts.svidRules && opts.typedMatch ? svidFlaw(cert, sans) : undefined;
        if (flaw !== undefined) { refusal = flaw; continue; }
      } else if (value !== wanted) {
        continue;
      }
      return { match: { entry: rule, identity: label(san.type === 'other' ? type : san.type, value) } };
    }
  }
  return { refusal };
}
