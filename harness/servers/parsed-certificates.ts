// The ASN.1 structure of client certificates, for the invoice server's own
// checks (OCSP, SAN rules): a server meets the same few certificates on every
// request, and parsing one with @peculiar/asn1-x509 costs about as much as the
// rest of a check. Callers only read what they get.
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';

/** Certificates parsed so far, by their DER. */
const parsed = new Map<string, Certificate>();
const PARSED_KEPT = 256;

/** The ASN.1 structure of a certificate, parsed once. Throws what AsnConvert.parse throws. */
export function parsedCertificate(der: Buffer): Certificate {
  const key = der.toString('base64');
  let cert = parsed.get(key);
  if (cert === undefined) {
    cert = AsnConvert.parse(der, Certificate);
    if (parsed.size >= PARSED_KEPT) parsed.clear();
    parsed.set(key, cert);
  }
  return cert;
}
