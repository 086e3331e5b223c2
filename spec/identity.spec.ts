// identity: what the server learns about the client and what it logs.
import { randomBytes } from 'node:crypto';
import { defineCase, hasRawControl, namesToken, physicalLines, recordsAcceptance, type CaseContext, type Reference, describeCases, type CaseDefinition } from '../harness/index.ts';

const OWASP_LOGGING = { title: 'OWASP Logging Cheat Sheet', url: 'https://cheatsheetseries.owasp.org/cheatsheets/Logging_Cheat_Sheet.html' };
const CWE_117 = { title: 'CWE-117 Improper Output Neutralization for Logs', url: 'https://cwe.mitre.org/data/definitions/117.html' };

/** A short random tag that makes a CN unique to one run. */
function tag(): string {
  return randomBytes(4).toString('hex');
}

/** Checks that no log line records `name` as accepted; a served control client's line is awaited first, so the log has caught up. */
async function expectNoAcceptance(t: CaseContext, name: string, label: string): Promise<void> {
  const lines = await t.server.logs();
  const offending = physicalLines(lines).find((line) => recordsAcceptance(line, name));
  t.check({
    label, expected: 'no-log', ok: offending === undefined,
    observed: offending === undefined ? `none of ${lines.length} log lines records ${JSON.stringify(name)} as accepted` : `logged: ${offending}`,
  });
}

const SVID: Reference = { title: 'SPIFFE X509-SVID §5.2 Leaf Validation', url: 'https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md#52-leaf-validation' };
const SVID_URI: Reference = { title: 'SPIFFE X509-SVID §2 SPIFFE ID (exactly one URI SAN)', url: 'https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md#2-spiffe-id' };
const SPIFFE_ID: Reference = { title: 'SPIFFE-ID §2 SPIFFE Identity (trust domain and path)', url: 'https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md#2-spiffe-identity' };
const SAN_RULES = 'allowedClients entries `spiffe://trust-domain/path` (a SPIFFE ID: the one URI SAN of an X509-SVID), `dns:name` (a DNS SAN) and `email:address` (an rfc822Name SAN) are matched against SANs of their own type only, byte for byte; a plain entry is a CN.';

