// The suite's OCSP responder and the PKI declarations behind it, checked with
// the openssl OCSP client as an independent verifier.
import { expect } from 'chai';
import { execa } from 'execa';
import { connect } from 'node:net';
import path from 'node:path';
import tmp from 'tmp-promise';
import { PkiBuilder, type BuiltPki } from '../harness/pki/pki.ts';
import { canonicalSerial, startOcspResponder, type OcspResponder } from '../harness/pki/ocsp-responder.ts';
import { isSpiffeId } from '../harness/servers/san-identity.ts';

/** Asks the responder about `name` with `openssl ocsp`, verifying against the root; returns its output. */
async function ask(pki: BuiltPki, url: string, name: string, issuer = 'root'): Promise<string> {
  const result = await execa('openssl', ['ocsp', '-issuer', `${issuer}.pem`, '-cert', `${name}.pem`, '-url', url, '-CAfile', 'root.pem', '-timeout', '5'], {
    cwd: pki.dir, reject: false, timeout: 15_000, all: true, env: { OPENSSL_CONF: path.join(pki.dir, 'openssl.cnf') },
  });
  return result.all ?? '';
}

describe('OCSP responder', function () {
  let dir: tmp.DirectoryResult;
  let responder: OcspResponder;
  let pki: BuiltPki;

  before(async function () {
    dir = await tmp.dir({ unsafeCleanup: true });
    responder = await startOcspResponder();
    const b = new PkiBuilder();
    const root = b.ca('root', { cn: 'Acme Root CA' });
    b.leaf('good', { issuer: root });
    const revoked = b.leaf('revoked', { issuer: root });
    const unknown = b.leaf('unknown', { issuer: root });
    const garbage = b.leaf('garbage', { issuer: root });
    const stale = b.leaf('stale', { issuer: root });
    const forged = b.leaf('forged', { issuer: root });
    const later = b.leaf('later', { issuer: root });
    const impostor = b.ca('impostor', { impersonate: root });
    b.ocsp('root-ocsp', root, { revoked: [revoked], unknown: [unknown], garbage: [garbage], stale: [stale], forged: [forged], forger: impostor });
    void later;
    pki = await b.build(dir.path, undefined, responder.buildOptions);
    responder.serve(pki);
  });

  after(async function () {
    await responder.close();
    await dir.cleanup();
  });

  it('declares a delegated signer with EKU OCSPSigning and writes the responder URL into the certificates it covers', function () {
    const signer = pki.cert('root-ocsp-signer');
    expect(signer.x509.keyUsage).to.include('1.3.6.1.5.5.7.3.9');
    expect(signer.x509.infoAccess ?? '').to.equal('');
    expect(pki.cert('good').x509.infoAccess).to.include(`OCSP - URI:${responder.url}`);
    expect(pki.cert('root').x509.infoAccess ?? '').to.equal('');
    expect(pki.ocsp.get('root-ocsp')?.indexText.split('\n').filter(Boolean)).to.have.length(7);
  });

  it('answers good, revoked and unknown as its index says, signed so that openssl verifies it', async function () {
    const [good, revoked, unknown] = await Promise.all(['good', 'revoked', 'unknown'].map((n) => ask(pki, responder.url, n)));
    expect(good).to.match(/Response verify OK/).and.match(/good\.pem: good/);
    expect(revoked).to.match(/Response verify OK/).and.match(/revoked\.pem: revoked/);
    expect(unknown).to.match(/unknown\.pem: unknown/);
  });

  it('breaks its answers as declared: garbage, stale, forged', async function () {
    const [garbage, stale, forged] = await Promise.all(['garbage', 'stale', 'forged'].map((n) => ask(pki, responder.url, n)));
    expect(garbage).to.match(/Error|error/).and.not.match(/garbage\.pem: good/);
    expect(stale).to.match(/Response verify OK/).and.match(/Status times invalid/);
    expect(forged).to.match(/Response Verify Failure|verify error/i);
  });

  it('revokes at run time and restores the declared index on reset()', async function () {
    expect(await ask(pki, responder.url, 'later')).to.match(/later\.pem: good/);
    responder.revoke('later');
    expect(await ask(pki, responder.url, 'later')).to.match(/later\.pem: revoked/);
    responder.reset();
    expect(await ask(pki, responder.url, 'later')).to.match(/later\.pem: good/);
    expect(responder.log().some((l) => l.includes('revoked later'))).to.equal(true);
  });

  it('finds a certificate whatever leading zeros its serial is written with', function () {
    // DER drops no nibble but the builder's serial may start with 0 (0A3F… in the index, 0a3f… in the request).
    expect(canonicalSerial('0a3f00')).to.equal(canonicalSerial('0A3F00')).and.equal('A3F00');
    expect(canonicalSerial('000')).to.equal('0');
  });

  it('resets every connection at its down address', async function () {
    const port = Number(new URL(responder.downUrl).port);
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => { socket.destroy(); resolve('timeout'); }, 5_000);
      socket.once('error', (e: NodeJS.ErrnoException) => { clearTimeout(timer); resolve(e.code ?? 'error'); });
      socket.once('close', () => { clearTimeout(timer); resolve('closed'); });
    });
    expect(['ECONNRESET', 'closed']).to.include(outcome);
  });
});

