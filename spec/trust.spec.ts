// trust: chain building and trust anchors.
import { defineCase, type CaseContext, type Reference, type SetupOverrides, describeCases, type CaseDefinition } from '../harness/index.ts';

const RFC5280_PATH: Reference = { title: 'RFC 5280 §6.1 Basic Path Validation', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-6.1' };
const CADDY_TRUST: Reference = { title: 'CVE-2026-27586 (Caddy: client authentication fell back to trusting nothing or the system store)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2026-27586' };
const FAIL_CLOSED_MATERIAL = 'A server whose trust material is unusable either refuses to start or starts and refuses every client; the case says which it saw. Starting and serving clients — trusted by nothing, or by the system store — fails.';

/**
 * A second server given broken material must refuse to start, or start and refuse each of `clients`
 * (null: no certificate); the server with good material serves 'client'.
 */
async function expectFailsClosed(t: CaseContext, broken: SetupOverrides, what: string, clients: readonly (string | null)[]): Promise<void> {
  const started = await t.tryStartPeer(broken);
  if ('startError' in started) {
    t.check({ label: `a second server given ${what}`, expected: 'reject', ok: !started.hung, observed: started.hung ? started.startError : `did not start: ${started.startError}` });
  } else {
    for (const client of clients) {
      const who = client === null ? 'a client without a certificate' : `client '${client}'`;
      t.expectRefused(await t.probe(client, undefined, { port: started.server.port }), `${who} on a second server given ${what} (it started and must refuse everyone)`);
    }
  }
  t.expectServed(await t.probe('client'), "client 'client' on the server with good trust material");
}

const cases: CaseDefinition[] = [
  defineCase({
    id: 'trust::valid-client',
    title: 'serves a client whose certificate the company CA issued',
    family: 'trust', severity: 'critical', core: true,
    expected: 'accept',
    why: 'The baseline: a client holding a certificate from the trusted CA (the seed\'s "mail server") must be served, or mTLS is not usable at all and every refusal below proves nothing.',
    references: [{ title: 'RFC 8446 §4.4.2 Certificate', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
  }),
  defineCase({
    id: 'trust::wrong-ca',
    title: 'refuses a client signed by another company\'s CA',
    family: 'trust', severity: 'critical', core: true,
    expected: 'reject', preferredAlert: 'unknown_ca',
    why: 'A certificate from a foreign PKI proves nothing about the client. A server that accepts it lets anyone with any CA — or a free public one — in.',
    references: [{ title: 'RFC 5280 §6.1 Basic Path Validation', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-6.1' }],
    pki: (b) => {
      const other = b.ca('other-ca', { cn: 'Globex Root CA' });
      b.leaf('client', { issuer: other, cn: 'mail-server' });
    },
  }),
  defineCase({
    id: 'trust::missing-cert',
    title: 'refuses a client that sends no certificate',
    family: 'trust', severity: 'critical', core: true,
    expected: 'reject',
    why: 'Without a certificate the client is anonymous. Servers that request but do not require a certificate (Node\'s requestCert without rejectUnauthorized, nginx\'s ssl_verify_client optional) serve anyone.',
    references: [
      { title: 'RFC 8446 §4.4.2.4 Receiving a Certificate Message (certificate_required)', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2.4' },
      { title: 'RFC 5246 §7.4.6 Client Certificate', url: 'https://www.rfc-editor.org/rfc/rfc5246#section-7.4.6' },
    ],
    run: async (t) => {
      const obs = await t.probe(null);
      t.expectRefused(obs, 'a client without a certificate', t.tls === '1.3' ? 'certificate_required' : 'handshake_failure');
    },
  }),
  defineCase({
    id: 'trust::self-signed-lookalike',
    title: 'refuses a self-signed certificate that copies a real client\'s name',
    family: 'trust', severity: 'critical',
    expected: 'reject', preferredAlert: 'unknown_ca',
    why: 'Anyone can mint a self-signed certificate that says CN=mail-server. A server that looks at the name rather than at who signed it hands the invoice to whoever typed that name.',
    references: [RFC5280_PATH],
    pki: (b) => { b.leaf('client', { cn: 'mail-server' }); },
  }),
  defineCase({
    id: 'trust::issuer-name-collision',
    title: 'refuses a client issued by an impostor root that has the trusted root\'s name but another key',
    family: 'trust', severity: 'critical',
    expected: 'reject', preferredAlert: 'unknown_ca',
    why: 'Distinguished names are not secret: an attacker can create a root called "Acme Root CA". A verifier that matches issuers by name, or checks the issuer CN as the seed server did, accepts everything that impostor signs. Only the signature ties a certificate to the trusted key.',
    references: [RFC5280_PATH, { title: 'RFC 5280 §4.2.1.1 Authority Key Identifier', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.1' }],
    // No authorityKeyIdentifier: a verifier finds the real root by name and must then fail on the signature.
    pki: (b, { root }) => {
      const impostor = b.ca('impostor', { impersonate: root });
      b.leaf('client', { issuer: impostor, cn: 'mail-server', authorityKeyId: false });
    },
  }),
  defineCase({
    id: 'trust::intermediate-sent',
    title: 'serves a client that sends its issuing intermediate along with its certificate',
    family: 'trust', severity: 'high',
    expected: 'accept',
    why: 'Real company PKIs issue client certificates from an intermediate and keep the root offline. The server trusts only the root, so the client sends the intermediate; a server that cannot build that path locks out every real client.',
    references: [RFC5280_PATH, { title: 'RFC 8446 §4.4.2 Certificate (certificate_list)', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2' }],
    pki: (b, { root }) => {
      const issuing = b.ca('issuing-ca', { issuer: root, cn: 'Acme Issuing CA' });
      b.leaf('client', { issuer: issuing, cn: 'mail-server' });
    },
  }),
  defineCase({
    id: 'trust::intermediate-missing',
    title: 'refuses a client that sends its certificate without the intermediate that issued it',
    family: 'trust', severity: 'high',
    expected: 'reject', preferredAlert: 'unknown_ca',
    why: 'Without the intermediate there is no path to the trusted root. A server that accepts anyway is not verifying the chain at all (or fetches issuers from places an attacker controls).',
    references: [RFC5280_PATH],
    pki: (b, { root }) => {
      const issuing = b.ca('issuing-ca', { issuer: root, cn: 'Acme Issuing CA' });
      b.leaf('client', { issuer: issuing, cn: 'mail-server', sendIntermediates: false });
    },
  }),
  defineCase({
    id: 'trust::issuer-not-ca',
    title: 'refuses a client whose certificate was signed by another end-entity certificate (CA:FALSE)',
    family: 'trust', severity: 'critical',
    expected: 'reject', preferredAlert: 'unknown_ca',
    why: 'Every employee holds a CA:FALSE certificate and its key. If the server accepts certificates those keys sign, every employee can mint any identity — the classic basicConstraints bug (CVE-2002-0862 in Internet Explorer).',
    references: [{ title: 'RFC 5280 §4.2.1.9 Basic Constraints', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.9' }, { title: 'CVE-2002-0862', url: 'https://nvd.nist.gov/vuln/detail/CVE-2002-0862' }],
    pki: (b, { root }) => {
      const employee = b.leaf('employee', { issuer: root, cn: 'Jane Employee', keyUsage: ['digitalSignature', 'keyCertSign'] });
      b.leaf('client', { issuer: employee, cn: 'admin' });
    },
  }),
  defineCase({
    id: 'trust::issuer-without-keycertsign',
    title: 'refuses a client issued by a CA whose keyUsage does not allow certificate signing',
    family: 'trust', severity: 'high',
    expected: 'reject', preferredAlert: 'unknown_ca',
    why: 'keyUsage without keyCertSign says "this key does not sign certificates" (for instance a CRL or OCSP signer). Accepting what it signs ignores the limit the CA owner set.',
    references: [{ title: 'RFC 5280 §4.2.1.3 Key Usage', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.3' }],
    pki: (b, { root }) => {
      const signer = b.ca('crl-signer', { issuer: root, cn: 'Acme CRL Signer', keyUsage: ['cRLSign', 'digitalSignature'] });
      b.leaf('client', { issuer: signer, cn: 'mail-server' });
    },
  }),
  defineCase({
    id: 'trust::pathlen-exceeded',
    title: 'refuses a chain that goes deeper than the issuing CA\'s path length allows',
    family: 'trust', severity: 'high',
    expected: 'reject', preferredAlert: 'unknown_ca',
    why: 'pathLenConstraint 0 says "no sub-CAs below me". A sub-CA created under it (by a compromised or careless operator) must not be able to issue clients the server accepts.',
    references: [{ title: 'RFC 5280 §4.2.1.9 Basic Constraints (pathLenConstraint)', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.9' }],
    pki: (b, { root }) => {
      const issuing = b.ca('issuing-ca', { issuer: root, cn: 'Acme Issuing CA', pathLen: 0 });
      const sub = b.ca('sub-ca', { issuer: issuing, cn: 'Rogue Sub CA' });
      b.leaf('client', { issuer: sub, cn: 'mail-server' });
    },
  }),
  defineCase({
    id: 'trust::name-constraints',
    title: 'refuses a client outside its CA\'s name constraints and serves one inside them',
    family: 'trust', severity: 'medium',
    expected: 'reject', preferredAlert: 'certificate_unknown',
    why: 'A partner CA constrained to good.example must not issue identities for evil.example. A server that ignores nameConstraints lets a constrained CA escape its scope; one that refuses everything under constraints breaks partner PKIs.',
    references: [{ title: 'RFC 5280 §4.2.1.10 Name Constraints', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.10' }],
    pki: (b, { root }) => {
      const partner = b.ca('partner-ca', { issuer: root, cn: 'Partner CA', nameConstraints: 'permitted;DNS:good.example' });
      b.leaf('client', { issuer: partner, cn: 'evil-client', san: ['DNS:evil.example'] });
      b.leaf('in-scope', { issuer: partner, cn: 'good-client', san: ['DNS:good.example'] });
    },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (SAN evil.example, outside the constraint)");
      t.expectServed(await t.probe('in-scope'), "client 'in-scope' (SAN good.example, inside the constraint)");
    },
  }),
  defineCase({
    id: 'trust::client-leaf-mints-identities',
    title: 'refuses an identity minted by a client whose certificate is also a CA',
    family: 'trust', severity: 'high',
    level: 'policy',
    expected: 'reject',
    policy: 'The invoice server refuses a client certificate that is a CA (CA:TRUE), and any chain in which a CA below the trust anchor carries EKU clientAuth: such a certificate is a client identity that can sign others. RFC 5280 and OpenSSL accept the chain (Node 20 does); company intermediates issue clients without being clients themselves.',
    why: 'A client certificate mistakenly issued with CA:TRUE and keyCertSign lets its holder sign a certificate for CN=admin, and the chain is valid to the company root. The server then serves "admin".',
    references: [{ title: 'RFC 5280 §4.2.1.9 Basic Constraints', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.9' }, { title: 'RFC 5280 §4.2.1.12 Extended Key Usage', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12' }],
    pki: (b, { root }) => {
      const minter = b.leaf('minter', { issuer: root, cn: 'mail-server', caFlag: true });
      b.leaf('client', { issuer: minter, cn: 'admin' });
    },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (CN=admin, signed by the CA:TRUE client 'minter')");
      t.expectRefused(await t.probe('minter'), "client 'minter' (a CA:TRUE certificate presented as a client)");
    },
  }),
  defineCase({
    id: 'trust::chain-depth',
    title: 'refuses a client chain longer than the server allows',
    family: 'trust', severity: 'low',
    level: 'policy',
    expected: 'reject',
    policy: 'The invoice server accepts client chains of at most 4 certificates (trust anchor, two intermediates, leaf). OpenSSL\'s default verify depth is 100 and Node exposes no setting for it; nginx\'s ssl_verify_depth plays this role.',
    why: 'Each level is a CA someone must control; a six-level chain is either a misconfiguration or a sub-CA nobody audits, and long chains cost the server work before it can refuse them.',
    references: [{ title: 'RFC 5280 §6.1 Basic Path Validation', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-6.1' }, { title: 'nginx ssl_verify_depth', url: 'https://nginx.org/en/docs/http/ngx_http_ssl_module.html#ssl_verify_depth' }],
    pki: (b, { root }) => {
      let issuer = root;
      for (let level = 1; level <= 4; level++) issuer = b.ca(`level-${level}`, { issuer, cn: `Acme Level ${level} CA` });
      b.leaf('client', { issuer, cn: 'mail-server' });
    },
  }),
  defineCase({
    id: 'trust::tampered-signature',
    title: 'refuses a client certificate whose signature was altered by one bit',
    family: 'trust', severity: 'critical',
    expected: 'reject', preferredAlert: 'decrypt_error',
    why: 'The signature is what binds the certificate\'s contents to the CA. A server that does not check it accepts any edited certificate — a changed CN, a longer validity, a new key.',
    references: [{ title: 'RFC 5280 §6.1.3 (a)(1) signature verification', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-6.1.3' }],
    // A separate client root: the probe trusts only the server's root, so it sends the leaf alone and the server must check the signature itself.
    pki: (b) => {
      const clientRoot = b.ca('client-root', { cn: 'Acme Client Root CA' });
      b.leaf('client', { issuer: clientRoot, cn: 'mail-server', tamper: 'signature' });
    },
    setup: { clientCa: ['client-root'] },
  }),
  defineCase({
    id: 'trust::client-ca-missing',
    title: 'refuses to start, or refuses every client, when the client-CA file does not exist',
    family: 'trust', severity: 'critical',
    expected: 'reject',
    policy: FAIL_CLOSED_MATERIAL,
    why: 'A typo in the path, or a deployment that forgot the bundle, must not turn client authentication into "any certificate" or "whatever the system trusts". Failing to start is loud; serving is silent.',
    references: [CADDY_TRUST, RFC5280_PATH],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('self-signed', { cn: 'mail-server' });
    },
    run: (t) => expectFailsClosed(t, { brokenMaterial: { clientCa: 'missing' } }, 'a client-CA file that does not exist', ['client', 'self-signed', null]),
  }),
  defineCase({
    id: 'trust::client-ca-empty',
    title: 'refuses to start, or refuses every client, when the client-CA file is empty',
    family: 'trust', severity: 'critical',
    expected: 'reject',
    policy: FAIL_CLOSED_MATERIAL,
    why: 'An empty bundle (a failed download, a truncated secret mount) trusts nobody. Servers that read "no anchors" as "no client verification configured" fall back to optional client auth or the system store.',
    references: [CADDY_TRUST, RFC5280_PATH],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('self-signed', { cn: 'mail-server' });
    },
    run: (t) => expectFailsClosed(t, { brokenMaterial: { clientCa: 'empty' } }, 'an empty client-CA file', ['client', 'self-signed', null]),
  }),
  defineCase({
    id: 'trust::client-ca-garbage',
    title: 'refuses to start, or refuses every client, when the client-CA file is garbage',
    family: 'trust', severity: 'critical',
    expected: 'reject',
    policy: FAIL_CLOSED_MATERIAL,
    why: 'A bundle that does not parse (a wrong secret, a corrupted file) yields no anchors. A loader that skips what it cannot parse and carries on ends up with the empty-bundle fallback.',
    references: [CADDY_TRUST, RFC5280_PATH],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('self-signed', { cn: 'mail-server' });
    },
    run: (t) => expectFailsClosed(t, { brokenMaterial: { clientCa: 'garbage' } }, 'a client-CA file of garbage in PEM armour', ['client', 'self-signed', null]),
  }),
  defineCase({
    id: 'trust::client-ca-server-cert-only',
    title: 'refuses to start, or refuses every client, when the client-CA file holds only the server\'s own certificate',
    family: 'trust', severity: 'high',
    expected: 'reject',
    policy: FAIL_CLOSED_MATERIAL,
    why: 'Pointing the client-CA option at the server certificate is a common slip. The file parses, but holds no CA: a server that then treats "no usable anchor" as "no restriction" serves any certificate.',
    references: [CADDY_TRUST, { title: 'RFC 5280 §4.2.1.9 Basic Constraints', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.9' }],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('self-signed', { cn: 'mail-server' });
    },
    run: (t) => expectFailsClosed(t, { clientCa: ['server'] }, 'a client-CA file holding only the server certificate', ['client', 'self-signed', null]),
  }),
  defineCase({
    id: 'trust::crl-garbage',
    title: 'refuses to start, or refuses every client, when the CRL file is garbage',
    family: 'trust', severity: 'high',
    expected: 'reject',
    requires: ['crl'],
    policy: FAIL_CLOSED_MATERIAL,
    why: 'A CRL file that does not parse says nothing about which keys are revoked. A server that skips it and serves everyone has silently stopped checking revocation (Tomcat CVE-2026-53434).',
    references: [
      { title: 'CVE-2026-53434 (Tomcat: unparseable CRL ignored)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2026-53434' },
      { title: 'RFC 5280 §6.3 CRL Validation', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-6.3' },
    ],
    pki: (b, { root }) => {
      const revoked = b.leaf('revoked', { issuer: root, cn: 'stolen-laptop' });
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.crl('root-crl', root, { revoked: [revoked] });
    },
    setup: { crl: ['root-crl'] },
    run: (t) => expectFailsClosed(t, { crl: ['root-crl'], brokenMaterial: { crl: 'garbage' } }, 'a CRL file of garbage in PEM armour', ['revoked', 'client']),
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('trust', cases, import.meta.url);
