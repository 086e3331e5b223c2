// usage: keyUsage, extendedKeyUsage and critical extensions of the client certificate.
import { defineCase, type Reference, describeCases, type CaseDefinition } from '../harness/index.ts';

const RFC5280_EKU: Reference = { title: 'RFC 5280 §4.2.1.12 Extended Key Usage', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12' };
const RFC5280_KU: Reference = { title: 'RFC 5280 §4.2.1.3 Key Usage', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.3' };

const cases: CaseDefinition[] = [
  defineCase({
    id: 'usage::server-auth-only-eku',
    title: 'refuses a client certificate issued only for server authentication',
    family: 'usage', severity: 'high',
    expected: 'reject', preferredAlert: 'unsupported_certificate',
    why: 'Server certificates sit on every web server of the company, often with their keys in reach of many admins. If one also works as a client certificate, any of them becomes a client identity (Envoy accepted such certificates: CVE-2022-21657).',
    references: [RFC5280_EKU, { title: 'CVE-2022-21657 (Envoy)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2022-21657' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'www.acme.example', eku: ['serverAuth'], san: ['DNS:www.acme.example'] }); },
  }),
  defineCase({
    id: 'usage::foreign-eku',
    title: 'refuses client certificates issued for code signing or e-mail protection',
    family: 'usage', severity: 'medium',
    expected: 'reject', preferredAlert: 'unsupported_certificate',
    why: 'A code-signing or S/MIME certificate from the same CA was issued for another job, to other people, under other checks. Accepting it as a TLS client confuses purposes the CA kept apart.',
    references: [RFC5280_EKU],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'release-signing', eku: ['codeSigning'] });
      b.leaf('mail-user', { issuer: root, cn: 'jane@acme.example', eku: ['emailProtection'], san: ['email:jane@acme.example'] });
    },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "client 'client' (EKU codeSigning)");
      t.expectRefused(await t.probe('mail-user'), "client 'mail-user' (EKU emailProtection)");
    },
  }),
  defineCase({
    id: 'usage::no-key-usage-extensions',
    title: 'refuses a client certificate that carries neither keyUsage nor extendedKeyUsage',
    family: 'usage', severity: 'low',
    level: 'policy',
    expected: 'reject',
    policy: 'The invoice server requires EKU clientAuth on every client certificate. RFC 5280 reads a missing EKU as "any purpose", so OpenSSL (and Node, nginx, Go) accept such a certificate; the suite refuses it because a certificate that never says it is for client authentication was not issued as a client identity.',
    why: 'Legacy or hand-made certificates without usage extensions are valid for everything, including being a client. A strict server accepts only certificates the CA issued for client authentication.',
    references: [RFC5280_EKU, RFC5280_KU],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server', keyUsage: null, eku: null }); },
  }),
  defineCase({
    id: 'usage::key-usage-without-digital-signature',
    title: 'refuses a client certificate whose keyUsage allows only key encipherment',
    family: 'usage', severity: 'medium',
    expected: 'reject', preferredAlert: 'unsupported_certificate',
    why: 'A TLS client proves itself by signing the handshake (CertificateVerify). A key whose certificate forbids signatures (keyEncipherment only) was not issued to authenticate anyone.',
    references: [RFC5280_KU, { title: 'RFC 8446 §4.4.3 Certificate Verify', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.3' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server', key: 'rsa-2048', keyUsage: ['keyEncipherment'] }); },
  }),
  defineCase({
    id: 'usage::unknown-critical-extension',
    title: 'refuses a client certificate with an unknown extension marked critical',
    family: 'usage', severity: 'medium',
    expected: 'reject', preferredAlert: 'certificate_unknown',
    why: 'A critical extension is a constraint the CA insists on. A verifier that does not understand it must refuse the certificate; ignoring it drops whatever limit the CA meant to impose.',
    references: [{ title: 'RFC 5280 §4.2 Certificate Extensions (critical)', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-4.2' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server', extraExtensions: ['1.3.6.1.4.1.55555.1.1 = critical,ASN1:UTF8String:only-on-tuesdays'] }); },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('usage', cases, import.meta.url);
