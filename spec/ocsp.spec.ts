// ocsp: revocation by a responder (RFC 6960). The suite runs the responder on
// loopback (one `openssl ocsp` call per request); client certificates carry its
// URL in authorityInfoAccess and setup.ocsp names it. Every case that expects a
// refusal also serves a client the responder vouches for, on the same server.
import { defineCase, type CaseContext, type Observation, type Reference, describeCases, type CaseDefinition } from '../harness/index.ts';

const RFC6960 = (section: string, title: string): Reference => ({ title: `RFC 6960 §${section} ${title}`, url: `https://www.rfc-editor.org/rfc/rfc6960#section-${section}` });
const RFC6960_STATUS = RFC6960('2.2', 'Response (good, revoked, unknown)');
const RFC6960_ACCEPT = RFC6960('3.2', 'Signed Response Acceptance Requirements');
const NGINX_TESTS: Reference = { title: 'nginx-tests ssl_ocsp.t (OCSP with client certificates)', url: 'https://github.com/nginx/nginx-tests/blob/master/ssl_ocsp.t' };
const HTTPD_TESTS: Reference = { title: 'httpd-tests t/ssl/ocsp.t', url: 'https://github.com/apache/httpd-tests/blob/trunk/t/ssl/ocsp.t' };
const NGINX_CVE: Reference = { title: 'CVE-2026-28755 (nginx stream module accepted OCSP-revoked client certificates)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2026-28755' };
const TOMCAT_UNVERIFIED: Reference = { title: 'CVE-2026-24734 (Tomcat: OCSP response not verified)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2026-24734' };
const TOMCAT_SOFT_FAIL: Reference = { title: 'CVE-2026-29145 (Tomcat: OCSP soft-fail although disabled)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2026-29145' };
const FAIL_CLOSED = 'Fail closed: when the server cannot learn that a client certificate is good (responder down, answer unusable), it refuses the client. Soft-fail — serving the client anyway, as browsers do for server certificates — is a deviation from this suite\'s policy: whoever can block or garble the responder\'s traffic then keeps a revoked key working.';

/** The first observation of a connection (a probe always yields one). */
function first(result: { observations: Observation[] }): Observation {
  return result.observations[0] ?? { outcome: 'error', error: 'no observation', canarySeen: false, ms: 0 };
}

/** Refuses 'client' and serves the control 'colleague' (good at the same responder) on the same server. */
async function refusedBesideGood(t: CaseContext, what: string): Promise<void> {
  t.expectRefused(await t.probe('client'), `client 'client', ${what}`);
  t.expectServed(await t.probe('colleague'), "control client 'colleague', good at the same responder");
}

