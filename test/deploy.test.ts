// The deployment helpers on their own: forwarded-identity decoding, the
// ClientHello relay's re-framing, the upstream's record, and the adapter
// contract for proxies.
import http from 'node:http';
import { expect } from 'chai';
import tmp from 'tmp-promise';
import { validateAdapter } from '../harness/servers/resolve.ts';
import { decodeForwarded, dnCommonNames, isClient } from '../harness/probe/forwarding.ts';
import { PkiBuilder, type BuiltPki } from '../harness/pki/pki.ts';
import { captureClientHello } from '../harness/probe/probe.ts';
import { splitRecord } from '../harness/probe/relay.ts';
import { sniFromFirstRecord } from '../harness/servers/invoice-deploy.ts';
import { headerValues, startUpstream } from '../harness/probe/upstream.ts';

describe('forwarded identities', function () {
  let dir: tmp.DirectoryResult;
  let pki: BuiltPki;
  before(async function () {
    dir = await tmp.dir({ unsafeCleanup: true });
    const b = new PkiBuilder();
    const root = b.ca('root');
    b.leaf('client', { issuer: root, cn: 'alice, CN=admin' });
    b.leaf('other', { issuer: root, cn: 'bob' });
    pki = await b.build(dir.path);
  });
  after(async function () { await dir.cleanup(); });

  it('reads an RFC 9440 byte sequence as the client certificate, and nothing else as one', function () {
    const client = pki.cert('client');
    const ok = decodeForwarded('rfc9440', [`:${client.x509.raw.toString('base64')}:`]);
    expect(ok.problem).to.equal(undefined);
    expect(ok.identities).to.have.length(1);
    expect(isClient(ok.identities[0] ?? { describe: '' }, client)).to.equal(true);
    expect(isClient(ok.identities[0] ?? { describe: '' }, pki.cert('other'))).to.equal(false);
    expect(decodeForwarded('rfc9440', [client.x509.raw.toString('base64')]).problem).to.match(/byte sequence/);
    expect(decodeForwarded('rfc9440', []).problem).to.match(/did not reach/);
  });

  it('reads URL-encoded PEM, also with the newlines Apache turns into spaces', function () {
    const client = pki.cert('client');
    expect(decodeForwarded('pem-urlencoded', [encodeURIComponent(client.pem)]).identities).to.have.length(1);
    expect(decodeForwarded('pem-urlencoded', [encodeURIComponent(client.pem.replace(/\n/g, ' '))]).identities[0]?.cert?.fingerprint256).to.equal(client.x509.fingerprint256);
  });

  it('counts a comma in a raw CN as two identities, and a quoted one as one', function () {
    expect(decodeForwarded('cn', ['alice, CN=admin']).identities).to.have.length(2);
    expect(decodeForwarded('cn', ['alice, CN=admin']).problem).to.match(/2 identities/);
    expect(decodeForwarded('cn', ['"alice, CN=admin"']).identities.map((i) => i.cn)).to.deep.equal(['alice, CN=admin']);
  });

  it('unescapes RFC 4514 DNs and finds every CN in them', function () {
    expect(dnCommonNames('CN=alice\\, CN=admin,O=Acme')).to.deep.equal(['alice, CN=admin']);
    expect(dnCommonNames('CN=J\\C3\\BCrgen')).to.deep.equal(['Jürgen']);
    expect(dnCommonNames('CN=alice,CN=admin')).to.deep.equal(['alice', 'admin']);
    expect(decodeForwarded('dn', ['CN=alice,CN=admin']).problem).to.match(/2 identities/);
  });

  it('reads one XFCC element per identity', function () {
    const pem = encodeURIComponent(pki.cert('client').pem);
    expect(decodeForwarded('xfcc', [`By=spiffe://x;Hash=ab;Cert="${pem}";Subject="CN=alice\\, CN=admin"`]).identities).to.have.length(1);
    expect(decodeForwarded('xfcc', ['Subject="CN=a",Subject="CN=b"']).identities).to.have.length(2);
  });
});

describe('the ClientHello relay', function () {
  for (const version of ['1.2', '1.3'] as const) {
    it(`splits a TLS ${version} ClientHello so the first record no longer carries the SNI`, async function () {
      const hello = await captureClientHello(version);
      const record = hello.subarray(0, 5 + hello.readUInt16BE(3));
      expect(sniFromFirstRecord(record)).to.equal('localhost');
      const parts = splitRecord(record, 8);
      expect(parts).to.not.equal(undefined);
      const [first, second] = parts ?? [Buffer.alloc(0), Buffer.alloc(0)];
      expect(first.readUInt16BE(3)).to.equal(8);
      expect(first.length + second.length).to.equal(record.length + 5);
      expect(Buffer.concat([first.subarray(5), second.subarray(5)]).equals(record.subarray(5))).to.equal(true);
      expect(sniFromFirstRecord(Buffer.concat([first, second]))).to.equal(null);
    });
  }
});

describe('the upstream', function () {
  it('serves the canary on the protected path and records every request with its headers', async function () {
    const upstream = await startUpstream({ canary: 'canary-x', publicCanary: 'public-x', paths: { protected: '/invoices/42', public: '/status' } });
    try {
      const get = (path: string): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: upstream.port, path, headers: { 'X-SSL-Client-CN': 'alice' }, timeout: 2_000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => { body += c; });
          res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }); });
        });
        req.on('error', reject);
      });
      expect((await get('/invoices/42?probe=a')).body).to.include('canary-x');
      expect((await get('/status')).body).to.include('public-x');
      expect((await get('/other')).status).to.equal(404);
      const seen = await upstream.waitFor((r) => r.url.includes('probe=a'), 1_000);
      expect(seen && headerValues(seen, 'x-ssl-client-cn')).to.deep.equal(['alice']);
      expect(upstream.requests()).to.have.length(3);
    } finally {
      await upstream.stop();
    }
  });
});

describe('proxy adapters', function () {
  const start = (): never => { throw new Error('unused'); };
  it("refuse 'proxy' without a forwarding declaration", function () {
    expect(() => validateAdapter({ name: 'p', capabilities: ['proxy'], start }, 'test')).to.throw(/declares 'proxy' without forwarding/);
  });
  it('refuse an unknown forwarding format and keep a valid one', function () {
    expect(() => validateAdapter({ name: 'p', capabilities: ['proxy'], forwarding: { header: 'x', format: 'json' }, start }, 'test')).to.throw(/forwarding.format "json" is unknown/);
    expect(validateAdapter({ name: 'p', capabilities: ['proxy'], forwarding: { header: 'client-cert', format: 'rfc9440' }, start }, 'test').forwarding).to.deep.equal({ header: 'client-cert', format: 'rfc9440' });
  });
});
