// The PKI builder: refuses contradictions before openssl runs, produces what was
// asked, and records commands that rebuild the PKI in an empty directory.
import { expect } from 'chai';
import { execa } from 'execa';
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tmp from 'tmp-promise';
import { replayScript } from '../harness/openssl.ts';
import { PkiBuilder } from '../harness/pki.ts';

describe('PKI builder', function () {
  it('refuses contradictory options with a message naming both', function () {
    const b = new PkiBuilder();
    const root = b.ca('root');
    expect(() => b.leaf('x', { issuer: root, digest: 'md5' })).to.throw(/digest md5 and an ec-p256 issuer key contradict/);
    expect(() => b.leaf('y', { issuer: root, cn: 'a', subject: '/CN=b' })).to.throw(/cn and subject both given/);
    expect(() => b.leaf('z', { issuer: root, notBefore: 10, notAfter: 5 })).to.throw(/notAfter .* must come after notBefore/);
    expect(() => b.leaf('root')).to.throw(/declared twice/);
    expect(() => b.leaf('Bad Name')).to.throw(/must match/);
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
