// authorization: what a verified client may see, decided per request and per path.
import { defineCase, describeCases, type CaseDefinition } from '../harness/index.ts';

const PER_PATH = { clientAuth: 'per-path' as const, paths: { protected: '/invoices/42', public: '/status' } };
const OWASP_AUTHZ = { title: 'OWASP Authorization Cheat Sheet', url: 'https://cheatsheetseries.owasp.org/cheatsheets/Authorization_Cheat_Sheet.html' };

/** Spellings of /invoices/42 that a lenient router may send to the same handler. */
const SPELLINGS = [
  '/INVOICES/42', '/Invoices/42', '//invoices/42', '/invoices//42', '/./invoices/42', '/invoices/./42',
  '/x/../invoices/42', '/status/../invoices/42', '/invoices%2F42', '/%69nvoices/42', '/invoices/%34%32',
  '/invoices/42/', '/invoices/42/.', '/invoices/42;jsessionid=x', '/invoices;x/42', '/invoices/42?', '/invoices/42?x=1',
];

const cases: CaseDefinition[] = [
  defineCase({
    id: 'authorization::not-in-allowlist',
    title: 'answers 403 to a verified client outside the allow-list',
    family: 'authorization', severity: 'critical',
    expected: 'reject',
    requires: ['allowlist'],
    why: 'Authentication says who the client is, not what it may see. Every certificate the company CA ever issued — laptops, test rigs, contractors — would otherwise open the invoices.',
    references: [OWASP_AUTHZ, { title: 'RFC 8446 §4.4.2.4 (authorization is the application\'s)', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2.4' }],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
    },
    setup: { allowedClients: ['billing-server'] },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "verified client 'client' (CN mail-server) outside the allow-list");
      t.expectServed(await t.probe('colleague'), "allowed client 'colleague' (CN billing-server)");
    },
  }),
  defineCase({
    id: 'authorization::allowlist-near-miss',
    title: 'refuses CNs that differ from an allowed one by prefix, suffix, case or whitespace',
    family: 'authorization', severity: 'high',
    expected: 'reject',
    requires: ['allowlist'],
    why: 'Substring, prefix, case-insensitive or trimmed matching turns one allowed name into a family of names anyone can get issued: "billing-old", "prebilling", "Billing", "billing ".',
    references: [OWASP_AUTHZ, { title: 'CWE-183 Permissive List of Allowed Inputs', url: 'https://cwe.mitre.org/data/definitions/183.html' }],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'billing' });
      b.leaf('suffixed', { issuer: root, cn: 'billing-old' });
      b.leaf('prefixed', { issuer: root, cn: 'prebilling' });
      b.leaf('upper-case', { issuer: root, cn: 'Billing' });
      b.leaf('trailing-space', { issuer: root, cn: 'billing ' });
      b.leaf('leading-space', { issuer: root, cn: ' billing' });
    },
    setup: { allowedClients: ['billing'] },
    run: async (t) => {
      for (const name of ['suffixed', 'prefixed', 'upper-case', 'trailing-space', 'leading-space']) {
        t.expectRefused(await t.probe(name), `client '${name}' (CN ${JSON.stringify(t.pki.cert(name).cn)})`);
      }
      t.expectServed(await t.probe('client'), "allowed client 'client' (CN billing)");
    },
  }),
  defineCase({
    id: 'authorization::per-path-public',
    title: 'serves the public path without a client certificate in per-path mode',
    family: 'authorization', severity: 'medium',
    expected: 'accept',
    requires: ['path-authz'],
    why: 'Per-path mode exists so health checks and public pages work without a certificate. If it silently requires one everywhere, operators switch client authentication off altogether.',
    references: [{ title: 'RFC 8446 §4.6.2 Post-Handshake Authentication', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.6.2' }],
    setup: PER_PATH,
    run: async (t) => {
      const obs = await t.probe(null, { path: '/status' }, { canary: t.setup.publicCanary ?? '' });
      t.expectServed(obs, 'a client without a certificate requesting the public path /status');
    },
  }),
  defineCase({
    id: 'authorization::per-path-protected',
    title: 'refuses the protected path without a certificate or with a foreign one in per-path mode',
    family: 'authorization', severity: 'critical',
    expected: 'reject',
    requires: ['path-authz'],
    why: 'In per-path mode the TLS layer lets everyone in and the application must check `req.socket.authorized`. The seed Express code checked `getPeerCertificate()` instead — which returns `{}`, truthy, when no certificate was sent.',
    references: [
      { title: 'Node.js tls: tlsSocket.getPeerCertificate() returns {} without a certificate', url: 'https://nodejs.org/api/tls.html#tlssocketgetpeercertificatedetailed' },
      { title: 'Node.js tls: tlsSocket.authorized', url: 'https://nodejs.org/api/tls.html#tlssocketauthorized' },
    ],
    pki: (b, { root }) => {
      const other = b.ca('other-ca', { cn: 'Globex Root CA' });
      b.leaf('client', { issuer: other, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
    },
    setup: PER_PATH,
    run: async (t) => {
      t.expectRefused(await t.probe(null), 'a client without a certificate requesting /invoices/42');
      t.expectRefused(await t.probe('client'), "wrong-CA client 'client' requesting /invoices/42");
      t.expectServed(await t.probe('colleague'), "valid client 'colleague' requesting /invoices/42");
    },
  }),
  defineCase({
    id: 'authorization::path-canonicalisation',
    title: 'refuses every spelling of the protected path that it routes to the protected resource',
    family: 'authorization', severity: 'critical',
    slow: true,
    expected: 'reject',
    requires: ['path-authz'],
    policy: 'A spelling answered 404 is not a bypass; a spelling that reaches the invoice must be refused without a certificate, as the canonical path is.',
    why: 'When the authorization check compares the raw path and the router normalises it (case, doubled or dot segments, percent-encoding, trailing slash, `;` parameters, query), `/Invoices/42` or `/status/../invoices/42` reaches the invoice without a certificate.',
    references: [
      { title: 'RFC 3986 §6 Normalization and Comparison', url: 'https://www.rfc-editor.org/rfc/rfc3986#section-6' },
      { title: 'CVE-2021-41773 (Apache path normalisation bypass)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2021-41773' },
      { title: 'CWE-647 Use of Non-Canonical URL Paths for Authorization Decisions', url: 'https://cwe.mitre.org/data/definitions/647.html' },
    ],
    pki: (b, { root }) => { b.leaf('colleague', { issuer: root, cn: 'billing-server' }); },
    setup: PER_PATH,
    run: async (t) => {
      t.expectRefused(await t.probe(null), 'a client without a certificate requesting /invoices/42');
      t.expectServed(await t.probe('colleague'), "valid client 'colleague' requesting /invoices/42");
      const routed: string[] = [];
      for (const path of SPELLINGS) {
        const [anonymous, valid] = await Promise.all([t.probe(null, { path }), t.probe('colleague', { path })]);
        if (valid.outcome === 'accepted') routed.push(path);
        t.expectRefused(anonymous, `a client without a certificate requesting ${path}${valid.outcome === 'accepted' ? ' (routed to the invoice)' : ''}`);
      }
      t.note('spellings the server routes to the invoice', routed.length > 0 ? routed.join(' ') : 'only the canonical path');
    },
  }),
  defineCase({
    id: 'authorization::per-request-on-keep-alive',
    title: 'checks the protected path again on a keep-alive connection that first fetched the public path',
    family: 'authorization', severity: 'high',
    expected: 'reject',
    requires: ['path-authz'],
    why: 'A server that decides once per connection and caches the verdict lets a client open the connection on the public path and then ask for the invoice on the same connection.',
    references: [{ title: 'RFC 9112 §9.3 Persistence', url: 'https://www.rfc-editor.org/rfc/rfc9112#section-9.3' }, OWASP_AUTHZ],
    setup: PER_PATH,
    run: async (t) => {
      const result = await t.connect(null, { requests: [{ path: '/status' }, { path: '/invoices/42' }] });
      const [first, second] = result.observations;
      const publicServed = first?.status === 200 && (first.bodyExcerpt ?? '').includes(t.setup.publicCanary ?? '\0');
      t.check({ label: 'first request: the public path /status', expected: 'accept', ok: publicServed, observed: publicServed ? 'served (HTTP 200)' : `not served (${first?.status ?? first?.error ?? 'no response'})` });
      if (second) t.expectRefused(second, 'second request on the same connection: /invoices/42 without a certificate');
    },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('authorization', cases, import.meta.url);
