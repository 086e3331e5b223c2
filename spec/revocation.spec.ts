// revocation: CRLs.
import { defineCase, type CaseContext, type Observation, type Reference, describeCases, type CaseDefinition } from '../harness/index.ts';

const RFC5280_CRL: Reference = { title: 'RFC 5280 §6.3 CRL Validation', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-6.3' };

/** The first observation of a connection (a probe always yields one). */
function first(result: { observations: Observation[] }): Observation {
  return result.observations[0] ?? { outcome: 'error', error: 'no observation', canarySeen: false, ms: 0 };
}

/** Probes, resumes once to show the server resumes at all, then revokes and reloads; returns the first session. */
async function revokeAfterSession(t: CaseContext): Promise<Buffer | undefined> {
  const full = await t.connect('client');
  t.expectServed(first(full), "client 'client' before the revocation (full handshake)");
  if (full.session) {
    const again = first(await t.connect('client', { session: full.session }));
    t.expectServed(again, `client 'client' before the revocation, resuming its session${again.resumed === true ? ' (resumed)' : ' (the server did not resume)'}`);
  }
  await t.reload({ crl: ['crl-after'] });
  return full.session;
}

const cases: CaseDefinition[] = [
  defineCase({
    id: 'revocation::revoked-leaf',
    title: 'refuses a client whose certificate the CRL revokes, and still serves an unrevoked one',
    family: 'revocation', severity: 'critical', core: true,
    expected: 'reject', preferredAlert: 'certificate_revoked',
    requires: ['crl'],
    why: 'Revocation is how a stolen client key stops working before its certificate expires. A server that ignores the CRL keeps serving the thief; one that refuses everyone under a CRL is unusable.',
    references: [
      { title: 'RFC 5280 §5 CRL Profile', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-5' },
      { title: 'RFC 5280 §6.3 CRL Validation', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-6.3' },
    ],
    pki: (b, { root }) => {
      const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
      b.crl('root-crl', root, { revoked: [client] });
    },
    setup: { crl: ['root-crl'] },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "revoked client 'client'");
      t.expectServed(await t.probe('colleague'), "unrevoked client 'colleague' under the same CRL");
    },
  }),
  defineCase({
    id: 'revocation::unrevoked-with-crl',
    title: 'serves an unrevoked client when the full set of CRLs for its chain is loaded',
    family: 'revocation', severity: 'high',
    expected: 'accept',
    requires: ['crl'],
    why: 'Revocation checking must not cost availability: with the root\'s and the intermediate\'s CRLs bundled in one file, a client whose certificate is not listed must still be served. Servers that load only part of the bundle, or check the wrong issuer\'s CRL, lock out everyone.',
    references: [RFC5280_CRL],
    pki: (b, { root }) => {
      const issuing = b.ca('issuing-ca', { issuer: root, cn: 'Acme Issuing CA' });
      b.leaf('client', { issuer: issuing, cn: 'billing-server' });
      const revoked = b.leaf('revoked', { issuer: issuing, cn: 'mail-server' });
      b.crl('root-crl', root);
      b.crl('issuing-crl', issuing, { revoked: [revoked] });
    },
    setup: { crl: ['root-crl', 'issuing-crl'] },
    run: async (t) => {
      t.expectServed(await t.probe('client'), "unrevoked client 'client' (issued by the intermediate)");
      t.expectRefused(await t.probe('revoked'), "revoked client 'revoked' under the same CRLs", 'certificate_revoked');
    },
  }),
  defineCase({
    id: 'revocation::crl-expired',
    title: 'refuses clients while the only CRL is past its nextUpdate (fails closed)',
    family: 'revocation', severity: 'high',
    expected: 'reject',
    requires: ['crl'],
    why: 'An expired CRL says nothing about certificates revoked since it was issued. An attacker who blocks the CRL refresh keeps a stolen key working if the server treats a stale CRL as good — or no CRL as no revocation.',
    references: [RFC5280_CRL, { title: 'RFC 5280 §5.1.2.5 Next Update', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-5.1.2.5' }],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.crl('stale-crl', root, { lastUpdate: -7200, nextUpdate: -3600 });
      b.crl('fresh-crl', root);
    },
    setup: { crl: ['stale-crl'] },
    // Failing closed refuses every client, the valid one too: the control runs on an instance given a current CRL.
    control: 'peer', controlSetup: { crl: ['fresh-crl'] },
  }),
  defineCase({
    id: 'revocation::crl-forged',
    title: 'refuses a client when the CRL carries the root\'s name but another key\'s signature',
    family: 'revocation', severity: 'high',
    expected: 'reject',
    requires: ['crl'],
    why: 'Whoever can write the CRL file or answer at the distribution point can serve a clean list in the CA\'s name to un-revoke a stolen key. A CRL whose signature does not verify with the issuer\'s key must be treated as no CRL at all.',
    references: [RFC5280_CRL, { title: 'RFC 5280 §6.3.3 (f)-(g) CRL signature', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-6.3.3' }],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      const impostor = b.ca('impostor', { impersonate: root });
      b.crl('forged-crl', root, { signer: impostor });
      b.crl('genuine-crl', root);
    },
    setup: { crl: ['forged-crl'] },
    // A CRL that does not verify makes a fail-closed server refuse everyone: the control runs on an instance given the genuine CRL.
    control: 'peer', controlSetup: { crl: ['genuine-crl'] },
  }),
  defineCase({
    id: 'revocation::revoked-intermediate',
    title: 'refuses a client whose issuing intermediate the root\'s CRL revokes',
    family: 'revocation', severity: 'critical',
    expected: 'reject', preferredAlert: 'certificate_revoked',
    requires: ['crl'],
    why: 'Revoking a compromised intermediate is how a CA kills everything it issued in one stroke. A server that checks only the leaf\'s CRL keeps serving every certificate the attacker mints with the stolen CA key.',
    references: [RFC5280_CRL],
    pki: (b, { root }) => {
      const issuing = b.ca('issuing-ca', { issuer: root, cn: 'Acme Issuing CA' });
      b.leaf('client', { issuer: issuing, cn: 'mail-server' });
      b.crl('root-crl', root, { revoked: [issuing] });
      b.crl('issuing-crl', issuing);
    },
    setup: { crl: ['root-crl', 'issuing-crl'] },
  }),
  defineCase({
    id: 'revocation::multi-crl-bundle',
    title: 'refuses a client revoked by the second CRL of a PEM bundle',
    family: 'revocation', severity: 'high',
    expected: 'reject', preferredAlert: 'certificate_revoked',
    requires: ['crl'],
    why: 'CRL files are bundles: operators append the current CRL to the file that holds the previous one (or other issuers\' CRLs). Node\'s `crl` option given the file as one string loads only the first PEM block (nodejs/node#65576), so the revocation in the second never takes effect.',
    references: [RFC5280_CRL, { title: 'nodejs/node#65576: crl option loads only the first PEM CRL', url: 'https://github.com/nodejs/node/issues/65576' }],
    pki: (b, { root }) => {
      const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
      b.crl('crl-previous', root, { lastUpdate: -7200 });
      b.crl('crl-current', root, { revoked: [client] });
    },
    setup: { crl: ['crl-previous', 'crl-current'] },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client', revoked by the second CRL of the bundle");
      t.expectServed(await t.probe('colleague'), "unrevoked client 'colleague' under the same bundle");
    },
  }),
  defineCase({
    id: 'revocation::hot-reload',
    title: 'refuses a newly revoked client on the first connection after reload() returns',
    family: 'revocation', severity: 'high',
    expected: 'reject', preferredAlert: 'certificate_revoked',
    requires: ['crl', 'crl-reload'],
    why: 'Revocation only helps if it takes effect when the operator publishes it. A server that needs a restart, or swaps the CRL file without swapping what it verifies against, keeps serving the revoked key for hours.',
    references: [RFC5280_CRL],
    pki: (b, { root }) => {
      const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
      b.crl('crl-before', root);
      b.crl('crl-after', root, { revoked: [client] });
    },
    setup: { crl: ['crl-before'] },
    run: async (t) => {
      t.expectServed(await t.probe('client'), "client 'client' before the revocation");
      await t.reload({ crl: ['crl-after'] });
      t.expectRefused(await t.probe('client'), "client 'client' on a new connection after reload()");
      t.expectServed(await t.probe('colleague'), "unrevoked client 'colleague' after reload()");
    },
  }),
  defineCase({
    id: 'revocation::resumption-after-revoke',
    title: 'refuses to resume a session of a client revoked since the session was made',
    family: 'revocation', severity: 'critical',
    expected: 'reject', preferredAlert: 'certificate_revoked',
    requires: ['crl', 'crl-reload'],
    why: 'Resumption skips certificate verification: the server trusts its own ticket. If ticket keys survive a revocation (fixed or cluster-shared keys), the thief resumes the victim\'s old session and is served as if nothing happened — the CVE-2025-23419 class of bypass.',
    references: [
      RFC5280_CRL,
      { title: 'CVE-2025-23419 (nginx TLS session resumption bypasses client certificate checks)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2025-23419' },
      { title: 'RFC 8446 §4.6.1 New Session Ticket', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.6.1' },
    ],
    pki: (b, { root }) => {
      const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.crl('crl-before', root);
      b.crl('crl-after', root, { revoked: [client] });
    },
    setup: { crl: ['crl-before'] },
    run: async (t) => {
      const session = await revokeAfterSession(t);
      if (!session) {
        t.note("client 'client' resuming after the revocation", 'the server issued no session to resume; nothing to bypass');
        return;
      }
      const resumed = first(await t.connect('client', { session }));
      t.expectRefused(resumed, `client 'client' after revoke + reload(), resuming its old session${resumed.resumed === true ? ' (resumed)' : ' (full handshake)'}`);
    },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('revocation', cases, import.meta.url);
