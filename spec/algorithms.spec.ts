// algorithms: signature digests and key types of the client chain.
import { defineCase, type KeySpec, describeCases, type CaseDefinition } from '../harness/index.ts';

/** Client keys every server must accept. */
const MODERN_KEYS: readonly KeySpec[] = ['rsa-3072', 'rsa-4096', 'ec-p256', 'ec-p384', 'ed25519'];

const cases: CaseDefinition[] = [
  defineCase({
    id: 'algorithms::sha1-signature',
    title: 'refuses a client certificate signed with SHA-1',
    family: 'algorithms', severity: 'high',
    expected: 'reject', preferredAlert: 'bad_certificate',
    why: 'SHA-1 collisions are practical (SHAttered 2017, chosen-prefix 2020): an attacker who gets one SHA-1 certificate signed can transplant the signature onto a certificate of their choosing.',
    references: [{ title: 'SHA-1 is a Shambles (chosen-prefix collision, 2020)', url: 'https://sha-mbles.github.io/' }, { title: 'RFC 9155 Deprecating MD5 and SHA-1 in TLS 1.2', url: 'https://www.rfc-editor.org/rfc/rfc9155' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server', digest: 'sha1' }); },
  }),
  defineCase({
    id: 'algorithms::md5-signature',
    title: 'refuses a client certificate signed with MD5',
    family: 'algorithms', severity: 'high',
    expected: 'reject', preferredAlert: 'bad_certificate',
    why: 'MD5 certificate signatures were forged in practice: a rogue CA certificate in 2008 and the Flame malware in 2012.',
    references: [{ title: 'MD5 considered harmful today: creating a rogue CA certificate (2008)', url: 'https://www.win.tue.nl/hashclash/rogue-ca/' }, { title: 'RFC 6151 MD5 security considerations', url: 'https://www.rfc-editor.org/rfc/rfc6151' }],
    // MD5 signatures exist only for RSA, so an RSA intermediate signs the leaf.
    pki: (b, { root }) => {
      const rsaCa = b.ca('rsa-ca', { issuer: root, cn: 'Acme RSA CA', key: 'rsa-2048' });
      b.leaf('client', { issuer: rsaCa, cn: 'mail-server', digest: 'md5' });
    },
  }),
  defineCase({
    id: 'algorithms::rsa-1024-client-key',
    title: 'refuses a client whose RSA key has only 1024 bits',
    family: 'algorithms', severity: 'medium',
    level: 'policy',
    expected: 'reject', preferredAlert: 'bad_certificate',
    policy: 'The invoice server runs at OpenSSL security level 2 (112-bit security: RSA keys of at least 2048 bits). Node 20 defaults to level 1 and accepts RSA-1024; NIST disallowed 1024-bit RSA for signatures after 2013.',
    why: '1024-bit RSA is within reach of well-funded attackers; a client key of that size is a credential someone else may be able to reconstruct.',
    references: [{ title: 'NIST SP 800-131A Rev. 2 §3', url: 'https://csrc.nist.gov/pubs/sp/800/131/a/r2/final' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server', key: 'rsa-1024' }); },
  }),
  defineCase({
    id: 'algorithms::modern-keys',
    title: 'serves clients with RSA-3072, RSA-4096, P-256, P-384 and Ed25519 keys under TLS 1.2 and 1.3',
    family: 'algorithms', severity: 'high',
    expected: 'accept',
    // The RSA keys come from the run's key pool, generated ahead while the quick cases run.
    slow: true,
    why: 'Hardening must not lock out the keys clients actually use. A server with a narrowed signature-algorithm list or an over-high security level refuses healthy clients (Ed25519 and P-384 are the usual victims).',
    references: [{ title: 'RFC 8446 §4.2.3 Signature Algorithms', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.2.3' }, { title: 'RFC 8410 Ed25519 in X.509', url: 'https://www.rfc-editor.org/rfc/rfc8410' }],
    pki: (b, { root }) => { for (const key of MODERN_KEYS) b.leaf(`client-${key}`, { issuer: root, cn: `mail-server-${key}`, key }); },
    run: async (t) => {
      for (const key of MODERN_KEYS) t.expectServed(await t.probe(`client-${key}`), `client with a ${key} key`);
    },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('algorithms', cases, import.meta.url);
