// validity: the certificate's time window, checked on every connection.
import { defineCase, type Reference, describeCases, type CaseDefinition } from '../harness/index.ts';

const RFC5280_VALIDITY: Reference = { title: 'RFC 5280 §4.1.2.5 Validity', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.5' };
const RFC5280_CHECK: Reference = { title: 'RFC 5280 §6.1.3 (a)(2) validity period', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-6.1.3' };
/** Seconds the expiry-boundary client stays valid after its build. */
const BOUNDARY_S = 3;

const cases: CaseDefinition[] = [
  defineCase({
    id: 'validity::expired-leaf',
    title: 'refuses a client whose certificate expired',
    family: 'validity', severity: 'high',
    expected: 'reject', preferredAlert: 'certificate_expired',
    why: 'Expiry bounds how long a leaked key is useful. A server that ignores notAfter keeps serving credentials the company retired, including those of people who left.',
    references: [RFC5280_VALIDITY, RFC5280_CHECK],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server', notBefore: -7200, notAfter: -3600 }); },
  }),
  defineCase({
    id: 'validity::not-yet-valid-leaf',
    title: 'refuses a client whose certificate is not valid yet',
    family: 'validity', severity: 'high',
    expected: 'reject', preferredAlert: 'bad_certificate',
    why: 'Certificates issued ahead of time (for a contractor who starts next month) must not open the door early; a server that ignores notBefore honours them the moment they exist.',
    references: [RFC5280_VALIDITY, RFC5280_CHECK],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server', notBefore: 3600, notAfter: 7200 }); },
  }),
  defineCase({
    id: 'validity::expired-intermediate',
    title: 'refuses a client whose issuing intermediate expired',
    family: 'validity', severity: 'high',
    expected: 'reject', preferredAlert: 'certificate_expired',
    why: 'When an intermediate expires, everything below it dies with it. Servers that check only the leaf keep a retired hierarchy — and whoever still holds its key — in business.',
    references: [RFC5280_VALIDITY, RFC5280_CHECK],
    pki: (b, { root }) => {
      const issuing = b.ca('issuing-ca', { issuer: root, cn: 'Acme Issuing CA 2019', notBefore: -7200, notAfter: -3600 });
      b.leaf('client', { issuer: issuing, cn: 'mail-server' });
    },
  }),
  defineCase({
    id: 'validity::expiry-boundary',
    title: 'serves a client until its certificate expires and refuses it from then on, resumed session or not',
    family: 'validity', severity: 'medium',
    slow: true, pkiPerRun: true,
    expected: 'reject', preferredAlert: 'certificate_expired',
    why: 'A server that caches a verdict — per client, per connection pool, or in a resumable TLS session — keeps honouring a certificate after it expired. Resumption skips chain verification entirely, so the server must re-check the time itself.',
    references: [RFC5280_CHECK, { title: 'RFC 8446 §4.6.1 New Session Ticket (resumption reuses the original authentication)', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.6.1' }],
    // Issued once the server is up, so the certificate's short life is not spent on the server's start-up.
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server', notBefore: -60, notAfter: BOUNDARY_S, deferred: true }); },
    run: async (t) => {
      await t.issue('client');
      const notAfter = Date.parse(t.pki.cert('client').x509.validTo);
      // Harness lateness is no verdict on the server: an error that says so.
      if (Date.now() >= notAfter - 500) throw new Error(`the machine is overloaded: the certificate was issued ${Date.now() - notAfter} ms relative to its notAfter, too late to probe before it`);
      const before = await t.connect('client');
      const first = before.observations[0];
      if (first) t.expectServed(first, `client 'client' before its notAfter (${new Date(notAfter).toISOString()})`);
      // Wait for the exact instant verifiers treat as expired (one second past notAfter), never longer.
      const wait = notAfter + 1_000 - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, (BOUNDARY_S + 2) * 1000)));
      t.expectRefused(await t.probe('client'), "client 'client' after its notAfter, new session");
      if (before.session) {
        const resumed = await t.probe('client', {}, { session: before.session });
        t.expectRefused(resumed, `client 'client' after its notAfter, resuming the session made before${resumed.resumed === true ? ' (resumed)' : ''}`);
      }
    },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('validity', cases, import.meta.url);
