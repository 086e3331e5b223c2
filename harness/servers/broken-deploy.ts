// Deliberately broken deployments: the invoice server as a proxy, a vhost
// server and an optional-auth server, each with one deployment measure off.
import type { BrokenServer } from './broken.ts';
import { invoiceAdapter } from './invoice.ts';

/** The broken proxy, vhost and optional-auth variants. */
export const BROKEN_DEPLOYMENTS: readonly BrokenServer[] = [
  {
    adapter: invoiceAdapter('broken-proxy-no-identity', { forwardIdentity: null }),
    flaw: 'forwards accepted requests without the client certificate (it declares Client-Cert and never sets it)',
    fails: ['proxy::forwards-verified-certificate', 'proxy::strips-spoofed-identity-headers', 'proxy::resumed-session-forwards-certificate', 'proxy::special-characters-in-cn'],
  },
  {
    adapter: invoiceAdapter('broken-proxy-passes-headers', { stripIdentityHeaders: 'never' }),
    flaw: 'sets its own Client-Cert and passes every other identity header the client sent to the upstream',
    fails: ['proxy::strips-spoofed-identity-headers', 'proxy::strips-spoofed-identity-headers-on-public-path'],
  },
  {
    adapter: invoiceAdapter('broken-proxy-strips-when-verified', { stripIdentityHeaders: 'when-verified' }),
    flaw: 'clears client-sent identity headers only where it sets its own, so they pass on the public path',
    fails: ['proxy::strips-spoofed-identity-headers-on-public-path'],
  },
  {
    adapter: invoiceAdapter('broken-proxy-forwards-first', { authorizeBeforeForwarding: false, rejectUnauthorized: false }),
    flaw: 'sends each request upstream as it arrives and judges the certificate afterwards, answering 403 with the upstream\'s reply discarded',
    fails: ['proxy::refused-client-not-forwarded'],
  },
  {
    adapter: invoiceAdapter('broken-proxy-raw-cn', { forwardIdentity: 'cn-raw' }),
    flaw: 'forwards the client CN pasted raw into X-SSL-Client-CN (commas, quotes and non-ASCII as they are)',
    fails: ['proxy::special-characters-in-cn'],
  },
  {
    adapter: invoiceAdapter('broken-vhost-no-misdirect', { misdirectedCheck: 'never' }),
    flaw: 'chooses the TLS policy by SNI and the content by Host without comparing them (no 421)',
    fails: ['vhost::sni-host-mismatch', 'vhost::h2-connection-reuse'],
  },
  {
    adapter: invoiceAdapter('broken-vhost-first-request', { misdirectedCheck: 'first-request' }),
    flaw: 'compares the Host with the SNI on the first request of a connection only, so a reused HTTP/2 connection carries any authority',
    fails: ['vhost::h2-connection-reuse'],
  },
  {
    adapter: invoiceAdapter('broken-vhost-resumed-trusted', { verifyResumed: false }),
    flaw: 'takes a resumed session as authenticated (Node reports a TLS 1.3 session resumed without a certificate as authorized)',
    fails: ['vhost::resumption-across-names'],
  },
  {
    adapter: invoiceAdapter('broken-vhost-first-record', { sniFromHandshake: false }),
    flaw: 'routes by the SNI its front router reads from the first TLS record, and applies the default policy without client auth when it is not there',
    fails: ['vhost::fragmented-client-hello'],
  },
  {
    adapter: invoiceAdapter('broken-vhost-exact-sni', { normaliseSni: false }),
    flaw: 'matches the SNI byte for byte to choose the TLS policy (unknown names get no client auth) while routing the Host case-insensitively',
    fails: ['vhost::sni-case-and-trailing-dot'],
  },
  {
    adapter: invoiceAdapter('broken-optional-as-required', { optionalAuth: 'as-required' }),
    flaw: 'treats optional client authentication as required and refuses clients without a certificate',
    fails: ['optional::anonymous-client'],
  },
  {
    adapter: invoiceAdapter('broken-optional-downgrade', { optionalAuth: 'downgrade' }),
    flaw: 'in optional mode serves the anonymous response to any client that is not verified, bad certificates included',
    fails: ['optional::wrong-ca-refused', 'optional::expired-refused', 'optional::revoked-refused'],
  },
  {
    adapter: invoiceAdapter('broken-optional-never-asks', { optionalAuth: 'never-asks' }),
    flaw: 'in optional mode never requests a certificate, so everyone is anonymous',
    fails: ['optional::verified-identity', 'optional::wrong-ca-refused', 'optional::expired-refused', 'optional::revoked-refused'],
  },
];
