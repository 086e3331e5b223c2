// Invoice servers that prove the trust-material and trust-change cases can fail.
import type { BrokenServer } from './broken.ts';
import { invoiceAdapter } from './invoice.ts';

/** Broken trust-material variants and the cases each must fail. */
export const BROKEN_TRUST_SERVERS: readonly BrokenServer[] = [
  {
    adapter: invoiceAdapter('broken-lenient-material', { trustMaterial: 'lenient' }),
    flaw: 'starts with a client-CA file it cannot use as "no client CA" (serving any certificate) and with an unparseable CRL as "no CRL"',
    fails: ['trust::client-ca-missing', 'trust::client-ca-empty', 'trust::client-ca-garbage', 'trust::client-ca-server-cert-only', 'trust::crl-garbage'],
  },
];
