// vhost: two names on one server and certificate — protected.localhost
// requires a client certificate, public.localhost does not. Every way of
// reaching the protected name's content under the public name's policy.
import { defineCase, probeH2, startRelay, VHOSTS, type CaseContext, describeCases, type CaseDefinition } from '../harness/index.ts';

const RFC_6066 = { title: 'RFC 6066 §3 Server Name Indication', url: 'https://www.rfc-editor.org/rfc/rfc6066#section-3' };
const RFC_421 = { title: 'RFC 9110 §15.5.20 421 Misdirected Request', url: 'https://www.rfc-editor.org/rfc/rfc9110#section-15.5.20' };
const RFC_REUSE = { title: 'RFC 9113 §9.1.1 Connection Reuse', url: 'https://www.rfc-editor.org/rfc/rfc9113#section-9.1.1' };
const NGINX_CVE = { title: 'CVE-2025-23419 (nginx: TLS 1.3 session resumption across server blocks bypasses client certificate checks)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2025-23419' };
const APACHE_CVE = { title: 'CVE-2025-23048 (Apache mod_ssl: TLS 1.3 session resumption across virtual hosts bypasses access control)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2025-23048' };
const TRAEFIK_CVE = { title: 'CVE-2026-32305 (Traefik: a fragmented ClientHello hides the SNI and the default TLS options without client auth apply)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2026-32305' };
const SETUP = { vhosts: true };

/** `name:port` as a Host header for the server under test. */
function host(t: CaseContext, name: string): string {
  return `${name}:${t.server.port}`;
}

/** The public name without a certificate: served its own page (the control that shows the names work). */
async function expectPublicServed(t: CaseContext): Promise<void> {
  const obs = await t.probe(null, { headers: { Host: host(t, VHOSTS.public) } }, { servername: VHOSTS.public, canary: t.setup.publicCanary ?? '' });
  t.expectServed(obs, `a client without a certificate at ${VHOSTS.public} (SNI and Host), served the public page`);
}

/** The protected name with a valid certificate: served the protected resource. */
async function expectProtectedServed(t: CaseContext, extra: { port?: number } = {}): Promise<void> {
  const obs = await t.probe('client', { headers: { Host: host(t, VHOSTS.protected) } }, { servername: VHOSTS.protected, ...extra });
  t.expectServed(obs, `valid client 'client' at ${VHOSTS.protected}${extra.port !== undefined ? ' through the relay' : ''}`);
}

