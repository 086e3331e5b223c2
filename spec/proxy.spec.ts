// proxy: the server under test terminates TLS and forwards to an upstream the
// suite runs; what the upstream learns about the client is what the
// application behind a proxy trusts.
import { randomBytes } from 'node:crypto';
import { decodeForwarded, defineCase, headerValues, isClient, type CaseContext, type UpstreamRequest, describeCases, type CaseDefinition } from '../harness/index.ts';

const RFC_9440 = { title: 'RFC 9440 Client-Cert HTTP Header Field', url: 'https://www.rfc-editor.org/rfc/rfc9440' };
const RFC_9440_SEC = { title: 'RFC 9440 §4 Security Considerations (remove client-sent Client-Cert)', url: 'https://www.rfc-editor.org/rfc/rfc9440#section-4' };
const OPENSHIFT = { title: 'CVE-2026-46579 (OpenShift router: client-supplied X-SSL-Client-* headers not stripped)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2026-46579' };
const XFCC = { title: 'Envoy x-forwarded-client-cert', url: 'https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert' };
const PROTECTED = '/invoices/42';
const PER_PATH = { clientAuth: 'per-path' as const, paths: { protected: PROTECTED, public: '/status' }, upstream: true };

/** A short random tag that makes names and markers unique to one run. */
function tag(): string {
  return randomBytes(4).toString('hex');
}

/** The protected path with a query that marks one probe, so its upstream request can be found. */
function marked(path: string, marker: string): string {
  return `${path}?probe=${marker}`;
}

/** The upstream request of one marked probe, awaited within the bound; undefined when it never arrived. */
async function forwardedRequest(t: CaseContext, marker: string): Promise<UpstreamRequest | undefined> {
  return t.upstream?.waitFor((r) => r.url.includes(`probe=${marker}`));
}

/** Checks that the forwarded identity header of `req` decodes to exactly the client `name`. */
function expectForwardedIdentity(t: CaseContext, req: UpstreamRequest | undefined, name: string, label: string): void {
  const f = t.forwarding;
  if (!f) {
    t.check({ label, expected: 'accept', ok: false, observed: 'the adapter declares no forwarding (header and format), so nothing can be decoded' });
    return;
  }
  if (!req) {
    t.check({ label, expected: 'accept', ok: false, observed: 'the request never reached the upstream' });
    return;
  }
  const values = headerValues(req, f.header);
  const decoded = decodeForwarded(f.format, values);
  const [only] = decoded.identities;
  const ok = decoded.problem === undefined && decoded.identities.length === 1 && only !== undefined && isClient(only, t.pki.cert(name));
  const shown = values.map((v) => JSON.stringify(v.length > 120 ? `${v.slice(0, 120)}…` : v)).join(', ');
  t.check({
    label: `${label} (${f.header}, ${f.format})`, expected: 'accept', ok,
    observed: ok ? `the upstream received ${only?.describe ?? '?'}`
      : `${decoded.problem ?? `it decodes to ${only?.describe ?? 'nothing'}, not client '${name}'`}${values.length > 0 ? `; received ${shown}` : ''}`,
  });
}

/** Identity headers a client forges, each naming someone else; `traces` are substrings only the forgeries carry. */
function forgedHeaders(t: CaseContext, id: string): { headers: Record<string, string>; traces: string[] } {
  const admin = t.pki.cert('admin');
  const der = admin.x509.raw.toString('base64');
  const headers: Record<string, string> = {
    'Client-Cert': `:${der}:`,
    'Client-Cert-Chain': `:${der}:`,
    'X-SSL-Client-Cert': encodeURIComponent(admin.pem),
    'X-SSL-Client-CN': `admin-${id}`,
    'X-SSL-Client-S-DN': `CN=admin-${id}`,
    'X-SSL-Client-Verify': `SUCCESS-${id}`,
    'X-Forwarded-Client-Cert': `By=spiffe://invoice;Hash=${id};Subject="CN=admin-${id}";URI=spiffe://example/admin`,
    'ssl-client-cert': encodeURIComponent(admin.pem),
    'ssl-client-subject-dn': `CN=admin-${id}`,
    'ssl-client-verify': `SUCCESS-${id}`,
  };
  // The first base64 line of the admin certificate is in its DER, PEM and URL-encoded PEM forms alike.
  return { headers, traces: [id, der.slice(0, 64)] };
}

