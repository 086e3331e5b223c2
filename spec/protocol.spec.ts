// protocol: versions, session resumption, SNI and renegotiation.
import { randomBytes } from 'node:crypto';
import { defineCase, describeObservation, namesToken, waitForLines, type Observation, type TlsVersion } from '../harness/index.ts';

/** Resumption after a trust change: the advisories both reload cases answer to. */
const TRUST_CHANGE_REFERENCES = [
  { title: 'CVE-2025-68121 (Go crypto/tls: session resumption ignores changed ClientCAs)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2025-68121' },
  { title: 'randombit/botan#5818 (resumption after a trust-store change)', url: 'https://github.com/randombit/botan/issues/5818' },
  { title: 'nodejs/node PR #64584 (session resumption across a changed secure context)', url: 'https://github.com/nodejs/node/pull/64584' },
];

/** Refused, in any form, with no canary. */
function refused(obs: Observation): boolean {
  return (obs.outcome === 'rejected-handshake' || obs.outcome === 'rejected-http') && !obs.canarySeen;
}

export default [
  defineCase({
    id: 'protocol::tls12-tls13-parity',
    title: 'refuses the same bad clients under TLS 1.2 as under TLS 1.3',
    family: 'protocol', severity: 'high',
    tls: '1.2+1.3',
    expected: 'reject',
    why: 'TLS 1.2 and 1.3 run different handshake code, and servers keep compatibility paths for old clients. A check that holds only under one version is bypassed by a client that offers the other.',
    references: [
      { title: 'RFC 8446 §4.4.2.4 Receiving a Certificate Message', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2.4' },
      { title: 'RFC 5246 §7.4.6 Client Certificate', url: 'https://www.rfc-editor.org/rfc/rfc5246#section-7.4.6' },
    ],
    pki: (b, { root }) => {
      const other = b.ca('other-ca', { cn: 'Globex Root CA' });
      b.leaf('wrong-ca', { issuer: other, cn: 'mail-server' });
      b.leaf('self-signed', { cn: 'mail-server' });
      b.leaf('expired', { issuer: root, cn: 'mail-server', notBefore: -7200, notAfter: -3600 });
      b.leaf('server-auth-only', { issuer: root, cn: 'mail-server', eku: ['serverAuth'] });
      b.leaf('tampered', { issuer: root, cn: 'mail-server', tamper: 'signature' });
    },
    run: async (t) => {
      const versions: TlsVersion[] = ['1.2', '1.3'];
      for (const client of [null, 'wrong-ca', 'self-signed', 'expired', 'server-auth-only', 'tampered']) {
        const [v12, v13] = await Promise.all(versions.map((tls) => t.probe(client, undefined, { tls })));
        if (!v12 || !v13) continue;
        const same = refused(v12) === refused(v13);
        const who = client === null ? 'a client without a certificate' : `client '${client}'`;
        const observed = `TLS 1.2: ${describeObservation(v12)}; TLS 1.3: ${describeObservation(v13)}`;
        // Refused under neither version is no parity failure: that client's own case fails it, once.
        if (same && !refused(v12)) {
          t.note(`${who}: the same verdict under TLS 1.2 and 1.3`, `${observed} — served under both versions, which the case of that client judges`);
          continue;
        }
        t.check({
          label: `${who}: the same verdict under TLS 1.2 and 1.3`, expected: 'reject', ok: same, observed,
          observation: refused(v12) ? v13 : v12,
        });
      }
    },
  }),
  defineCase({
    id: 'protocol::resumed-session-identity',
    title: 'logs the same identity for a resumed session as for the full handshake',
    family: 'protocol', severity: 'medium',
    expected: 'accept',
    requires: ['log-identity'],
    why: 'On resumption no certificate is sent; the server must take the identity from the session. Servers that read it from the handshake log an empty identity or refuse, and code that falls back to "anonymous" may authorize differently.',
    references: [
      { title: 'RFC 8446 §2.2 Resumption and Pre-Shared Key', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-2.2' },
      { title: 'RFC 5077 §3.4 (ticket contents include the client identity)', url: 'https://www.rfc-editor.org/rfc/rfc5077#section-3.4' },
    ],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: `mail-server-${randomBytes(4).toString('hex')}` }); },
    run: async (t) => {
      const cn = t.pki.cert('client').cn;
      // Under TLS 1.2 a client can also resume by session id alone (no ticket extension offered).
      const modes = t.tls === '1.2' ? [{ name: 'ticket', sessionTickets: true }, { name: 'session-id', sessionTickets: false }] : [{ name: 'ticket', sessionTickets: true }];
      let served = 0;
      // The exact protected path: a server that routes only that path must not answer 404 here.
      const path = t.setup.paths.protected;
      for (const mode of modes) {
        const first = await t.connect('client', { requests: [{ path }], sessionTickets: mode.sessionTickets });
        const full = first.observations[0];
        if (full) t.expectServed(full, `client 'client', full handshake (${mode.name})`);
        if (full?.outcome === 'accepted') served += 1;
        if (!first.session) continue;
        const second = await t.connect('client', { requests: [{ path }], session: first.session, sessionTickets: mode.sessionTickets });
        const resumed = second.observations[0];
        if (!resumed) continue;
        t.expectServed(resumed, `client 'client', ${resumed.resumed === true ? 'resumed' : 'offered resumption, full handshake'} (${mode.name})`);
        if (resumed.outcome === 'accepted') served += 1;
        // Only a served, resumed request can be logged with its identity.
        if (resumed.resumed !== true || resumed.outcome !== 'accepted') continue;
        // Every accepted request logs one line naming the CN: the resumed one included, the count reaches the requests served.
        const want = served;
        const lines = await waitForLines(t.server, (all) => all.filter((l) => namesToken(l, cn)).length >= want);
        const naming = lines.filter((l) => namesToken(l, cn));
        t.check({
          label: `the resumed request (${mode.name}) is logged with CN ${cn}`, expected: 'log', ok: naming.length >= want,
          observed: naming.length >= want ? `logged: ${naming.at(-1) ?? ''}` : `${naming.length} of the ${want} served requests logged with the CN; the resumed request's line lacks it`,
        });
      }
    },
  }),
  defineCase({
    id: 'protocol::cross-context-ticket',
    title: 'does not resume a session that a server trusting another CA issued',
    family: 'protocol', severity: 'critical',
    expected: 'reject',
    why: 'Servers that share ticket keys (a fleet-wide key file, several virtual hosts in one process) resume a session made where another CA was trusted: no certificate is checked on resumption, so the foreign client walks in (CVE-2025-23419, CVE-2022-21654 class).',
    references: [
      { title: 'CVE-2025-23419 (nginx: session resumption across server blocks bypasses client certificate checks)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2025-23419' },
      { title: 'CVE-2022-21654 (Envoy: session resumption after trust change)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2022-21654' },
      { title: 'RFC 8446 §4.6.1 New Session Ticket Message', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.6.1' },
    ],
    pki: (b) => {
      const other = b.ca('other-ca', { cn: 'Globex Root CA' });
      b.leaf('client', { issuer: other, cn: 'partner-server' });
    },
    run: async (t) => {
      const peer = await t.startPeer({ clientCa: ['other-ca'] });
      const there = await t.connect('client', { port: peer.port, requests: [{ path: t.setup.paths.protected }] });
      const served = there.observations[0];
      if (served) t.expectServed(served, "client 'client' at a second server that trusts other-ca");
      if (!there.session) {
        t.note('the second server issued a session', 'no session was issued (resumption is off), so there is nothing to replay');
        return;
      }
      const here = await t.connect('client', { requests: [{ path: t.setup.paths.protected }], session: there.session });
      const replayed = here.observations[0];
      if (replayed) t.expectRefused(replayed, "client 'client' replaying that session here, where only the company root is trusted");
    },
  }),
  defineCase({
    id: 'protocol::sni-fallback',
    title: 'requires a client certificate whatever SNI and Host the client sends',
    family: 'protocol', severity: 'critical',
    expected: 'reject',
    why: 'Servers that attach client-auth policy to a host name fall back to a default TLS policy — without client authentication — for a client that sends no SNI, an IP address, an unknown name, or an SNI that differs from the Host header (Traefik CVE-2026-32305 class).',
    references: [
      { title: 'RFC 6066 §3 Server Name Indication', url: 'https://www.rfc-editor.org/rfc/rfc6066#section-3' },
      { title: 'RFC 9110 §7.4 Rejecting Misdirected Requests (421)', url: 'https://www.rfc-editor.org/rfc/rfc9110#section-7.4' },
    ],
    run: async (t) => {
      const port = t.server.port;
      const variants = [
        { label: 'no SNI', servername: false as const, host: `localhost:${port}` },
        { label: 'no SNI, Host an IP literal (as clients addressing an IP send it)', servername: false as const, host: `127.0.0.1:${port}` },
        { label: 'SNI unknown.example', servername: 'unknown.example', host: `unknown.example:${port}` },
        { label: 'SNI other.example, Host localhost', servername: 'other.example', host: `localhost:${port}` },
      ];
      for (const v of variants) {
        const obs = await t.probe(null, { headers: { Host: v.host } }, { servername: v.servername, verifyServerName: false });
        t.expectRefused(obs, `a client without a certificate, ${v.label}`);
      }
    },
  }),
  defineCase({
    id: 'protocol::legacy-versions',
    title: 'refuses a client that offers only TLS 1.0 or 1.1',
    family: 'protocol', severity: 'medium',
    tls: '1.0-1.1',
    expected: 'reject', preferredAlert: 'protocol_version',
    why: 'TLS 1.0 and 1.1 are deprecated (RFC 8996): CBC padding oracles, SHA-1 in the handshake, no downgrade protection. A server that still speaks them lets an attacker force clients onto them.',
    references: [{ title: 'RFC 8996 Deprecating TLS 1.0 and TLS 1.1', url: 'https://www.rfc-editor.org/rfc/rfc8996' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    run: async (t) => {
      t.expectRefused(await t.probe('client', undefined, { tls: 'legacy' }), "valid client 'client' offering only TLS 1.0 and 1.1");
    },
  }),
  defineCase({
    id: 'protocol::renegotiation-limit',
    title: 'refuses or limits client-initiated renegotiation under TLS 1.2 and keeps serving',
    family: 'protocol', severity: 'low',
    tls: '1.2',
    expected: 'accept',
    why: 'Each renegotiation costs the server a full handshake for the price of a few bytes: a handful of clients renegotiating in a loop pins its CPU (CVE-2011-1473 class). The 2009 renegotiation flaw (CVE-2009-3555) is why it is best refused outright.',
    references: [
      { title: 'CVE-2011-1473 (client-initiated renegotiation DoS)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2011-1473' },
      { title: 'CVE-2009-3555 (TLS renegotiation prefix injection)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2009-3555' },
      { title: 'RFC 5746 TLS Renegotiation Indication Extension', url: 'https://www.rfc-editor.org/rfc/rfc5746' },
    ],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    timeoutMs: 20_000,
    run: async (t) => {
      const attempts = 10;
      const result = await t.connect('client', { tls: '1.2', requests: [{ path: t.setup.paths.protected }], renegotiate: { attempts, timeoutMs: 1_000 }, timeoutMs: 15_000 });
      const first = result.observations[0];
      if (first) t.expectServed(first, "client 'client' under TLS 1.2 before renegotiating");
      const r = result.renegotiations ?? { attempted: 0, completed: 0 };
      t.check({
        label: `${attempts} client-initiated renegotiations on one connection`, expected: 'reject', ok: r.completed < attempts,
        observed: `${r.completed} of ${r.attempted} attempted renegotiations completed${r.refusal !== undefined ? `; then ${r.refusal}` : ''}`,
      });
      t.expectServed(await t.probe('client', undefined, { tls: '1.2' }), "a new connection of client 'client' afterwards");
    },
  }),
  defineCase({
    id: 'protocol::resumption-after-ca-removed',
    title: 'refuses to resume a session of a client whose CA was removed from the client-CA bundle since',
    family: 'protocol', severity: 'critical',
    expected: 'reject',
    requires: ['crl-reload'],
    why: 'Removing a partner\'s CA from the trust bundle is how an operator ends that partner\'s access. A server that keeps its session-ticket keys (or session cache) across the reload lets the partner\'s old sessions resume under the new trust state without any certificate check: Go\'s crypto/tls resumed sessions across a changed ClientCAs (CVE-2025-68121), Botan likewise (#5818), Node tracks the same (nodejs/node PR #64584).',
    references: [...TRUST_CHANGE_REFERENCES, { title: 'RFC 8446 §4.6.1 New Session Ticket', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.6.1' }],
    pki: (b, { root }) => {
      const partner = b.ca('partner-ca', { cn: 'Partner Root CA' });
      b.leaf('client', { issuer: partner, cn: 'partner-billing' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
    },
    setup: { clientCa: ['root', 'partner-ca'] },
    run: async (t) => {
      const first = await t.connect('client');
      const full = first.observations[0];
      if (full) t.expectServed(full, "client 'client' of the partner CA, while the bundle trusts it (full handshake)");
      if (first.session) {
        const again = (await t.connect('client', { session: first.session })).observations[0];
        if (again) t.expectServed(again, `client 'client' resuming its session while trusted${again.resumed === true ? ' (resumed)' : ' (the server did not resume)'}`);
      }
      await t.reload({ clientCa: ['root'] });
      const after = (await t.connect('client', first.session ? { session: first.session } : {})).observations[0];
      if (after) t.expectRefused(after, `client 'client' after reload() removed its CA, ${first.session ? `resuming its old session${after.resumed === true ? ' (resumed)' : ' (full handshake)'}` : 'on a new connection (the server issued no session)'}`);
      t.expectRefused(await t.probe('client'), "client 'client' on a new connection after reload() removed its CA");
      t.expectServed(await t.probe('colleague'), "control client 'colleague' of the company CA, still trusted");
    },
  }),
  defineCase({
    id: 'protocol::resumption-after-auth-tightened',
    title: 'refuses to resume a session made without a certificate after client authentication was tightened from optional to required',
    family: 'protocol', severity: 'critical',
    expected: 'reject',
    requires: ['optional-auth', 'auth-reload'],
    why: 'Tightening optional client authentication to required is how an operator closes a resource to anonymous clients. A session made without a certificate carries no identity; a server that keeps its session-ticket keys (or session cache) across the reload and takes a resumed session as authenticated lets that anonymous session resume into the protected resource. Go\'s crypto/tls resumed certificate-less sessions after ClientAuth was raised (CVE-2025-68121), Botan likewise (#5818); Node reports a TLS 1.3 session resumed without a certificate as authorized (nodejs/node PR #64584).',
    references: [
      ...TRUST_CHANGE_REFERENCES,
      { title: 'RFC 8446 §4.6.1 New Session Ticket', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.6.1' },
      { title: 'RFC 5077 §3.4 (a ticket carries the client authentication state)', url: 'https://www.rfc-editor.org/rfc/rfc5077#section-3.4' },
    ],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'billing-server' }); },
    setup: { clientAuth: 'optional' },
    run: async (t) => {
      const path = t.setup.paths.protected;
      const publicCanary = t.setup.publicCanary ?? '';
      /** The anonymous response of optional mode: a 2xx with the public token, never the protected canary. */
      const anonymous = (obs: Observation): boolean => (obs.status ?? 0) >= 200 && (obs.status ?? 0) < 300 && (obs.bodyExcerpt ?? '').includes(publicCanary) && !obs.canarySeen;
      // Under TLS 1.2 a client can also resume by session id alone (no ticket extension offered).
      const modes = t.tls === '1.2' ? [{ name: 'ticket', sessionTickets: true }, { name: 'session-id', sessionTickets: false }] : [{ name: 'ticket', sessionTickets: true }];
      const sessions: { name: string; sessionTickets: boolean; session: Buffer }[] = [];
      for (const mode of modes) {
        const first = await t.connect(null, { requests: [{ path }], sessionTickets: mode.sessionTickets });
        const full = first.observations[0];
        if (full) {
          t.check({
            label: `a client without a certificate, before the reload, gets the anonymous response (${mode.name})`, expected: 'accept', ok: anonymous(full),
            observed: anonymous(full) ? `anonymous response (HTTP ${full.status ?? '?'})` : describeObservation(full), ...(anonymous(full) ? {} : { observation: full }),
          });
        }
        if (!first.session) {
          t.note(`the server issued a session to the anonymous client (${mode.name})`, 'no session was issued, so there is nothing to resume');
          continue;
        }
        sessions.push({ ...mode, session: first.session });
        const again = (await t.connect(null, { requests: [{ path }], session: first.session, sessionTickets: mode.sessionTickets })).observations[0];
        if (again) t.note(`the anonymous client resuming before the reload (${mode.name})`, `${again.resumed === true ? 'resumed' : 'not resumed (full handshake)'}: ${anonymous(again) ? 'anonymous response' : describeObservation(again)}`);
      }
      /** Required mode refuses a client without a certificate; the anonymous response means the old mode still holds. */
      const expectClosed = (obs: Observation, label: string): void => {
        if (anonymous(obs)) t.check({ label, expected: 'reject', ok: false, observed: `served the anonymous response (HTTP ${obs.status ?? '?'}): optional mode still holds` });
        else t.expectRefused(obs, label);
      };
      await t.reload({ clientAuth: 'required' });
      for (const s of sessions) {
        const after = (await t.connect(null, { requests: [{ path }], session: s.session, sessionTickets: s.sessionTickets })).observations[0];
        if (after) expectClosed(after, `a client without a certificate resuming its anonymous session (${s.name}) after reload() tightened client authentication to required${after.resumed === true ? ' (resumed)' : ' (full handshake)'}`);
      }
      expectClosed(await t.probe(null), 'a client without a certificate on a new connection after reload() tightened client authentication to required');
      t.expectServed(await t.probe('client'), "control client 'client' of the company CA, full handshake after the reload");
    },
  }),
];
