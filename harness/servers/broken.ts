// Deliberately broken servers: the invoice server with one hardening measure
// switched off each. They prove that every verdict of the suite can go either
// way: each must fail the cases listed beside it, and only those.
import type { ServerAdapter } from '../types.ts';
import { invoiceAdapter } from './invoice.ts';

/** A broken server and the cases it must fail. */
export interface BrokenServer {
  adapter: ServerAdapter;
  /** What is wrong with it, in one line. */
  flaw: string;
  /** Case ids it must fail (under every TLS version the case runs). */
  fails: string[];
}

/** The broken variants, by name. */
export const BROKEN_SERVERS: readonly BrokenServer[] = [
  {
    adapter: invoiceAdapter('broken-no-client-ca', { loadClientCa: false }),
    flaw: 'forgets the `ca` option, so Node trusts only its bundled public roots',
    fails: ['trust::valid-client', 'revocation::revoked-leaf', 'identity::cn-logged'],
  },
  {
    adapter: invoiceAdapter('broken-no-request-cert', { requestCert: false, checkAuthorized: false }),
    flaw: 'never asks for a client certificate and serves everyone',
    fails: ['trust::wrong-ca', 'trust::missing-cert', 'revocation::revoked-leaf', 'identity::cn-logged'],
  },
  {
    adapter: invoiceAdapter('broken-no-reject', { rejectUnauthorized: false, checkAuthorized: false }),
    flaw: 'sets rejectUnauthorized: false and never checks req.socket.authorized',
    fails: ['trust::wrong-ca', 'trust::missing-cert', 'revocation::revoked-leaf'],
  },
  {
    adapter: invoiceAdapter('broken-crl-dropped', { honourCrl: false }),
    flaw: 'is given a CRL and never loads it',
    fails: ['revocation::revoked-leaf'],
  },
  {
    adapter: invoiceAdapter('broken-no-identity-log', { logIdentity: false }),
    flaw: 'serves clients without logging who they are',
    fails: ['identity::cn-logged'],
  },
];