const cases: CaseDefinition[] = [
  defineCase({
    id: 'ocsp::good',
    title: 'serves a client whose certificate the OCSP responder says is good',
    family: 'ocsp', severity: 'high',
    expected: 'accept',
    requires: ['ocsp'],
    why: 'Revocation checking must not cost availability: a server that cannot use the usual delegated responder (a certificate the CA issued with EKU OCSPSigning) or mis-builds its request refuses every client once OCSP is switched on, and the operator switches it off again.',
    references: [RFC6960_STATUS, RFC6960('4.2.2.2', 'Authorized Responders'), NGINX_TESTS],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'billing-server' });
      b.ocsp('root-ocsp', root);
    },
  }),
  defineCase({
    id: 'ocsp::revoked',
    title: 'refuses a client whose certificate the OCSP responder says is revoked',
    family: 'ocsp', severity: 'critical',
    expected: 'reject', preferredAlert: 'certificate_revoked',
    requires: ['ocsp'],
    why: 'OCSP is how a stolen client key stops working minutes after the CA learns of it, without waiting for a CRL. A server that asks and then ignores "revoked" — or checks only on one code path, as nginx\'s stream module did — keeps serving the thief.',
    references: [RFC6960_STATUS, NGINX_CVE, NGINX_TESTS, HTTPD_TESTS],
    pki: (b, { root }) => {
      const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
      b.ocsp('root-ocsp', root, { revoked: [client] });
    },
    run: (t) => refusedBesideGood(t, 'revoked at the responder'),
  }),
  defineCase({
    id: 'ocsp::unknown',
    title: 'refuses a client whose certificate the OCSP responder does not know',
    family: 'ocsp', severity: 'high',
    expected: 'reject',
    requires: ['ocsp'],
    policy: 'Status "unknown" refuses the client: the responder cannot vouch for the certificate (a forged or mis-issued one, or an index that lost it). RFC 6960 leaves the action to local policy; this suite treats unknown as not good.',
    why: 'A certificate the CA\'s own responder has never heard of was not issued through the CA\'s records: a key minted off the books, or a responder that lost its database. Treating unknown as good accepts exactly those.',
    references: [RFC6960_STATUS],
    pki: (b, { root }) => {
      const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
      b.ocsp('root-ocsp', root, { unknown: [client] });
    },
    run: (t) => refusedBesideGood(t, 'unknown to the responder'),
  }),
  defineCase({
    id: 'ocsp::responder-down',
    title: 'refuses clients while the OCSP responder cannot be reached (fails closed)',
    family: 'ocsp', severity: 'high',
    expected: 'reject',
    requires: ['ocsp'],
    policy: FAIL_CLOSED,
    why: 'An attacker with a stolen key who can also block the path to the responder — or just wait for it to go down — is served by a soft-failing server as if nothing had been revoked. The server must refuse; this case shows it does, and that a second instance of the same server with a working responder serves the same client.',
    references: [RFC6960_ACCEPT, TOMCAT_SOFT_FAIL, NGINX_TESTS],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.ocsp('root-ocsp', root);
    },
    setup: { ocsp: 'down' },
    // Failing closed refuses the valid client too: the control is a second instance with a working responder.
    control: 'peer', controlSetup: { ocsp: 'responder' },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (good at the responder) while the configured responder resets every connection");
      const peer = await t.startPeer({ ocsp: 'responder' });
      t.expectServed(await t.probe('client', undefined, { port: peer.port }), "client 'client' on a second instance of the server whose responder answers");
    },
  }),
  defineCase({
    id: 'ocsp::garbage-answer',
    title: 'refuses a client when the OCSP responder answers with bytes that are no OCSP response (fails closed)',
    family: 'ocsp', severity: 'high',
    expected: 'reject',
    requires: ['ocsp'],
    policy: FAIL_CLOSED,
    why: 'Whoever sits between the server and the responder can replace the answer with anything. A server that treats a response it cannot parse as "no news, serve" hands that attacker every revoked key.',
    references: [RFC6960('4.2.1', 'ASN.1 Specification of the OCSP Response'), TOMCAT_SOFT_FAIL],
    pki: (b, { root }) => {
      const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
      b.ocsp('root-ocsp', root, { garbage: [client] });
    },
    run: (t) => refusedBesideGood(t, 'whose status request the responder answers with garbage'),
  }),
  defineCase({
    id: 'ocsp::forged-answer',
    title: 'refuses a client when a "good" answer is signed by a key the CA never authorised',
    family: 'ocsp', severity: 'critical',
    expected: 'reject',
    requires: ['ocsp'],
    why: 'The answer is only as good as its signature. An attacker who can answer in the responder\'s place signs "good" with a key of their own under the CA\'s name; a server that does not check that the issuer (or a responder it certified with EKU OCSPSigning) signed — Tomcat did not — believes it.',
    references: [RFC6960_ACCEPT, RFC6960('4.2.2.2', 'Authorized Responders'), TOMCAT_UNVERIFIED, NGINX_TESTS],
    pki: (b, { root }) => {
      const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
      // The impostor carries the root's exact name, so the answer's responder ID names the root.
      const impostor = b.ca('impostor', { impersonate: root });
      b.ocsp('root-ocsp', root, { forged: [client], forger: impostor });
    },
    run: (t) => refusedBesideGood(t, 'whose "good" answer is signed by an impostor of the CA'),
  }),
  defineCase({
    id: 'ocsp::stale-answer',
    title: 'refuses a client when the only answer is past its nextUpdate',
    family: 'ocsp', severity: 'high',
    expected: 'reject',
    requires: ['ocsp'],
    why: 'A correctly signed "good" from before the revocation stays correctly signed forever. Without the freshness check an attacker replays the answer they recorded while the key was still good (RFC 6960 §3.2: nextUpdate must be later than now).',
    references: [RFC6960_ACCEPT, RFC6960('4.2.2.1', 'Time')],
    pki: (b, { root }) => {
      const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
      b.ocsp('root-ocsp', root, { stale: [client] });
    },
    run: (t) => refusedBesideGood(t, 'whose only answer expired an hour ago (nextUpdate in the past)'),
  }),
  defineCase({
    id: 'ocsp::revoked-intermediate',
    title: 'refuses a client whose issuing intermediate the root\'s OCSP responder says is revoked',
    family: 'ocsp', severity: 'critical',
    expected: 'reject',
    requires: ['ocsp'],
    why: 'Revoking a compromised intermediate is how a CA kills everything it issued in one stroke. A server that asks the responder about the leaf only keeps serving every certificate the attacker mints with the stolen CA key.',
    references: [RFC6960_STATUS, { title: 'nginx ssl_ocsp on (chain) vs leaf', url: 'https://nginx.org/en/docs/http/ngx_http_ssl_module.html#ssl_ocsp' }, HTTPD_TESTS],
    pki: (b, { root }) => {
      const issuing = b.ca('issuing-ca', { issuer: root, cn: 'Acme Issuing CA' });
      b.leaf('client', { issuer: issuing, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
      b.ocsp('root-ocsp', root, { revoked: [issuing] });
      b.ocsp('issuing-ocsp', issuing);
    },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (good itself) issued by the revoked intermediate");
      t.expectServed(await t.probe('colleague'), "control client 'colleague', issued by the root and good");
    },
  }),
  defineCase({
    id: 'ocsp::resumption-after-revoke',
    title: 'refuses to resume a session of a client revoked at the OCSP responder since the session was made',
    family: 'ocsp', severity: 'critical',
    expected: 'reject',
    requires: ['ocsp'],
    why: 'Resumption skips the certificate exchange, and with it the place where many servers ask the responder. A thief who holds the victim\'s session ticket resumes it after the revocation and is served — the CVE-2025-23419 class of bypass, here for OCSP.',
    references: [
      RFC6960_STATUS,
      { title: 'CVE-2025-23419 (nginx TLS session resumption bypasses client certificate checks)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2025-23419' },
      { title: 'RFC 8446 §4.6.1 New Session Ticket', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.6.1' },
      NGINX_TESTS,
    ],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
      b.ocsp('root-ocsp', root);
    },
    run: async (t) => {
      const full = await t.connect('client');
      t.expectServed(first(full), "client 'client' before the revocation (full handshake)");
      if (full.session) {
        const again = first(await t.connect('client', { session: full.session }));
        t.expectServed(again, `client 'client' before the revocation, resuming its session${again.resumed === true ? ' (resumed)' : ' (the server did not resume)'}`);
      }
      await t.revokeAtResponder('client');
      const after = first(await t.connect('client', full.session ? { session: full.session } : {}));
      t.expectRefused(after, `client 'client' after its revocation at the responder, ${full.session ? `resuming its old session${after.resumed === true ? ' (resumed)' : ' (full handshake)'}` : 'on a new connection (the server issued no session)'}`);
      t.expectServed(await t.probe('colleague'), "control client 'colleague', still good");
    },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('ocsp', cases, import.meta.url);