describe('OCSP and SAN declarations', function () {
  it('refuses contradictions before openssl runs', function () {
    const b = new PkiBuilder();
    const root = b.ca('root');
    const other = b.ca('other');
    const stray = b.leaf('stray', { issuer: other });
    const client = b.leaf('client', { issuer: root });
    expect(() => b.ocsp('r1', root, { revoked: [stray] })).to.throw(/stray is not issued by root/);
    expect(() => b.ocsp('r2', root, { forged: [client] })).to.throw(/forged answers need a forger/);
    expect(() => b.ocsp('r3', root, { revoked: [client], unknown: [client] })).to.throw(/given two answers/);
    expect(() => b.ocsp('r4', root, { forged: [client], forger: root })).to.throw(/same CA/);
  });

  it('needs the responder URL at build time', async function () {
    const b = new PkiBuilder();
    const root = b.ca('root');
    b.ocsp('root-ocsp', root);
    const dir = await tmp.dir({ unsafeCleanup: true });
    try {
      let error: unknown;
      await b.build(dir.path).catch((e: unknown) => { error = e; });
      expect(String(error)).to.match(/given no ocspUrl/);
    } finally {
      await dir.cleanup();
    }
  });

  it('writes SANs with an embedded NUL as raw DER', async function () {
    const b = new PkiBuilder();
    const root = b.ca('root');
    b.leaf('client', { issuer: root, san: ['URI:spiffe://acme.test/billing\0.evil', 'DNS:billing.acme.test\0.evil.test', 'email:a@b'] });
    const dir = await tmp.dir({ unsafeCleanup: true });
    try {
      const pki = await b.build(dir.path);
      expect(pki.cert('client').x509.subjectAltName).to.equal('URI:"spiffe://acme.test/billing\\u0000.evil", DNS:"billing.acme.test\\u0000.evil.test", email:a@b');
    } finally {
      await dir.cleanup();
    }
  });

  it('knows a SPIFFE ID when it sees one', function () {
    expect(isSpiffeId('spiffe://acme.test/billing')).to.equal(true);
    expect(isSpiffeId('spiffe://acme.test')).to.equal(true);
    for (const bad of ['spiffe://ACME.test/x', 'spiffe://acme.test/a/../b', 'spiffe://acme.test/x?y', 'spiffe://u@acme.test/x', 'spiffe://acme.test:8443/x', 'spiffe://acme.test/billing\0.evil', 'https://acme.test/x']) {
      expect(isSpiffeId(bad), bad).to.equal(false);
    }
  });
});
