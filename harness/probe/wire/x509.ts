// Certificates for the wire client and server: PEM to DER, subject DNs as the
// DER a CertificateRequest carries (ASN.1 through @peculiar/asn1-x509) and
// readable, and a chain check on node:crypto's X509Certificate.
import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, Name } from '@peculiar/asn1-x509';

/** The DER certificates of a PEM bundle, in order. */
export function pemCertificates(pem: string): Buffer[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
}

/** The subject Name of a DER certificate, DER-encoded (what certificate_authorities lists). */
export function subjectDer(certificate: Buffer): Buffer {
  const cert = AsnConvert.parse(certificate, Certificate);
  return Buffer.from(AsnConvert.serialize(cert.tbsCertificate.subject));
}

const SHORT: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '0.9.2342.19200300.100.1.25': 'DC',
};

/** A DER Name as text, most significant RDN first ("O=Acme, CN=Acme Root CA"); undecodable names are shown in hex. */
export function describeName(der: Buffer): string {
  try {
    const name = AsnConvert.parse(der, Name);
    return name.map((rdn) => rdn.map((atv) => `${SHORT[atv.type] ?? atv.type}=${atv.value.toString()}`).join('+')).join(', ');
  } catch {
    return `(undecodable name ${der.toString('hex').slice(0, 32)}…)`;
  }
}

/** Why `chain` (leaf first) does not verify up to one of `anchors`, or undefined when it does. */
export function chainProblem(chain: readonly Buffer[], anchors: readonly X509Certificate[], opts: { host?: string; ip?: string; now?: number } = {}): string | undefined {
  let certs: X509Certificate[];
  try {
    certs = chain.map((der) => new X509Certificate(der));
  } catch (error) {
    return `a certificate does not parse: ${error instanceof Error ? error.message : String(error)}`;
  }
  const leaf = certs[0];
  if (!leaf) return 'no certificate';
  const now = opts.now ?? Date.now();
  if (opts.host !== undefined && leaf.checkHost(opts.host) === undefined && (opts.ip === undefined || leaf.checkIP(opts.ip) === undefined)) {
    return `the certificate does not name ${opts.host}`;
  }
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    if (Date.parse(current.validFrom) > now || Date.parse(current.validTo) < now) return `certificate ${current.subject.replace(/\n/g, ', ')} is outside its validity period`;
    const anchor = anchors.find((a) => current.checkIssued(a) && current.verify(a.publicKey));
    if (anchor) return undefined;
    const issuer = certs.slice(1).find((c) => c !== current && c.ca && current.checkIssued(c) && current.verify(c.publicKey));
    if (!issuer) return `no trusted issuer for ${current.subject.replace(/\n/g, ', ')}`;
    current = issuer;
  }
  return 'the chain is longer than 8 certificates';
}
