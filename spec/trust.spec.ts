// trust: chain building and trust anchors.
import { defineCase } from '../harness/index.ts';

export default [
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
];
