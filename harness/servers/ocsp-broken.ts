// Invoice servers with one OCSP measure switched off each: the proof that every
// ocsp case can fail.
import type { BrokenServer } from './broken.ts';
import { invoiceAdapter } from './invoice.ts';
import { SECURE_OCSP, type OcspCheckOptions } from './ocsp-check.ts';

/** The invoice server with one OCSP measure changed. */
function withOcsp(name: string, change: Partial<OcspCheckOptions>): BrokenServer['adapter'] {
  return invoiceAdapter(name, { ocsp: { ...SECURE_OCSP, ...change } });
}

/** Broken OCSP variants and the cases each must fail. */
export const BROKEN_OCSP_SERVERS: readonly BrokenServer[] = [
  {
    adapter: invoiceAdapter('broken-ocsp-ignored', { ocsp: null }),
    flaw: 'is given an OCSP responder and never asks it',
    fails: ['ocsp::revoked', 'ocsp::unknown', 'ocsp::responder-down', 'ocsp::garbage-answer', 'ocsp::forged-answer', 'ocsp::stale-answer',
      'ocsp::revoked-intermediate', 'ocsp::resumption-after-revoke'],
  },
  {
    adapter: withOcsp('broken-ocsp-soft-fail', { failClosed: false }),
    flaw: 'serves the client when the responder cannot be reached or its answer cannot be trusted (soft-fail)',
    fails: ['ocsp::responder-down', 'ocsp::garbage-answer', 'ocsp::forged-answer', 'ocsp::stale-answer'],
  },
  {
    adapter: withOcsp('broken-ocsp-unverified', { verifySigner: false }),
    flaw: 'believes any well-formed answer without checking who signed it',
    fails: ['ocsp::forged-answer'],
  },
  {
    adapter: withOcsp('broken-ocsp-no-delegation', { acceptDelegated: false }),
    flaw: 'accepts only answers signed with the issuer\'s own key, refusing the delegated responder the CA certified',
    fails: ['ocsp::good', 'ocsp::resumption-after-revoke'],
  },
  {
    adapter: withOcsp('broken-ocsp-stale-ok', { checkFreshness: false }),
    flaw: 'accepts answers past their nextUpdate',
    fails: ['ocsp::stale-answer'],
  },
  {
    adapter: withOcsp('broken-ocsp-unknown-ok', { refuseUnknown: false }),
    flaw: 'treats status unknown as good: only "revoked" refuses',
    fails: ['ocsp::unknown'],
  },
  {
    adapter: withOcsp('broken-ocsp-leaf-only', { scope: 'leaf' }),
    flaw: 'asks about the client certificate only, never about the intermediates above it',
    fails: ['ocsp::revoked-intermediate'],
  },
  {
    adapter: withOcsp('broken-ocsp-not-on-resumption', { checkResumed: false }),
    flaw: 'asks the responder only in full handshakes and serves resumed sessions on the status seen then',
    fails: ['ocsp::resumption-after-revoke'],
  },
];
