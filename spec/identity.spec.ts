// identity: what the server learns about the client and what it logs.
import { randomBytes } from 'node:crypto';
import { defineCase, hasRawControl, namesToken, physicalLines, recordsAcceptance, type CaseContext } from '../harness/index.ts';

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

export default [
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
];
