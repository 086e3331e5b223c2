// Invoice servers with one SAN-identity measure switched off each: the proof
// that every SPIFFE / SAN identity case can fail.
import type { BrokenServer } from './broken.ts';
import { invoiceAdapter, type InvoiceOptions } from './invoice.ts';
import { SECURE_SAN, type SanIdentityOptions } from './san-identity.ts';

/** The invoice server with one SAN measure changed. */
function withSan(name: string, change: Partial<SanIdentityOptions>, other: Partial<InvoiceOptions> = {}): BrokenServer['adapter'] {
  return invoiceAdapter(name, { ...other, san: { ...SECURE_SAN, ...change } });
}

/** Broken SAN-identity variants and the cases each must fail. */
export const BROKEN_IDENTITY_SERVERS: readonly BrokenServer[] = [
  {
    adapter: withSan('broken-san-untyped', { typedMatch: false }),
    flaw: 'matches a SAN rule against every name of the certificate, the CN and SANs of any type (envoy#18259)',
    fails: ['identity::spiffe-id-allowed', 'identity::email-san-not-dns'],
  },
  {
    adapter: withSan('broken-san-nul', { nulSafe: false }),
    flaw: 'compares SAN values as C strings, up to the first NUL (Envoy CVE-2025-66220)',
    fails: ['identity::san-embedded-nul'],
  },
  {
    adapter: withSan('broken-svid-lax', { svidRules: false }, { refuseIssuingClients: false }),
    flaw: 'takes any matching URI SAN as the SPIFFE ID, in certificates with several URI SANs or CA:TRUE',
    fails: ['identity::svid-two-uri-sans', 'identity::svid-ca-true'],
  },
  {
    adapter: withSan('broken-spiffe-path-only', { compareTrustDomain: false }),
    flaw: 'compares the path of a SPIFFE ID and ignores its trust domain',
    fails: ['identity::spiffe-other-trust-domain'],
  },
  {
    adapter: withSan('broken-san-source-unlogged', { logSource: false }),
    flaw: 'logs the SAN value that granted access without saying which SAN type it was',
    fails: ['identity::san-source-logged'],
  },
];
