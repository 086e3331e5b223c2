// The PKI builder: refuses contradictions before openssl runs, produces what was
// asked, and records commands that rebuild the PKI in an empty directory.
import { expect } from 'chai';
import { execa, execaSync } from 'execa';
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tmp from 'tmp-promise';
import { replayScript } from '../harness/pki/openssl.ts';
import { PkiBuilder, type CaOptions, type LeafOptions } from '../harness/pki/pki.ts';

describe('PKI builder', function () {
  it('refuses contradictory options with a message naming both', function () {
    const b = new PkiBuilder();
    const root = b.ca('root');
    expect(() => b.leaf('x', { issuer: root, digest: 'md5' })).to.throw(/digest md5 and an ec-p256 issuer key contradict/);
    expect(() => b.leaf('y', { issuer: root, cn: 'a', subject: '/CN=b' })).to.throw(/cn and subject both given/);
    expect(() => b.leaf('z', { issuer: root, notBefore: 10, notAfter: 5 })).to.throw(/notAfter .* must come after notBefore/);
    expect(() => b.leaf('root')).to.throw(/declared twice/);
    expect(() => b.leaf('Bad Name')).to.throw(/must match/);
    expect(() => b.ca('imp', { impersonate: root, cn: 'x' })).to.throw(/impersonate and cn both set the subject/);
    expect(() => b.leaf('imp-leaf', { issuer: root, impersonate: root } as LeafOptions)).to.throw(/impersonate applies to CAs/);
    expect(() => b.leaf('lonely', { sendIntermediates: false })).to.throw(/sendIntermediates: false and a self-signed leaf contradict/);
    expect(() => b.ca('ca-send', { issuer: root, sendIntermediates: false } as CaOptions)).to.throw(/sendIntermediates applies to a leaf/);
    expect(() => b.ca('root2', { authorityKeyId: false })).to.throw(/authorityKeyId: false and a self-signed certificate contradict/);
    expect(() => b.ca('neg', { issuer: root, pathLen: -1 })).to.throw(/pathLen must be a non-negative integer/);
    expect(() => b.leaf('past', { issuer: root, notAfter: -10 })).to.throw(/notAfter \(-10s\) and the default notBefore \(now\) contradict/);
    expect(() => b.leaf('future', { issuer: root, notBefore: 2 * 86_400 })).to.throw(/notBefore .* and the default notAfter .* contradict/);
    expect(() => b.leaf('rsa-ka', { issuer: root, key: 'rsa-2048', keyUsage: ['keyAgreement'] })).to.throw(/keyUsage keyAgreement and a rsa-2048 key contradict/);
    const ed = b.ca('ed-ca', { issuer: root, key: 'ed25519' });
    expect(() => b.leaf('ed-leaf', { issuer: ed, digest: 'sha1' })).to.throw(/digest sha1 and an ed25519 issuer key contradict/);
    const bent = b.leaf('bent', { issuer: root, tamper: 'signature' });
    expect(() => b.leaf('below-bent', { issuer: bent, tamper: 'signature' })).to.throw(/tamper and an issuer \(bent\) that is itself tampered contradict/);
    expect(() => b.crl('self-forged', root, { signer: root })).to.throw(/signer root and issuer root are the same CA/);
    expect(() => b.crl('stale', root, { nextUpdate: -3600 })).to.throw(/nextUpdate \(-3600s\) and the default lastUpdate \(-60s\) contradict/);
    expect(() => b.crl('early', root, { lastUpdate: 2 * 86_400 })).to.throw(/lastUpdate .* and the default nextUpdate .* contradict/);
    expect(() => b.crl('neg-crl', root, { extraEntries: -1 })).to.throw(/extraEntries must be a non-negative integer/);
  });

  it('refuses contradictions before any openssl process runs', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const b = new PkiBuilder();
      const root = b.ca('root');
      expect(() => b.leaf('x', { issuer: root, digest: 'md5' })).to.throw();
      const pki = await b.build(dir);
      expect(pki.session.processes).to.equal(1);
      expect(await readdir(dir)).not.to.include('x.pem');
    }, { unsafeCleanup: true });
  });

  it('builds the breakage the catalogue needs, and openssl produced what was asked', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const b = new PkiBuilder();
      const root = b.ca('root', { cn: 'Acme Root CA' });
      const impostor = b.ca('impostor', { impersonate: root });
      const rsaCa = b.ca('rsa-ca', { issuer: root, key: 'rsa-2048', pathLen: 0, nameConstraints: 'permitted;DNS:good.example' });
      b.leaf('md5', { issuer: rsaCa, digest: 'md5', san: ['DNS:good.example'], sendIntermediates: false });
      b.leaf('sha1', { issuer: root, digest: 'sha1' });
      b.leaf('ed', { issuer: root, key: 'ed25519' });
      b.leaf('p384', { issuer: root, key: 'ec-p384', eku: ['serverAuth'], keyUsage: ['keyEncipherment'] });
      b.leaf('odd', { issuer: root, eku: null, keyUsage: null, extraExtensions: ['1.3.6.1.4.1.55555.1.1 = critical,ASN1:UTF8String:x'] });
      b.leaf('bent', { issuer: root, tamper: 'signature' });
      b.leaf('via-ca', { issuer: rsaCa });
      b.leaf('minter', { issuer: root, caFlag: true });
      b.crl('expired', root, { lastUpdate: -7200, nextUpdate: -3600 });
      b.crl('future', root, { lastUpdate: 3600, nextUpdate: 7200 });
      b.crl('forged', root, { signer: impostor });
      b.crl('inter', rsaCa, { extraEntries: 50 });
      const pki = await b.build(dir);
      const text = async (name: string): Promise<string> => (await execa('openssl', ['x509', '-noout', '-text', '-in', `${name}.pem`], { cwd: dir })).stdout;
      expect(pki.cert('impostor').x509.subject).to.equal(pki.cert('root').x509.subject);
      expect(pki.cert('impostor').x509.publicKey.export({ format: 'der', type: 'spki' })).not.to.deep.equal(pki.cert('root').x509.publicKey.export({ format: 'der', type: 'spki' }));
      expect(await text('md5')).to.match(/Signature Algorithm: md5WithRSAEncryption/);
      expect(await text('sha1')).to.match(/Signature Algorithm: ecdsa-with-SHA1/);
      expect(await text('rsa-ca')).to.match(/CA:TRUE, pathlen:0[\s\S]*Permitted:\s+DNS:good.example/);
      expect(await text('odd')).to.match(/1\.3\.6\.1\.4\.1\.55555\.1\.1: critical/).and.not.match(/Key Usage/);
      expect(await text('minter')).to.match(/CA:TRUE[\s\S]*Certificate Sign/);
      expect(pki.cert('ed').x509.publicKey.asymmetricKeyType).to.equal('ed25519');
      expect(pki.cert('p384').x509.publicKey.asymmetricKeyDetails?.namedCurve).to.equal('secp384r1');
      expect(pki.cert('bent').x509.verify(pki.cert('root').x509.publicKey)).to.equal(false);
      expect((await readFile(pki.cert('md5').chain, 'utf8')).match(/BEGIN CERTIFICATE/g)).to.have.length(1);
      expect((await readFile(pki.cert('via-ca').chain, 'utf8')).match(/BEGIN CERTIFICATE/g)).to.have.length(2);
      expect(pki.crl('inter').entries).to.equal(50);
      const verify = async (crl: string, leaf = 'sha1', ca = 'root.pem'): Promise<string> =>
        (await execa('openssl', ['verify', '-crl_check', '-CAfile', ca, '-CRLfile', `${crl}.crl.pem`, `${leaf}.pem`], { cwd: dir, reject: false, all: true })).all ?? '';
      expect(await verify('expired')).to.match(/CRL has expired/);
      expect(await verify('future')).to.match(/CRL is not yet valid/);
      expect(await verify('forged')).to.match(/CRL signature failure/);
      await pki.bundle('chain-ca.pem', ['root', 'rsa-ca']);
      expect(await verify('inter', 'via-ca', 'chain-ca.pem')).to.match(/via-ca.pem: OK/);
    }, { unsafeCleanup: true });
  });

  it('builds a simple case (root, server, client) with at most 4 openssl processes', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const b = new PkiBuilder();
      const root = b.ca('root');
      b.leaf('server', { issuer: root, role: 'server', cn: 'localhost' });
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      const pki = await b.build(dir);
      expect(pki.session.processes).to.be.at.most(4);
    }, { unsafeCleanup: true });
  });

  it('builds CA:FALSE client leaves with EKU clientAuth, keys private to the case dir', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const b = new PkiBuilder();
      const root = b.ca('root');
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      const pki = await b.build(dir);
      const client = pki.cert('client');
      expect(client.x509.ca).to.equal(false);
      expect(client.x509.keyUsage).to.include('1.3.6.1.5.5.7.3.2');
      expect(client.x509.checkIssued(pki.cert('root').x509)).to.equal(true);
      expect((await stat(client.key)).mode & 0o777).to.equal(0o600);
      expect(pki.session.processes).to.equal(2);
    }, { unsafeCleanup: true });
  });

  it('gives a client RSA-3072 key three primes and a server one two, and the replay generates the same', async function () {
    this.timeout(120_000);
    const primes = async (cwd: string, file: string): Promise<string> =>
      /\(\d+ bit, (\d+) primes\)/.exec((await execa('openssl', ['pkey', '-in', file, '-text', '-noout'], { cwd })).stdout)?.[1] ?? 'unreadable';
    await tmp.withDir(async ({ path: dir }) => {
      const b = new PkiBuilder();
      const root = b.ca('root');
      b.leaf('server', { issuer: root, role: 'server', cn: 'localhost', key: 'rsa-3072' });
      b.leaf('client', { issuer: root, cn: 'mail-server', key: 'rsa-3072' });
      const pki = await b.build(dir);
      expect(await primes(dir, 'client.key')).to.equal('3');
      expect(await primes(dir, 'server.key')).to.equal('2');
      // The server sees the same kind of public key either way.
      for (const name of ['client', 'server']) expect(pki.cert(name).x509.publicKey.asymmetricKeyDetails?.modulusLength).to.equal(3072);
      await tmp.withDir(async ({ path: empty }) => {
        await writeFile(path.join(empty, 'replay.sh'), replayScript(pki.session.steps));
        await execa('bash', ['replay.sh'], { cwd: empty });
        expect(await primes(empty, 'client.key')).to.equal('3');
        expect(await primes(empty, 'server.key')).to.equal('2');
      }, { unsafeCleanup: true });
    }, { unsafeCleanup: true });
  });

  it('gives certificates of one PKI that ask for the same pooled key type keys of their own, and the next PKI the same ones', async function () {
    this.timeout(120_000);
    const declare = (): PkiBuilder => {
      const b = new PkiBuilder();
      const root = b.ca('root');
      const first = b.ca('first-ca', { issuer: root, key: 'rsa-2048' });
      b.ca('second-ca', { issuer: root, key: 'rsa-2048' });
      b.leaf('one', { issuer: first, key: 'rsa-2048' });
      b.leaf('two', { issuer: first, key: 'rsa-2048' });
      return b;
    };
    const names = ['first-ca', 'second-ca', 'one', 'two'];
    expect(declare().pooledKeys().map((k) => `${k.spec}/${k.primes}/${k.slot}`)).to.deep.equal(['rsa-2048/2/0', 'rsa-2048/2/1', 'rsa-2048/3/0', 'rsa-2048/3/1']);
    await tmp.withDir(async ({ path: dir }) => {
      await tmp.withDir(async ({ path: again }) => {
        const pki = await declare().build(dir);
        const next = await declare().build(again);
        const keys = await Promise.all(names.map((n) => readFile(pki.cert(n).key, 'utf8')));
        expect(new Set(keys).size).to.equal(names.length);
        expect(new Set(names.map((n) => pki.cert(n).x509.publicKey.export({ type: 'spki', format: 'der' }).toString('hex'))).size).to.equal(names.length);
        expect(await Promise.all(names.map((n) => readFile(next.cert(n).key, 'utf8')))).to.deep.equal(keys);
        const primes = (file: string): string => /\(\d+ bit, (\d+) primes\)/.exec(execaSync('openssl', ['pkey', '-in', file, '-text', '-noout']).stdout)?.[1] ?? 'unreadable';
        expect(names.map((n) => primes(pki.cert(n).key))).to.deep.equal(['2', '2', '3', '3']);
      }, { unsafeCleanup: true });
    }, { unsafeCleanup: true });
  });

  it('sets exact validity when asked (expired leaf)', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const b = new PkiBuilder();
      const root = b.ca('root');
      b.leaf('old', { issuer: root, notBefore: -7200, notAfter: -3600 });
      const pki = await b.build(dir);
      const validTo = Date.parse(pki.cert('old').x509.validTo);
      expect(Math.abs(validTo - (Date.now() - 3_600_000))).to.be.lessThan(120_000);
    }, { unsafeCleanup: true });
  });

  it('records a replay script that rebuilds an equivalent PKI in an empty directory', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const b = new PkiBuilder();
      const root = b.ca('root', { cn: 'Acme Root CA' });
      const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.crl('root-crl', root, { revoked: [client] });
      const pki = await b.build(path.join(dir));
      const script = replayScript(pki.session.steps);
      expect(script).not.to.match(/PRIVATE KEY/);
      await tmp.withDir(async ({ path: empty }) => {
        await writeFile(path.join(empty, 'replay.sh'), script);
        await execa('bash', ['replay.sh'], { cwd: empty });
        const files = await readdir(empty);
        expect(files).to.include.members(['root.pem', 'client.pem', 'root-crl.crl.pem']);
        const rebuilt = new X509Certificate(await readFile(path.join(empty, 'client.pem')));
        expect(rebuilt.subject).to.equal(pki.cert('client').x509.subject);
        expect(rebuilt.checkIssued(new X509Certificate(await readFile(path.join(empty, 'root.pem'))))).to.equal(true);
        const verify = await execa('openssl', ['verify', '-crl_check', '-CAfile', 'root.pem', '-CRLfile', 'root-crl.crl.pem', 'client.pem'], { cwd: empty, reject: false, all: true });
        expect(verify.all).to.match(/certificate revoked/);
      }, { unsafeCleanup: true });
    }, { unsafeCleanup: true });
  });
});
