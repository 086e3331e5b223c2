// optional: client authentication requested, not required. No certificate is
// anonymous; a valid one is an identity; any other certificate is refused —
// never quietly treated as no certificate at all.
import { randomBytes } from 'node:crypto';
import { defineCase, namesToken, type CaseContext, type Observation, describeCases, type CaseDefinition } from '../harness/index.ts';

const SETUP = { clientAuth: 'optional' as const };
const HAPROXY = { title: 'haproxy#248 (`verify optional` served pages to a client with a bad certificate)', url: 'https://github.com/haproxy/haproxy/issues/248' };
const NGINX_OPTIONAL = { title: 'nginx ssl_verify_client optional', url: 'https://nginx.org/en/docs/http/ngx_http_ssl_module.html#ssl_verify_client' };
const RFC_8446_CERT = { title: 'RFC 8446 §4.4.2.4 Receiving a Certificate Message', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2.4' };
const WHY_REFUSED = 'A server that, in optional mode, treats a certificate it cannot verify like no certificate serves the anonymous page — and every application branch that trusts "a certificate was presented" (the TLS layer asked for one) — to a forged identity. RFC 8446 lets a server go on without a certificate, not with a bad one (haproxy#248).';

/** True when the response is the anonymous one (a 2xx carrying the public token). */
function isAnonymousResponse(t: CaseContext, obs: Observation): boolean {
  return t.setup.publicCanary !== undefined && (obs.bodyExcerpt ?? '').includes(t.setup.publicCanary) && (obs.status ?? 0) >= 200 && (obs.status ?? 0) < 300;
}

/** Refused, and not downgraded to the anonymous response. */
async function expectRefusedNotAnonymous(t: CaseContext, client: string, label: string): Promise<void> {
  const obs = await t.probe(client);
  // The anonymous page is no refusal: the server served the client, only as nobody.
  if (isAnonymousResponse(t, obs)) t.check({ label, expected: 'reject', ok: false, observed: `downgraded to the anonymous response (HTTP ${obs.status ?? '?'})` });
  else t.expectRefused(obs, label);
}

const cases: CaseDefinition[] = [
  defineCase({
    id: 'optional::anonymous-client',
    title: 'answers a client without a certificate with the anonymous response in optional mode',
    family: 'optional', severity: 'medium',
    expected: 'accept',
    requires: ['optional-auth'],
    why: 'Optional client authentication exists so that one name serves both anonymous visitors and certificate holders. A server that silently requires the certificate breaks the anonymous side; one that serves the protected response breaks the other.',
    references: [NGINX_OPTIONAL, RFC_8446_CERT],
    setup: SETUP,
    run: async (t) => {
      const obs = await t.probe(null, undefined, { canary: t.setup.publicCanary ?? '' });
      t.expectServed(obs, 'a client without a certificate, served the anonymous response');
      const body = obs.bodyExcerpt ?? '';
      t.check({
        label: 'the anonymous response carries no protected content', expected: 'reject', ok: !body.includes(t.setup.canary),
        observed: body.includes(t.setup.canary) ? `the anonymous response carries the canary: ${body.slice(0, 120)}` : 'it carries the public token only',
      });
    },
  }),
  defineCase({
    id: 'optional::wrong-ca-refused',
    title: 'refuses a certificate from another CA in optional mode instead of treating the client as anonymous',
    family: 'optional', severity: 'critical',
    expected: 'reject', preferredAlert: 'unknown_ca',
    requires: ['optional-auth'],
    why: WHY_REFUSED,
    references: [HAPROXY, RFC_8446_CERT, NGINX_OPTIONAL],
    pki: (b) => {
      const other = b.ca('other-ca', { cn: 'Globex Root CA' });
      b.leaf('client', { issuer: other, cn: 'billing-server' });
    },
    setup: SETUP,
    run: async (t) => { await expectRefusedNotAnonymous(t, 'client', "client 'client' signed by another CA"); },
  }),
  defineCase({
    id: 'optional::expired-refused',
    title: 'refuses an expired certificate in optional mode instead of treating the client as anonymous',
    family: 'optional', severity: 'high',
    expected: 'reject', preferredAlert: 'certificate_expired',
    requires: ['optional-auth'],
    why: WHY_REFUSED,
    references: [HAPROXY, RFC_8446_CERT, { title: 'RFC 5280 §4.1.2.5 Validity', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'billing-server', notBefore: -7200, notAfter: -3600 }); },
    setup: SETUP,
    run: async (t) => { await expectRefusedNotAnonymous(t, 'client', "client 'client' whose certificate expired an hour ago"); },
  }),
  defineCase({
    id: 'optional::revoked-refused',
    title: 'refuses a revoked certificate in optional mode instead of treating the client as anonymous',
    family: 'optional', severity: 'critical',
    expected: 'reject', preferredAlert: 'certificate_revoked',
    requires: ['optional-auth', 'crl'],
    why: WHY_REFUSED,
    references: [HAPROXY, RFC_8446_CERT, { title: 'RFC 5280 §6.3 CRL Validation', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-6.3' }],
    pki: (b, { root }) => {
      const client = b.leaf('client', { issuer: root, cn: 'billing-server' });
      b.crl('root-crl', root, { revoked: [client] });
    },
    setup: { ...SETUP, crl: ['root-crl'] },
    run: async (t) => { await expectRefusedNotAnonymous(t, 'client', "client 'client' revoked by the CRL"); },
  }),
  defineCase({
    id: 'optional::verified-identity',
    title: 'serves a verified client the protected response in optional mode and logs its CN',
    family: 'optional', severity: 'high',
    expected: 'accept',
    requires: ['optional-auth', 'log-identity'],
    why: 'A server that asks for a certificate but never looks at it (or never asks) serves everyone anonymously: the certificate holders lose their access, and the log cannot say who came.',
    references: [NGINX_OPTIONAL, RFC_8446_CERT],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: `billing-server-${randomBytes(4).toString('hex')}` }); },
    setup: SETUP,
    run: async (t) => {
      const cn = t.pki.cert('client').cn;
      const obs = await t.probe('client');
      const label = "valid client 'client', served the protected response";
      if (isAnonymousResponse(t, obs)) t.check({ label, expected: 'accept', ok: false, observed: `served the anonymous response (HTTP ${obs.status ?? '?'}): its certificate was ignored` });
      else t.expectServed(obs, label);
      await t.expectLog((line) => namesToken(line, cn), `a log line naming CN ${cn}`, `containing the CN ${cn}`);
    },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('optional', cases, import.meta.url);
