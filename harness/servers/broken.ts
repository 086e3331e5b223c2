// Deliberately broken servers: the invoice server with one hardening measure
// switched off each. They prove that every verdict of the suite can go either
// way: each must fail the cases listed beside it, and only those.
import type { ServerAdapter } from '../types.ts';
import { invoiceAdapter } from './invoice.ts';
import { BROKEN_DEPLOYMENTS } from './broken-deploy.ts';
import { BROKEN_IDENTITY_SERVERS } from './identity-broken.ts';
import { BROKEN_OCSP_SERVERS } from './ocsp-broken.ts';
import { BROKEN_TRUST_SERVERS } from './trust-broken.ts';

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
    fails: ['revocation::revoked-leaf', 'revocation::crl-expired', 'revocation::crl-forged', 'revocation::revoked-intermediate', 'revocation::multi-crl-bundle',
      'revocation::hot-reload', 'revocation::resumption-after-revoke', 'robustness::large-crl'],
  },
  {
    adapter: invoiceAdapter('broken-no-identity-log', { logIdentity: false }),
    flaw: 'serves clients without logging who they are',
    fails: ['identity::cn-logged'],
  },
  {
    adapter: invoiceAdapter('broken-raw-log', { escapeLogs: false }),
    flaw: 'writes the CN into its log unescaped',
    fails: ['identity::log-injection-crlf', 'identity::log-injection-ansi'],
  },
  {
    adapter: invoiceAdapter('broken-any-cn', { multiValuedCnAsOne: false }),
    flaw: 'authorizes a multi-valued CN when any one of its values is allowed',
    fails: ['identity::multi-valued-cn'],
  },
  {
    adapter: invoiceAdapter('broken-san-identity', { identityFromCn: false }),
    flaw: 'takes the identity from the first SAN entry when there is one, else the CN',
    fails: ['identity::cn-differs-from-san'],
  },
  {
    adapter: invoiceAdapter('broken-loose-allowlist', { exactAllowlist: false }),
    flaw: 'matches the allow-list by substring after trimming, lower-casing and folding look-alikes',
    fails: ['identity::unicode-lookalike', 'authorization::allowlist-near-miss'],
  },
  {
    adapter: invoiceAdapter('broken-trusts-headers', { ignoreIdentityHeaders: false }),
    flaw: 'takes the identity from an X-SSL-Client-CN request header when present',
    fails: ['identity::spoofed-identity-headers'],
  },
  {
    adapter: invoiceAdapter('broken-logs-at-handshake', { rejectUnauthorized: false, logAfterAuthorization: false }),
    flaw: 'logs "accepted" with the CN when the TLS connection is set up, before deciding (and refuses at the HTTP layer)',
    fails: ['identity::rejected-not-logged-as-accepted'],
  },
  {
    adapter: invoiceAdapter('broken-no-allowlist', { enforceAllowlist: false }),
    flaw: 'is given an allow-list and serves every verified client anyway',
    fails: ['authorization::not-in-allowlist'],
  },
  {
    adapter: invoiceAdapter('broken-cert-everywhere', { perPathMode: false }),
    flaw: 'requires a client certificate on the public path too in per-path mode',
    fails: ['authorization::per-path-public'],
  },
  {
    adapter: invoiceAdapter('broken-per-path-unchecked', { checkAuthorized: false }),
    flaw: 'in per-path mode serves the protected path without checking req.socket.authorized (the seed Express pattern)',
    fails: ['authorization::per-path-protected', 'authorization::path-canonicalisation', 'authorization::per-request-on-keep-alive'],
  },
  {
    adapter: invoiceAdapter('broken-raw-path-authz', { canonicalisePaths: false }),
    flaw: 'guards only the literal request target /invoices/42 while its router also accepts other spellings',
    fails: ['authorization::path-canonicalisation'],
  },
  {
    adapter: invoiceAdapter('broken-per-connection-authz', { authorizeEveryRequest: false }),
    flaw: 'decides once per keep-alive connection and skips the checks for later requests',
    fails: ['authorization::per-request-on-keep-alive'],
  },
  {
    adapter: invoiceAdapter('broken-lax-tls12', { rejectUnauthorized: false, sameChecksOnTls12: false }),
    flaw: 'tolerates expired client certificates on TLS 1.2 connections (a compatibility path)',
    fails: ['protocol::tls12-tls13-parity'],
  },
  {
    adapter: invoiceAdapter('broken-resumed-anonymous', { identityOnResumption: false }),
    flaw: 'loses the client identity on resumed sessions and logs an empty CN',
    fails: ['protocol::resumed-session-identity', 'proxy::resumed-session-forwards-certificate'],
  },
  {
    adapter: invoiceAdapter('broken-shared-ticket-keys', { isolateTicketKeys: false }),
    flaw: 'shares one session ticket key with every other server of the process, whatever CA each trusts',
    fails: ['protocol::cross-context-ticket'],
  },
  {
    adapter: invoiceAdapter('broken-sni-policy', { rejectUnauthorized: false, clientAuthOnEverySni: false }),
    flaw: 'requires a client certificate only for clients that send SNI localhost',
    fails: ['protocol::sni-fallback'],
  },
  {
    adapter: invoiceAdapter('broken-legacy-tls', { refuseLegacyTls: false }),
    flaw: 'accepts TLS 1.0 and 1.1 (minVersion TLSv1, security level 0)',
    fails: ['protocol::legacy-versions'],
  },
  {
    adapter: invoiceAdapter('broken-unlimited-renegotiation', { refuseRenegotiation: false, limitRenegotiation: false }),
    flaw: 'allows client-initiated renegotiation without Node\'s limit of three',
    fails: ['protocol::renegotiation-limit'],
  },
  {
    adapter: invoiceAdapter('broken-fragile', { surviveMalformedInput: false }),
    flaw: 'stops answering after a handshake error that is not a certificate refusal (plain HTTP, garbage, oversized records)',
    fails: ['robustness::plaintext-http', 'robustness::garbage-handshake', 'robustness::oversized-certificate'],
  },
  {
    adapter: invoiceAdapter('broken-connection-cap', { maxConnections: 8, shortTimeouts: false }),
    flaw: 'caps connections at 8 and keeps Node\'s 120 s handshake timeout, so stalled handshakes take every slot',
    fails: ['robustness::stalled-handshake'],
  },
  {
    adapter: invoiceAdapter('broken-refusal-leak', { boundedRefusalState: false }),
    flaw: 'opens a file handle for every refused handshake and never closes it',
    fails: ['robustness::bad-cert-burst'],
  },
  {
    adapter: invoiceAdapter('broken-presence-only', { verification: 'presence', loadClientCa: false }),
    flaw: 'configures no client CA and serves any client that presents some certificate (the seed `if (cert.subject)` pattern)',
    fails: ['trust::wrong-ca', 'revocation::revoked-leaf', 'trust::self-signed-lookalike', 'trust::issuer-name-collision', 'trust::intermediate-missing',
      'trust::issuer-not-ca', 'trust::issuer-without-keycertsign', 'trust::pathlen-exceeded', 'trust::name-constraints', 'trust::tampered-signature',
      'validity::expired-leaf', 'validity::not-yet-valid-leaf', 'validity::expired-intermediate', 'validity::expiry-boundary',
      'usage::server-auth-only-eku', 'usage::foreign-eku', 'usage::key-usage-without-digital-signature', 'usage::unknown-critical-extension',
      'algorithms::sha1-signature', 'algorithms::md5-signature', 'revocation::crl-expired', 'revocation::revoked-intermediate'],
  },
  {
    adapter: invoiceAdapter('broken-issuer-name', { verification: 'issuer-name', loadClientCa: false }),
    flaw: 'configures no client CA and accepts a chain whose top issuer CN names the company CA (`cert.issuer.CN === \'Acme Root CA\'`)',
    fails: ['revocation::revoked-leaf', 'trust::issuer-name-collision', 'trust::tampered-signature', 'validity::expired-leaf'],
  },
  {
    adapter: invoiceAdapter('broken-node-seclevel', { securityLevel: 1 }),
    flaw: 'keeps Node\'s default OpenSSL security level 1',
    fails: ['algorithms::rsa-1024-client-key'],
  },
  {
    adapter: invoiceAdapter('broken-seclevel-0', { securityLevel: 0 }),
    flaw: 'lowers the OpenSSL security level to 0 (`ciphers: \'DEFAULT:@SECLEVEL=0\'`, a common fix for "legacy clients")',
    fails: ['algorithms::sha1-signature', 'algorithms::md5-signature', 'algorithms::rsa-1024-client-key'],
  },
  {
    adapter: invoiceAdapter('broken-narrow-sigalgs', { sigalgs: 'ECDSA+SHA256:RSA-PSS+SHA256:RSA+SHA256' }),
    flaw: 'restricts client signature algorithms to SHA-256 ECDSA and RSA, locking out Ed25519 and P-384 clients',
    fails: ['algorithms::modern-keys'],
  },
  {
    adapter: invoiceAdapter('broken-client-may-issue', { refuseIssuingClients: false }),
    flaw: 'accepts chains in which a client certificate (CA:TRUE, EKU clientAuth) issued another client, as Node does by default',
    fails: ['trust::client-leaf-mints-identities'],
  },
  {
    adapter: invoiceAdapter('broken-unlimited-depth', { maxChainLength: 0 }),
    flaw: 'accepts client chains of any length (OpenSSL\'s default depth of 100)',
    fails: ['trust::chain-depth'],
  },
  {
    adapter: invoiceAdapter('broken-depth-1', { maxChainLength: 2 }),
    flaw: 'accepts only clients issued directly by the root, like nginx\'s default ssl_verify_depth 1',
    fails: ['trust::intermediate-sent', 'trust::name-constraints', 'revocation::unrevoked-with-crl'],
  },
  {
    adapter: invoiceAdapter('broken-eku-optional', { requireClientAuthEku: false }),
    flaw: 'accepts client certificates without EKU clientAuth, as OpenSSL does by default',
    fails: ['usage::no-key-usage-extensions'],
  },
  {
    adapter: invoiceAdapter('broken-first-crl-only', { splitCrlBundle: false }),
    flaw: 'passes the CRL bundle to Node as one string, so only its first CRL is loaded',
    fails: ['revocation::multi-crl-bundle', 'revocation::unrevoked-with-crl'],
  },
  {
    adapter: invoiceAdapter('broken-stale-reload', { reloadContext: false }),
    flaw: 'reload() records the new CRL but keeps verifying with the old secure context until a restart',
    fails: ['revocation::hot-reload', 'revocation::resumption-after-revoke', 'protocol::resumption-after-ca-removed'],
  },
  {
    adapter: invoiceAdapter('broken-fixed-ticket-keys', { rotateTicketKeysOnReload: false }),
    flaw: 'keeps its session-ticket keys across reload(), as Node does with a configured `ticketKeys`',
    fails: ['revocation::resumption-after-revoke', 'protocol::resumption-after-ca-removed'],
  },
  {
    adapter: invoiceAdapter('broken-resumes-into-required', { rotateTicketKeysOnReload: false, verifyResumed: false }),
    flaw: 'keeps its session-ticket keys across reload() and takes a resumed session as authenticated, so a session made without a certificate resumes after optional client auth became required',
    fails: ['protocol::resumption-after-auth-tightened', 'protocol::resumption-after-ca-removed', 'revocation::resumption-after-revoke', 'vhost::resumption-across-names'],
  },
  {
    adapter: invoiceAdapter('broken-no-resumption-recheck', { recheckResumed: false }),
    flaw: 'resumes sessions without re-checking the certificate\'s validity window (Node\'s default)',
    fails: ['validity::expiry-boundary'],
  },
  ...BROKEN_DEPLOYMENTS,
  ...BROKEN_OCSP_SERVERS,
  ...BROKEN_IDENTITY_SERVERS,
  ...BROKEN_TRUST_SERVERS,
];