const cases: CaseDefinition[] = [
  defineCase({
    id: 'vhost::sni-host-mismatch',
    title: 'never serves the protected name to a connection made to the public name',
    family: 'vhost', severity: 'critical',
    expected: 'reject',
    requires: ['vhosts'],
    policy: 'SNI public.localhost with Host protected.localhost must not get the protected resource: 421 Misdirected Request (RFC 9110) or any other refusal.',
    why: 'The TLS policy (client auth) is chosen by the SNI, the content by the Host header. A client that says public.localhost in the handshake and protected.localhost in the request gets the protected content under the public policy — without a certificate (domain fronting).',
    references: [RFC_6066, RFC_421, { title: 'Traefik domain-fronting advisory (SNI and Host may differ)', url: 'https://github.com/traefik/traefik/security/advisories' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'billing-server' }); },
    setup: SETUP,
    run: async (t) => {
      const obs = await t.probe(null, { headers: { Host: host(t, VHOSTS.protected) } }, { servername: VHOSTS.public });
      t.expectRefused(obs, `a client without a certificate, SNI ${VHOSTS.public}, Host ${VHOSTS.protected}`);
      await expectPublicServed(t);
      await expectProtectedServed(t);
    },
  }),
  defineCase({
    id: 'vhost::resumption-across-names',
    title: 'does not serve the protected name on a session resumed from the public name',
    family: 'vhost', severity: 'critical',
    expected: 'reject',
    requires: ['vhosts'],
    why: 'A session made on the public name verified no certificate. Resumed with SNI protected.localhost, no certificate is sent again; a server that trusts the resumed session as authenticated serves the protected content (nginx CVE-2025-23419, Apache CVE-2025-23048).',
    references: [NGINX_CVE, APACHE_CVE, RFC_6066, { title: 'RFC 8446 §4.6.1 (resumption and SNI)', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.6.1' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'billing-server' }); },
    setup: SETUP,
    run: async (t) => {
      // Under TLS 1.2 a client can also resume by session id alone (no ticket extension offered).
      const modes = t.tls === '1.2' ? [{ name: 'ticket', sessionTickets: true }, { name: 'session-id', sessionTickets: false }] : [{ name: 'ticket', sessionTickets: true }];
      // The public sessions' own checks come after the refusals, so a verdict names the resumption.
      const controls: (() => void)[] = [];
      for (const mode of modes) {
        const first = await t.connect(null, {
          servername: VHOSTS.public, canary: t.setup.publicCanary ?? '', sessionTickets: mode.sessionTickets,
          requests: [{ headers: { Host: host(t, VHOSTS.public) } }],
        });
        const pub = first.observations[0];
        if (pub) controls.push(() => { t.expectServed(pub, `a client without a certificate at ${VHOSTS.public} (${mode.name})`); });
        const second = await t.connect(null, {
          servername: VHOSTS.protected, sessionTickets: mode.sessionTickets, ...(first.session ? { session: first.session } : {}),
          requests: [{ headers: { Host: host(t, VHOSTS.protected) } }],
        });
        const obs = second.observations[0];
        if (obs) t.expectRefused(obs, `that client, ${obs.resumed === true ? 'resuming the session' : 'offering the session (not resumed)'} with SNI and Host ${VHOSTS.protected} (${mode.name})`);
      }
      for (const control of controls) control();
      await expectProtectedServed(t);
    },
  }),
  defineCase({
    id: 'vhost::fragmented-client-hello',
    title: 'applies the protected name\'s policy to a ClientHello split across two TLS records',
    family: 'vhost', severity: 'critical',
    expected: 'reject',
    requires: ['vhosts'],
    why: 'A router that reads the SNI from the first TLS record alone finds none when the ClientHello spans two records (which TLS allows), and applies its default TLS options — without client authentication — while the HTTP router still sends the request to the protected service (Traefik CVE-2026-32305).',
    references: [TRAEFIK_CVE, { title: 'RFC 8446 §5.1 Record Layer (handshake messages may span records)', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-5.1' }, RFC_6066],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'billing-server' }); },
    setup: SETUP,
    run: async (t) => {
      const relay = await startRelay({ targetPort: t.server.port });
      t.defer(() => relay.stop());
      const obs = await t.probe(null, { headers: { Host: host(t, VHOSTS.protected) } }, { servername: VHOSTS.protected, port: relay.port });
      t.expectRefused(obs, `a client without a certificate at ${VHOSTS.protected}, its ClientHello split across two records`);
      await expectProtectedServed(t, { port: relay.port });
      const split = relay.reframed();
      t.check({
        label: 'the relay split each ClientHello across two records', expected: 'accept', ok: split.length >= 2,
        observed: `${split.length} ClientHello(s) split: ${split.map((s) => `${s.first} + ${s.second} bytes`).join(', ') || 'none'}`,
      });
    },
  }),
  defineCase({
    id: 'vhost::sni-case-and-trailing-dot',
    title: 'applies the protected name\'s policy to its mixed-case and trailing-dot spellings',
    family: 'vhost', severity: 'high',
    expected: 'reject',
    requires: ['vhosts'],
    why: 'DNS names are case-insensitive and a trailing dot names the same host (RFC 4343, RFC 1034). A server that matches the SNI byte for byte to pick the TLS policy, but routes the Host case-insensitively, serves PROTECTED.localhost under its default policy (Traefik mixed-case SNI advisory).',
    references: [RFC_6066, { title: 'RFC 4343 Domain Name System Case Insensitivity', url: 'https://www.rfc-editor.org/rfc/rfc4343' }, { title: 'Traefik advisory: mixed-case SNI bypasses client auth', url: 'https://github.com/traefik/traefik/security/advisories' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'billing-server' }); },
    setup: SETUP,
    run: async (t) => {
      const upper = 'PROTECTED.localhost';
      const dotted = `${VHOSTS.protected}.`;
      const variants = [
        { sni: upper, host: upper },
        { sni: upper, host: VHOSTS.protected },
        { sni: dotted, host: dotted },
        { sni: dotted, host: VHOSTS.protected },
        { sni: 'PROTECTED.LOCALHOST.', host: 'Protected.Localhost' },
      ];
      for (const v of variants) {
        const obs = await t.probe(null, { headers: { Host: host(t, v.host) } }, { servername: v.sni, verifyServerName: false });
        t.expectRefused(obs, `a client without a certificate, SNI ${v.sni}, Host ${v.host}`);
      }
      await expectProtectedServed(t);
    },
  }),
  defineCase({
    id: 'vhost::h2-connection-reuse',
    title: 'refuses the protected name on an HTTP/2 connection made to the public name',
    family: 'vhost', severity: 'high',
    expected: 'reject',
    requires: ['vhosts'],
    policy: 'A server that does not speak HTTP/2 passes: no HTTP/2 connection can be reused. One that does must answer the protected authority with 421 (another refusal passes with a note).',
    why: 'Browsers reuse an HTTP/2 connection for every name its certificate covers (RFC 9113 §9.1.1). With one certificate for both names, requests for protected.localhost arrive on a connection whose handshake, made for public.localhost, checked no client certificate.',
    references: [RFC_REUSE, RFC_421, RFC_6066],
    setup: SETUP,
    run: async (t) => {
      const result = await probeH2({
        port: t.server.port, tls: t.tls, serverCa: t.pki.cert('root').pem, servername: VHOSTS.public,
        requests: [
          { authority: host(t, VHOSTS.public), path: t.setup.paths.protected, canary: t.setup.publicCanary ?? '' },
          { authority: host(t, VHOSTS.protected), path: t.setup.paths.protected, canary: t.setup.canary },
        ],
      });
      const [pub, reused] = result.observations;
      if (result.alpn !== 'h2') {
        const notReusable = result.observations.length === 0 && result.error !== undefined && !/timeout|ECONN|closed/i.test(result.error);
        t.check({
          label: 'an HTTP/2 connection to the public name', expected: 'reject', ok: notReusable,
          observed: notReusable ? `not reusable: ${result.error ?? ''} — the server does not speak HTTP/2, so no connection can be coalesced` : `no HTTP/2 connection: ${result.error ?? 'unknown'}`,
        });
        return;
      }
      if (reused) t.expectRefused(reused, `HTTP/2 request for :authority ${VHOSTS.protected} reusing a connection made with SNI ${VHOSTS.public}`);
      if (pub) t.expectServed(pub, `HTTP/2 request for :authority ${VHOSTS.public} on that connection, before it`);
      if (!reused) return;
      if (reused.outcome === 'rejected-http' && reused.status !== 421) {
        t.check({ label: 'the refusal is 421 Misdirected Request', expected: 'reject', ok: !reused.canarySeen, observed: `refused with ${reused.status ?? reused.error ?? '?'}`, note: 'RFC 9110 §15.5.20 asks for 421, so the client retries on a connection of its own' });
      }
    },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('vhost', cases, import.meta.url);