/** Checks that no header of the upstream request carries a forged value. */
function expectNoForgery(t: CaseContext, req: UpstreamRequest | undefined, traces: readonly string[], label: string): void {
  if (!req) {
    t.check({ label, expected: 'reject', ok: false, observed: 'the request never reached the upstream, so what it would carry is unknown' });
    return;
  }
  const carried = req.rawHeaders.filter(([, v]) => traces.some((trace) => v.includes(trace) || decodeSafely(v).includes(trace)));
  t.check({
    label, expected: 'reject', ok: carried.length === 0,
    observed: carried.length === 0 ? `none of the ${req.rawHeaders.length} headers the upstream received carries a forged value`
      : `the upstream received the client's own ${carried.map(([k]) => k).join(', ')}`,
  });
}

function decodeSafely(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const cases: CaseDefinition[] = [
  defineCase({
    id: 'proxy::forwards-verified-certificate',
    title: 'forwards the verified client certificate to the upstream, decodable to that client',
    family: 'proxy', severity: 'high',
    expected: 'accept',
    requires: ['proxy'],
    why: 'Behind a TLS-terminating proxy the application knows the client only from what the proxy forwards. A header it cannot decode, or one that names another certificate, leaves the application to guess — or to trust whatever else arrives.',
    references: [RFC_9440, XFCC, { title: 'nginx $ssl_client_escaped_cert', url: 'https://nginx.org/en/docs/http/ngx_http_ssl_module.html#var_ssl_client_escaped_cert' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: `billing-server-${tag()}` }); },
    setup: { upstream: true, paths: { protected: PROTECTED } },
    run: async (t) => {
      t.expectServed(await t.probe('client', { path: marked(PROTECTED, 'verified') }), "client 'client' through the proxy");
      expectForwardedIdentity(t, await forwardedRequest(t, 'verified'), 'client', "the upstream receives the certificate of client 'client'");
    },
  }),
  defineCase({
    id: 'proxy::strips-spoofed-identity-headers',
    title: 'never lets the identity headers a verified client sends itself reach the upstream',
    family: 'proxy', severity: 'critical',
    expected: 'reject',
    requires: ['proxy'],
    policy: 'Every client-sent header of the identity families (Client-Cert, Client-Cert-Chain, X-SSL-Client-*, X-Forwarded-Client-Cert, ssl-client-*) must be removed or overwritten; the upstream must see only the proxy\'s own.',
    why: 'The application trusts identity headers because the proxy sets them. A proxy that sets its own but passes the client\'s others through lets any certificate holder become admin by typing a header (OpenShift router CVE-2026-46579).',
    references: [RFC_9440_SEC, OPENSHIFT, XFCC],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: `mail-server-${tag()}` });
      b.leaf('admin', { issuer: root, cn: 'admin' });
    },
    setup: { upstream: true, paths: { protected: PROTECTED } },
    run: async (t) => {
      const { headers, traces } = forgedHeaders(t, tag());
      const obs = await t.probe('client', { path: marked(PROTECTED, 'spoof'), headers });
      const req = await forwardedRequest(t, 'spoof');
      expectNoForgery(t, req, traces, 'no forged identity header reaches the upstream');
      t.expectServed(obs, "verified client 'client' sending identity headers that name admin");
      if (t.forwarding) expectForwardedIdentity(t, req, 'client', "the forwarded identity is still client 'client'");
    },
  }),
  defineCase({
    id: 'proxy::strips-spoofed-identity-headers-on-public-path',
    title: 'never lets identity headers from a client without a certificate reach the upstream on a public path',
    family: 'proxy', severity: 'critical',
    expected: 'reject',
    requires: ['proxy', 'path-authz'],
    policy: 'On a path that needs no certificate the proxy has no identity to forward: every client-sent identity header must still be removed.',
    why: 'Proxies often clear identity headers only where they set their own — on the protected paths. On a public path the client\'s forged X-SSL-Client-CN then reaches an application that serves both paths and reads the header on both.',
    references: [RFC_9440_SEC, OPENSHIFT],
    pki: (b, { root }) => { b.leaf('admin', { issuer: root, cn: 'admin' }); },
    setup: PER_PATH,
    run: async (t) => {
      const { headers, traces } = forgedHeaders(t, tag());
      const obs = await t.probe(null, { path: marked('/status', 'public-spoof'), headers }, { canary: t.setup.publicCanary ?? '' });
      const req = await forwardedRequest(t, 'public-spoof');
      expectNoForgery(t, req, traces, 'no forged identity header reaches the upstream');
      t.expectServed(obs, 'a client without a certificate on the public path /status, sending identity headers that name admin');
      const f = t.forwarding;
      if (f && req) {
        const decoded = decodeForwarded(f.format, headerValues(req, f.header).filter((v) => v.trim() !== ''));
        t.check({
          label: `no identity is forwarded for a client without a certificate (${f.header})`, expected: 'reject', ok: decoded.identities.length === 0,
          observed: decoded.identities.length === 0 ? 'the upstream received no identity' : `the upstream received ${decoded.identities.map((i) => i.describe).join('; ')}`,
        });
      }
    },
  }),
  defineCase({
    id: 'proxy::refused-client-not-forwarded',
    title: 'sends nothing to the upstream for a client it refuses',
    family: 'proxy', severity: 'critical',
    expected: 'reject',
    requires: ['proxy'],
    why: 'A proxy that forwards first and judges the certificate afterwards (or only on the way back) has already let the request act: a POST that pays an invoice is executed even though the client saw a 403.',
    references: [RFC_9440_SEC, { title: 'RFC 9110 §9.2.1 Safe Methods (requests have effects)', url: 'https://www.rfc-editor.org/rfc/rfc9110#section-9.2.1' }],
    pki: (b, { root }) => {
      const other = b.ca('other-ca', { cn: 'Globex Root CA' });
      b.leaf('wrong-ca', { issuer: other, cn: 'mail-server' });
      b.leaf('expired', { issuer: root, cn: 'mail-server', notBefore: -7200, notAfter: -3600 });
      b.leaf('client', { issuer: root, cn: 'billing-server' });
    },
    setup: { upstream: true, paths: { protected: PROTECTED } },
    run: async (t) => {
      const refused: [string | null, string][] = [[null, 'no-cert'], ['wrong-ca', 'wrong-ca'], ['expired', 'expired']];
      for (const [client, marker] of refused) {
        t.expectRefused(await t.probe(client, { path: marked(PROTECTED, marker) }), `${client === null ? 'a client without a certificate' : `client '${client}'`}`);
      }
      // A served control request, awaited at the upstream, shows the proxy has forwarded everything it was going to.
      t.expectServed(await t.probe('client', { path: marked(PROTECTED, 'control') }), "control client 'client'");
      const control = await forwardedRequest(t, 'control');
      const received = t.upstream?.requests() ?? [];
      const leaked = received.filter((r) => refused.some(([, m]) => r.url.includes(`probe=${m}`)));
      t.check({
        label: 'the upstream received no request of a refused client', expected: 'reject', ok: control !== undefined && leaked.length === 0,
        observed: control === undefined ? 'the control request never reached the upstream, so the proxy forwards nothing at all'
          : leaked.length === 0 ? `the upstream received ${received.length} request(s), only the control client's` : `the upstream received ${leaked.map((r) => `${r.method} ${r.url}`).join(', ')}`,
      });
    },
  }),
  defineCase({
    id: 'proxy::resumed-session-forwards-certificate',
    title: 'still forwards the client certificate on a resumed session',
    family: 'proxy', severity: 'high',
    expected: 'accept',
    requires: ['proxy'],
    why: 'On resumption the client sends no certificate; a proxy that reads it from the handshake forwards nothing, and the application falls back to anonymous or, worse, to a header the client sent (httpwg/http-extensions#1992).',
    references: [
      RFC_9440,
      { title: 'httpwg/http-extensions#1992 (client certificate missing on resumed sessions)', url: 'https://github.com/httpwg/http-extensions/issues/1992' },
      { title: 'RFC 8446 §2.2 Resumption and Pre-Shared Key', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-2.2' },
    ],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: `billing-server-${tag()}` }); },
    setup: { upstream: true, paths: { protected: PROTECTED } },
    run: async (t) => {
      const first = await t.connect('client', { requests: [{ path: marked(PROTECTED, 'full') }] });
      const full = first.observations[0];
      if (full) t.expectServed(full, "client 'client', full handshake");
      expectForwardedIdentity(t, await forwardedRequest(t, 'full'), 'client', 'after the full handshake the upstream receives the certificate');
      const second = await t.connect('client', { requests: [{ path: marked(PROTECTED, 'resumed') }], ...(first.session ? { session: first.session } : {}) });
      const again = second.observations[0];
      if (!again) return;
      const resumed = again.resumed === true;
      t.expectServed(again, `client 'client', ${resumed ? 'resumed session' : 'offered resumption, full handshake'}`);
      t.check({
        label: 'the session was resumed', expected: 'accept', ok: resumed || again.outcome === 'accepted',
        observed: resumed ? 'resumed' : first.session === undefined ? 'the server issued no session, so none can be resumed' : 'the server declined the session and ran a full handshake',
        ...(!resumed ? { note: 'nothing about resumption was tested' } : {}),
      });
      expectForwardedIdentity(t, await forwardedRequest(t, 'resumed'), 'client', `on the ${resumed ? 'resumed' : 'second'} connection the upstream receives the certificate`);
    },
  }),
  defineCase({
    id: 'proxy::special-characters-in-cn',
    title: 'forwards a CN with commas, quotes, CR/LF or non-ASCII as one well-formed identity',
    family: 'proxy', severity: 'high',
    expected: 'accept',
    requires: ['proxy'],
    why: 'The CN is whatever the certificate\'s requester typed. Pasted raw into a header, a comma makes a list of two identities, a quote ends a quoted field early, CR LF starts a header of the attacker\'s choosing, and non-ASCII bytes are read in another charset: the application then sees "admin".',
    references: [
      RFC_9440,
      { title: 'RFC 9110 §5.5 Field Values (no CR, LF or NUL)', url: 'https://www.rfc-editor.org/rfc/rfc9110#section-5.5' },
      { title: 'RFC 4514 §2.4 Converting an AttributeValue from ASN.1 to a String', url: 'https://www.rfc-editor.org/rfc/rfc4514#section-2.4' },
      XFCC,
    ],
    pki: (b, { root }) => {
      const id = tag();
      b.leaf('comma', { issuer: root, cn: `alice-${id}, CN=admin` });
      b.leaf('quotes', { issuer: root, cn: `"admin-${id}"` });
      b.leaf('crlf', { issuer: root, cn: `mallory-${id}\r\nX-SSL-Client-CN: admin` });
      b.leaf('non-ascii', { issuer: root, cn: `J\u00fcrgen-${id} \u00d6lm\u00fcller \u0430dmin` });
    },
    setup: { upstream: true, paths: { protected: PROTECTED } },
    run: async (t) => {
      for (const name of ['comma', 'quotes', 'crlf', 'non-ascii']) {
        t.expectServed(await t.probe(name, { path: marked(PROTECTED, name) }), `client '${name}' (CN ${JSON.stringify(t.pki.cert(name).cn)})`);
        expectForwardedIdentity(t, await forwardedRequest(t, name), name, `the upstream receives exactly client '${name}'`);
      }
    },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('proxy', cases, import.meta.url);
