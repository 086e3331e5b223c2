// revocation: CRLs.
import { defineCase } from '../harness/index.ts';

export default [
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
];