const cases: CaseDefinition[] = [
  defineCase({
    id: 'identity::cn-logged',
    title: 'logs the CN of the client it served',
    family: 'identity', severity: 'high', core: true,
    expected: 'accept',
    requires: ['log-identity'],
    why: 'An audit trail that cannot say which client fetched the invoice is no audit trail: after an incident, the log line with the certificate\'s CN is how you find whose key was used.',
    references: [OWASP_LOGGING],
    // A fresh random CN per run: only a server that read this certificate can log it.
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: `mail-server-${randomBytes(4).toString('hex')}` }); },
    run: async (t) => {
      const cn = t.pki.cert('client').cn;
      const obs = await t.probe('client');
      t.expectServed(obs, "client 'client'");
      // A client that was not served has no log line to wait for: the failed check above says it all.
      if (obs.outcome !== 'accepted') return;
      const token = new RegExp(`(^|[^A-Za-z0-9-])${cn}($|[^A-Za-z0-9-])`);
      await t.expectLog((line) => token.test(line), `a log line naming CN ${cn}`, `containing the CN ${cn}`);
    },
  }),
  defineCase({
    id: 'identity::log-injection-crlf',
    title: 'keeps a CN with CR and LF on one log line and forges no second line',
    family: 'identity', severity: 'high',
    expected: 'accept',
    requires: ['log-identity'],
    why: 'The CN is chosen by whoever requests the certificate. A CN carrying CR LF and a fake "accepted" entry, logged raw, writes a second line the auditor believes: an access that never happened, or a cover for one that did.',
    references: [CWE_117, OWASP_LOGGING],
    pki: (b, { root }) => {
      const id = tag();
      b.leaf('client', { issuer: root, cn: `mallory-${id}\r\nFORGED-${id} accepted CN="admin" GET /` });
    },
    run: async (t) => {
      const id = /mallory-([0-9a-f]+)/.exec(t.pki.cert('client').cn)?.[1] ?? '';
      t.expectServed(await t.probe('client'), "client 'client' whose CN carries CR LF");
      await t.expectLog((line) => line.includes(`mallory-${id}`) && line.includes(`FORGED-${id}`) && !hasRawControl(line),
        'one log line carrying the whole CN, control characters escaped', `with mallory-${id} and FORGED-${id} on one line without raw CR or LF`);
      const lines = await t.server.logs();
      const forged = physicalLines(lines).find((line) => line.trimStart().startsWith(`FORGED-${id}`));
      t.check({
        label: 'no log line starts with the forged text', expected: 'no-log', ok: forged === undefined,
        observed: forged === undefined ? `no line of ${lines.length} starts with FORGED-${id}` : `a forged line: ${forged}`,
      });
    },
  }),
  defineCase({
    id: 'identity::log-injection-ansi',
    title: 'escapes terminal escape sequences in a logged CN',
    family: 'identity', severity: 'medium',
    expected: 'accept',
    requires: ['log-identity'],
    why: 'An ESC sequence in the CN, logged raw, runs in the terminal of whoever tails the log: it can clear the screen, recolour or hide lines, or set the window title (CVE-2021-25743 class).',
    references: [CWE_117, { title: 'CVE-2021-25743 (escape sequences in logged fields)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-25743' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: `ansi-${tag()}\x1b[2J\x1b[31mRED\x1b]0;pwned\x07` }); },
    run: async (t) => {
      const id = /ansi-[0-9a-f]+/.exec(t.pki.cert('client').cn)?.[0] ?? '';
      t.expectServed(await t.probe('client'), "client 'client' whose CN carries ESC sequences");
      await t.expectLog((line) => line.includes(id) && line.includes('RED'), `a log line naming ${id}`, `naming ${id}`);
      const lines = await t.server.logs();
      // eslint-disable-next-line no-control-regex
      const raw = lines.find((line) => /[\x1b\x07]/.test(line));
      t.check({
        label: 'no log line carries a raw ESC or BEL', expected: 'no-log', ok: raw === undefined,
        observed: raw === undefined ? `none of ${lines.length} lines carries a raw ESC or BEL` : `raw escape sequence in: ${JSON.stringify(raw)}`,
      });
    },
  }),
  defineCase({
    id: 'identity::multi-valued-cn',
    title: 'never takes one value of a multi-valued CN as the identity',
    family: 'identity', severity: 'high',
    expected: 'reject',
    requires: ['allowlist'],
    policy: 'The allow-list holds "admin"; certificates whose subject carries CN=alice and CN=admin (two RDNs, or one multi-valued RDN) must be refused: the identity is neither value alone.',
    why: 'Node returns a multi-valued CN as an array; code that picks the first, the last, or "any" value lets a CA-issued certificate for alice also claim admin. Node\'s own checkServerIdentity had this bug (CVE-2021-44533).',
    references: [
      { title: 'CVE-2021-44533 (Node.js: certificate subject ambiguity)', url: 'https://nodejs.org/en/blog/vulnerability/jan-2022-security-releases' },
      { title: 'RFC 5280 §4.1.2.6 Subject', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.6' },
    ],
    pki: (b, { root }) => {
      b.leaf('stacked', { issuer: root, subject: '/CN=alice/CN=admin' });
      b.leaf('multi-rdn', { issuer: root, subject: '/CN=alice+CN=admin' });
      b.leaf('admin', { issuer: root, cn: 'admin' });
    },
    setup: { allowedClients: ['admin'] },
    run: async (t) => {
      t.expectRefused(await t.probe('stacked'), "client 'stacked' (subject CN=alice, CN=admin)");
      t.expectRefused(await t.probe('multi-rdn'), "client 'multi-rdn' (subject CN=alice+CN=admin)");
      t.expectServed(await t.probe('admin'), "control client 'admin'");
    },
  }),
  defineCase({
    id: 'identity::cn-differs-from-san',
    title: 'takes the identity from the CN only when the SAN names someone else',
    family: 'identity', severity: 'medium',
    expected: 'reject',
    requires: ['allowlist'],
    policy: 'The suite\'s contract names the CN as the identity (allowedClients are CNs); a server that reads a SAN instead must say so and fails this case.',
    why: 'When authorization reads one field and the audit log another, or the field changes with the certificate\'s shape, a certificate with CN=admin and SAN=alice is whoever the attacker needs it to be.',
    references: [
      { title: 'RFC 6125 §6.4.4 (CN and SAN precedence)', url: 'https://www.rfc-editor.org/rfc/rfc6125#section-6.4.4' },
      { title: 'RFC 9440 §2 Client-Cert header (identity taken from the certificate)', url: 'https://www.rfc-editor.org/rfc/rfc9440#section-2' },
    ],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'admin', san: ['DNS:alice', 'email:alice@example.com'] });
      b.leaf('alice', { issuer: root, cn: 'alice', san: ['DNS:admin'] });
    },
    setup: { allowedClients: ['alice'] },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (CN=admin, SAN alice) with only alice allowed");
      t.expectServed(await t.probe('alice'), "client 'alice' (CN=alice, SAN admin) with only alice allowed");
    },
  }),
  defineCase({
    id: 'identity::unicode-lookalike',
    title: 'does not take a Cyrillic look-alike CN for the allowed Latin name',
    family: 'identity', severity: 'medium',
    expected: 'reject',
    requires: ['allowlist'],
    why: 'A CN of "аdmin" with a Cyrillic а looks like admin in every log viewer. A matcher that folds look-alikes or normalises too eagerly lets it in; a log that shows it unescaped misleads the reader.',
    references: [
      { title: 'Unicode Technical Standard #39 (confusables)', url: 'https://www.unicode.org/reports/tr39/' },
      { title: 'RFC 5280 §7.1 Internationalized Names in Distinguished Names', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-7.1' },
    ],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: '\u0430dmin' });
      b.leaf('admin', { issuer: root, cn: 'admin' });
    },
    setup: { allowedClients: ['admin'] },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (CN \\u0430dmin, Cyrillic a)");
      t.expectServed(await t.probe('admin'), "control client 'admin' (Latin)");
      await t.expectLog((line) => namesToken(line, 'admin'), 'the control client is logged', 'naming admin');
      await expectNoAcceptance(t, '\u0430dmin', 'no log line records the look-alike as accepted');
    },
  }),
  defineCase({
    id: 'identity::spoofed-identity-headers',
    title: 'ignores identity headers a client sends and takes the identity from its certificate',
    family: 'identity', severity: 'critical',
    expected: 'reject',
    requires: ['allowlist'],
    why: 'X-SSL-Client-CN, X-Forwarded-Client-Cert and Client-Cert are meant to be set by a TLS-terminating proxy. A server that trusts them from the client lets any certificate holder claim any identity by typing a header.',
    references: [
      { title: 'RFC 9440 §4 Security Considerations (sanitise Client-Cert)', url: 'https://www.rfc-editor.org/rfc/rfc9440#section-4' },
      { title: 'Envoy x-forwarded-client-cert', url: 'https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert' },
    ],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: `mail-server-${tag()}` });
      b.leaf('admin', { issuer: root, cn: 'admin' });
    },
    setup: { allowedClients: ['admin'] },
    run: async (t) => {
      const adminDer = t.pki.cert('admin').x509.raw.toString('base64');
      const headers = {
        'X-SSL-Client-CN': 'admin',
        'X-SSL-Client-S-DN': 'CN=admin',
        'X-Forwarded-Client-Cert': 'By=spiffe://invoice;Subject="CN=admin";URI=spiffe://example/admin',
        'Client-Cert': `:${adminDer}:`,
      };
      t.expectRefused(await t.probe('client', { headers }), "client 'client' sending headers that name admin");
      t.expectServed(await t.probe('admin'), "control client 'admin'");
      await t.expectLog((line) => namesToken(line, 'admin'), 'the control client is logged', 'naming admin');
      const cn = t.pki.cert('client').cn;
      const lines = await t.server.logs();
      const mislabelled = physicalLines(lines).find((line) => namesToken(line, cn) && recordsAcceptance(line, 'admin'));
      t.check({
        label: 'no log line records the spoofing client as admin', expected: 'no-log', ok: mislabelled === undefined,
        observed: mislabelled === undefined ? `none of ${lines.length} lines records ${cn} as admin` : `logged: ${mislabelled}`,
      });
    },
  }),
  defineCase({
    id: 'identity::rejected-not-logged-as-accepted',
    title: 'never logs a refused client as accepted',
    family: 'identity', severity: 'medium',
    expected: 'reject',
    requires: ['log-identity'],
    why: 'Logging the identity at the TLS layer, before the verdict, writes "accepted CN=…" for clients that were then refused. The audit trail then shows access by whoever minted a certificate with a foreign CA.',
    references: [OWASP_LOGGING, { title: 'RFC 5280 §6.1 Basic Path Validation', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-6.1' }],
    pki: (b, { root }) => {
      const other = b.ca('other-ca', { cn: 'Globex Root CA' });
      b.leaf('client', { issuer: other, cn: `intruder-${tag()}` });
      b.leaf('colleague', { issuer: root, cn: `billing-server-${tag()}` });
    },
    run: async (t) => {
      const intruder = t.pki.cert('client').cn;
      const colleague = t.pki.cert('colleague').cn;
      t.expectRefused(await t.probe('client'), `wrong-CA client '${intruder}'`);
      t.expectServed(await t.probe('colleague'), "control client 'colleague'");
      await t.expectLog((line) => namesToken(line, colleague), 'the control client is logged', `naming ${colleague}`);
      await expectNoAcceptance(t, intruder, 'no log line records the refused client as accepted');
    },
  }),
  defineCase({
    id: 'identity::spiffe-id-allowed',
    title: 'serves the client whose X509-SVID carries the allowed SPIFFE ID, and not a CN that spells it',
    family: 'identity', severity: 'high',
    expected: 'accept',
    requires: ['allowlist', 'spiffe'],
    policy: SAN_RULES,
    why: 'Service meshes authorize workloads by SPIFFE ID, the URI SAN of their X509-SVID, not by CN. A server that cannot match it forces operators back to CN rules; one that also takes a CN reading "spiffe://…" lets any certificate holder name themselves a workload.',
    references: [SVID_URI, SPIFFE_ID],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: `billing-${tag()}`, san: ['URI:spiffe://acme.test/billing'] });
      b.leaf('cn-only', { issuer: root, cn: 'spiffe://acme.test/billing' });
    },
    setup: { allowedClients: ['spiffe://acme.test/billing'] },
    run: async (t) => {
      t.expectServed(await t.probe('client'), "client 'client' (URI SAN spiffe://acme.test/billing)");
      t.expectRefused(await t.probe('cn-only'), "client 'cn-only' (CN spiffe://acme.test/billing, no SAN)");
    },
  }),
  defineCase({
    id: 'identity::spiffe-other-trust-domain',
    title: 'refuses the allowed SPIFFE path under another trust domain',
    family: 'identity', severity: 'critical',
    expected: 'reject',
    requires: ['allowlist', 'spiffe'],
    policy: SAN_RULES,
    why: 'The trust domain is half of the identity: spiffe://evil.test/billing is a different workload from spiffe://acme.test/billing, and in federated meshes both can chain to trusted roots. A matcher that compares the path (or the workload name) alone serves the foreign one.',
    references: [SPIFFE_ID, SVID],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: `billing-${tag()}`, san: ['URI:spiffe://evil.test/billing'] });
      b.leaf('billing', { issuer: root, cn: `billing-${tag()}`, san: ['URI:spiffe://acme.test/billing'] });
    },
    setup: { allowedClients: ['spiffe://acme.test/billing'] },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (spiffe://evil.test/billing)");
      t.expectServed(await t.probe('billing'), "control client 'billing' (spiffe://acme.test/billing)");
    },
  }),
  defineCase({
    id: 'identity::svid-two-uri-sans',
    title: 'refuses a certificate with two URI SANs as an X509-SVID',
    family: 'identity', severity: 'high',
    expected: 'reject',
    requires: ['allowlist', 'spiffe'],
    policy: SAN_RULES,
    why: 'An X509-SVID carries exactly one SPIFFE ID. A certificate with two URI SANs is ambiguous — which workload is it? — and a matcher that takes "any" lets a CA that stamped a second URI in it (or an attacker who got one issued) claim both.',
    references: [SVID_URI, SVID],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: `reports-${tag()}`, san: ['URI:spiffe://acme.test/reports', 'URI:spiffe://acme.test/billing'] });
      b.leaf('billing', { issuer: root, cn: `billing-${tag()}`, san: ['URI:spiffe://acme.test/billing'] });
    },
    setup: { allowedClients: ['spiffe://acme.test/billing'] },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (URI SANs spiffe://acme.test/reports and spiffe://acme.test/billing)");
      t.expectServed(await t.probe('billing'), "control client 'billing' (one URI SAN)");
    },
  }),
  defineCase({
    id: 'identity::svid-ca-true',
    title: 'refuses a CA:TRUE certificate as an X509-SVID',
    family: 'identity', severity: 'high',
    expected: 'reject',
    requires: ['allowlist', 'spiffe'],
    policy: SAN_RULES,
    why: 'X509-SVID §5.2: a validator must check that a leaf SVID has CA:FALSE and neither keyCertSign nor cRLSign. A CA:TRUE certificate with the billing SPIFFE ID can mint further "billing" identities at will.',
    references: [SVID, { title: 'SPIFFE X509-SVID §4.1 Basic Constraints', url: 'https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md#41-basic-constraints' }],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: `billing-ca-${tag()}`, caFlag: true, san: ['URI:spiffe://acme.test/billing'] });
      b.leaf('billing', { issuer: root, cn: `billing-${tag()}`, san: ['URI:spiffe://acme.test/billing'] });
    },
    setup: { allowedClients: ['spiffe://acme.test/billing'] },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (CA:TRUE, keyCertSign, spiffe://acme.test/billing)");
      t.expectServed(await t.probe('billing'), "control client 'billing' (CA:FALSE)");
    },
  }),
  defineCase({
    id: 'identity::san-embedded-nul',
    title: 'never matches a SAN with an embedded NUL against the name before the NUL',
    family: 'identity', severity: 'critical',
    expected: 'reject',
    requires: ['allowlist', 'spiffe'],
    policy: SAN_RULES,
    why: 'IA5String SANs may carry a NUL byte; C code that compares them as strings stops there, so `spiffe://acme.test/billing\\0.evil` or `billing.acme.test\\0.evil.test` equals the allowed name (Envoy CVE-2025-66220; the 2009 NUL-certificate attacks on browsers).',
    references: [
      { title: 'CVE-2025-66220 (Envoy: SAN matcher truncated at an embedded NUL)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2025-66220' },
      { title: 'CVE-2009-2408 (NUL byte in certificate names)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2009-2408' },
      SPIFFE_ID,
    ],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: `nul-uri-${tag()}`, san: ['URI:spiffe://acme.test/billing\0.evil'] });
      b.leaf('nul-dns', { issuer: root, cn: `nul-dns-${tag()}`, san: ['DNS:billing.acme.test\0.evil.test'] });
      b.leaf('billing', { issuer: root, cn: `billing-${tag()}`, san: ['URI:spiffe://acme.test/billing'] });
    },
    setup: { allowedClients: ['spiffe://acme.test/billing', 'dns:billing.acme.test'] },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (URI SAN spiffe://acme.test/billing\\0.evil)");
      t.expectRefused(await t.probe('nul-dns'), "client 'nul-dns' (DNS SAN billing.acme.test\\0.evil.test)");
      t.expectServed(await t.probe('billing'), "control client 'billing' (spiffe://acme.test/billing)");
    },
  }),
  defineCase({
    id: 'identity::email-san-not-dns',
    title: 'never lets an e-mail SAN satisfy a DNS or URI rule',
    family: 'identity', severity: 'high',
    expected: 'reject',
    requires: ['allowlist', 'spiffe'],
    policy: SAN_RULES,
    why: 'A CA that issues e-mail certificates lets its users choose the rfc822Name. A matcher that compares a DNS or URI rule against every SAN, whatever its type, serves a certificate whose e-mail SAN reads "billing.acme.test" as the billing service (envoy#18259).',
    references: [
      { title: 'envoyproxy/envoy#18259 (SAN matcher matched any SAN type)', url: 'https://github.com/envoyproxy/envoy/issues/18259' },
      { title: 'RFC 5280 §4.2.1.6 Subject Alternative Name', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.6' },
    ],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: `mailbox-${tag()}`, san: ['email:billing.acme.test', 'email:spiffe://acme.test/billing'] });
      b.leaf('billing', { issuer: root, cn: `billing-${tag()}`, san: ['DNS:billing.acme.test'] });
    },
    setup: { allowedClients: ['dns:billing.acme.test', 'spiffe://acme.test/billing'] },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (e-mail SANs billing.acme.test and spiffe://acme.test/billing)");
      t.expectServed(await t.probe('billing'), "control client 'billing' (DNS SAN billing.acme.test)");
    },
  }),
  defineCase({
    id: 'identity::san-source-logged',
    title: 'logs which SAN the identity of a served client came from',
    family: 'identity', severity: 'medium',
    expected: 'accept',
    requires: ['allowlist', 'spiffe', 'log-identity'],
    policy: `${SAN_RULES} The log line of a client served by a SAN rule names the SAN's type with its value (\`URI:spiffe://…\`, \`DNS:…\`).`,
    why: 'When the allow-list mixes CNs, DNS names and SPIFFE IDs, "billing" in a log line can be any of them. The auditor needs to know which field of which certificate granted the access.',
    references: [OWASP_LOGGING, SVID_URI],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: `svid-${tag()}`, san: ['URI:spiffe://acme.test/billing'] });
      b.leaf('dns-client', { issuer: root, cn: `host-${tag()}`, san: ['DNS:billing.acme.test'] });
    },
    setup: { allowedClients: ['spiffe://acme.test/billing', 'dns:billing.acme.test'] },
    run: async (t) => {
      t.expectServed(await t.probe('client'), "client 'client' (URI SAN spiffe://acme.test/billing)");
      t.expectServed(await t.probe('dns-client'), "client 'dns-client' (DNS SAN billing.acme.test)");
      const svid = t.pki.cert('client').cn;
      const host = t.pki.cert('dns-client').cn;
      await t.expectLog((line) => namesToken(line, svid) && line.includes('URI:spiffe://acme.test/billing'), 'the SPIFFE client is logged with its URI SAN', `naming ${svid} and URI:spiffe://acme.test/billing`);
      await t.expectLog((line) => namesToken(line, host) && line.includes('DNS:billing.acme.test'), 'the DNS client is logged with its DNS SAN', `naming ${host} and DNS:billing.acme.test`);
    },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('identity', cases, import.meta.url);
