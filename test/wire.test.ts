// The wire-level TLS client, proven before any case relies on it: its key
// schedule against RFC 8448 and the TLS 1.2 PRF vector, its message codecs, and
// complete mutual-TLS handshakes plus an HTTP request against openssl s_server,
// the invoice server, nginx and Apache under TLS 1.2 and 1.3.
import { expect } from 'chai';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tmp from 'tmp-promise';
import { startOpensslServer } from '../harness/pki/openssl.ts';
import { PkiBuilder, type BuiltPki } from '../harness/pki/pki.ts';
import { BUILT_INS } from '../harness/servers/index.ts';
import type { RunningServer, ServerSetup, TlsVersion } from '../harness/types.ts';
import { DecodeError } from '../harness/probe/wire/bytes.ts';
import { wireConnect, type WireOptions, type WireResult } from '../harness/probe/wire/client.ts';
import { finishedMac, prf12, tls13ApplicationSecrets, tls13HandshakeSecrets, trafficKeys, masterSecret12 } from '../harness/probe/wire/key-schedule.ts';
import {
  decodeCertificate, decodeCertificateRequest, decodeClientHello, encodeCertificate, encodeCertificateRequest, encodeClientHello, encodeMalformedCertificate,
} from '../harness/probe/wire/messages.ts';
import { Tls13Cipher } from '../harness/probe/wire/record.ts';
import { wireObservation } from '../harness/probe/wire/observe.ts';
import { describeName, subjectDer } from '../harness/probe/wire/x509.ts';
import { startWireServer } from './fixtures/wire-server.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('wire-level TLS: key schedule', function () {
  // RFC 8448 §3, simple 1-RTT handshake (TLS_AES_128_GCM_SHA256, X25519).
  const shared = hex('8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d');
  const helloHash = hex('860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8');
  const finishedHash = hex('9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13');

  it('derives the RFC 8448 handshake, master and application secrets', function () {
    const s = tls13HandshakeSecrets('sha256', shared, helloHash);
    expect(s.handshake.toString('hex')).to.equal('1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac');
    expect(s.clientHandshake.toString('hex')).to.equal('b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21');
    expect(s.serverHandshake.toString('hex')).to.equal('b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38');
    expect(s.master.toString('hex')).to.equal('18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919');
    const app = tls13ApplicationSecrets('sha256', s.master, finishedHash);
    expect(app.client.toString('hex')).to.equal('9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5');
    expect(app.server.toString('hex')).to.equal('a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643');
  });

  it('derives the RFC 8448 traffic keys and IVs', function () {
    const s = tls13HandshakeSecrets('sha256', shared, helloHash);
    const server = trafficKeys('sha256', s.serverHandshake, 16);
    const client = trafficKeys('sha256', s.clientHandshake, 16);
    expect([server.key, server.iv, client.key, client.iv].map((b) => b.toString('hex')))
      .to.deep.equal(['3fce516009c21727d0f2e4e86ee403bc', '5d313eb2671276ee13000b30', 'dbfaa693d1762c5b666af5d950258d01', '5bd3c71b836e0b76bb73265f']);
  });

  it("reproduces the RFC 8448 client Finished and its protected record byte for byte", function () {
    const s = tls13HandshakeSecrets('sha256', shared, helloHash);
    const verifyData = finishedMac('sha256', s.clientHandshake, finishedHash);
    expect(verifyData.toString('hex')).to.equal('a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61');
    const { key, iv } = trafficKeys('sha256', s.clientHandshake, 16);
    const record = new Tls13Cipher('aes-128-gcm', key, iv).seal(22, Buffer.concat([hex('14000020'), verifyData]));
    expect(record.toString('hex')).to.equal('170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1caeacab6867d726c40546');
    // And it opens again, content type restored.
    const opened = new Tls13Cipher('aes-128-gcm', key, iv).open({ type: 23, version: 0x0303, fragment: record.subarray(5) });
    expect(opened.type).to.equal(22);
  });

  it('computes the published TLS 1.2 P_SHA256 PRF vector and the extended master secret label', function () {
    const out = prf12('sha256', hex('9bbe436ba940f017b17652849a71db35'), 'test label', hex('a0ba9f936cda311827a6f796ffd5198c'), 100);
    expect(out.toString('hex')).to.equal('e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66');
    const pms = Buffer.alloc(32, 7);
    const ems = masterSecret12('sha256', pms, { sessionHash: Buffer.alloc(32, 1) });
    expect(ems).to.deep.equal(prf12('sha256', pms, 'extended master secret', Buffer.alloc(32, 1), 48));
    expect(ems).not.to.deep.equal(masterSecret12('sha256', pms, { clientRandom: Buffer.alloc(32, 1), serverRandom: Buffer.alloc(0) }));
  });
});

describe('wire-level TLS: messages', function () {
  const der = [Buffer.from('3003020101', 'hex'), Buffer.from('3003020102', 'hex')];

  it('round-trips Certificate messages of both versions and refuses bad lengths with a DecodeError', function () {
    for (const tls of ['1.2', '1.3'] as const) {
      const context = tls === '1.3' ? Buffer.from([9, 9]) : undefined;
      const encoded = encodeCertificate({ ...(context ? { context } : {}), certificates: der }, tls);
      expect(decodeCertificate(encoded, tls).certificates).to.deep.equal(der);
      expect(() => decodeCertificate(encodeMalformedCertificate(der, tls, context), tls)).to.throw(DecodeError, /needs \d+ bytes/);
      expect(() => decodeCertificate(encoded.subarray(0, encoded.length - 1), tls)).to.throw(DecodeError);
    }
    expect(decodeCertificate(encodeCertificate({ certificates: [] }, '1.3'), '1.3').certificates).to.deep.equal([]);
  });

  it('round-trips CertificateRequests with their CA names and schemes', function () {
    const names = [Buffer.from('30173115301306035504030c0c41636d6520526f6f74204341', 'hex')];
    for (const tls of ['1.2', '1.3'] as const) {
      const decoded = decodeCertificateRequest(encodeCertificateRequest({ context: Buffer.alloc(0), signatureAlgorithms: [0x0403, 0x0804], certificateAuthorities: names }, tls), tls);
      expect(decoded.signatureAlgorithms).to.deep.equal([0x0403, 0x0804]);
      expect(decoded.certificateAuthorities).to.deep.equal(names);
    }
    expect(describeName(names[0] ?? Buffer.alloc(0))).to.equal('CN=Acme Root CA');
    // TLS 1.3 requires signature_algorithms in a CertificateRequest.
    expect(() => decodeCertificateRequest(Buffer.from('000000', 'hex'), '1.3')).to.throw(DecodeError, /signature_algorithms/);
  });

  it('round-trips a ClientHello and refuses a duplicated extension', function () {
    const hello = { random: Buffer.alloc(32, 1), sessionId: Buffer.alloc(0), suites: [0x1301], extensions: [{ type: 43, data: Buffer.from([2, 3, 4]) }] };
    const decoded = decodeClientHello(encodeClientHello(hello));
    expect(decoded.suites).to.deep.equal([0x1301]);
    expect(decoded.extensions.get(43)).to.deep.equal(Buffer.from([2, 3, 4]));
    expect(() => decodeClientHello(encodeClientHello({ ...hello, extensions: [hello.extensions[0]!, hello.extensions[0]!] }))).to.throw(DecodeError, /twice/);
  });
});

/** The PKI of the real-server tests: an EC P-256 client (the suite's default) and an RSA one. */
async function buildPki(dir: string): Promise<BuiltPki> {
  const b = new PkiBuilder();
  const root = b.ca('root', { cn: 'Acme Root CA' });
  b.leaf('server', { issuer: root, cn: 'localhost', role: 'server' });
  b.leaf('client', { issuer: root, cn: 'mail-server' });
  b.leaf('rsa-client', { issuer: root, cn: 'rsa-client', key: 'rsa-2048' });
  b.leaf('attacker', { issuer: root, cn: 'attacker' });
  return b.build(dir);
}

async function identity(pki: BuiltPki, name: string): Promise<{ cert: string; key: string }> {
  return { cert: await readFile(pki.cert(name).chain, 'utf8'), key: await readFile(pki.cert(name).key, 'utf8') };
}

/** A server under test: a port, the path that carries the canary, and a stop function. */
interface Target {
  port: number;
  path: string;
  canary: string;
  stop(): Promise<void>;
}

type Starter = (pki: BuiltPki, dir: string, tls: TlsVersion) => Promise<Target>;

async function startAdapter(start: (setup: ServerSetup) => Promise<RunningServer>, pki: BuiltPki, dir: string): Promise<Target> {
  const serverDir = path.join(dir, `server-${Math.random().toString(36).slice(2)}`);
  await mkdir(serverDir, { mode: 0o700 });
  const canary = `canary-${Math.random().toString(36).slice(2)}`;
  const running = await start({
    dir: serverDir, host: '127.0.0.1', port: 0, canary, clientAuth: 'required', paths: { protected: '/' },
    tls: { cert: pki.cert('server').cert, key: pki.cert('server').key, clientCa: pki.cert('root').cert },
  });
  return { port: running.port, path: '/', canary, stop: () => running.stop() };
}

const SERVERS: Record<string, Starter> = {
  'openssl s_server': async (pki, dir, tls) => {
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    await writeFile(path.join(dir, 'invoice.json'), JSON.stringify({ canary }));
    const server = await startOpensslServer(dir, ['-cert', pki.cert('server').cert, '-key', pki.cert('server').key, '-CAfile', pki.cert('root').cert,
      '-Verify', '1', '-verify_return_error', tls === '1.3' ? '-tls1_3' : '-tls1_2']);
    return { port: server.port, path: '/invoice.json', canary, stop: () => server.stop() };
  },
  invoice: async (pki, dir) => startAdapter(async (s) => (await BUILT_INS.invoice?.())?.start(s) ?? Promise.reject(new Error('no invoice')), pki, dir),
  nginx: async (pki, dir) => startAdapter(async (s) => (await BUILT_INS.nginx?.())?.start(s) ?? Promise.reject(new Error('no nginx')), pki, dir),
  apache: async (pki, dir) => startAdapter(async (s) => (await BUILT_INS.apache?.())?.start(s) ?? Promise.reject(new Error('no apache')), pki, dir),
  'wire server (fixture)': async (pki, dir) => startAdapter((s) => startWireServer(s), pki, dir),
};

function summary(r: WireResult): string {
  return `${r.error ?? r.alert?.name ?? r.ending ?? ''} ${r.trace.join(', ')}`;
}

describe('wire-level TLS against real servers', function () {
  this.timeout(120_000);
  let dir: tmp.DirectoryResult;
  let pki: BuiltPki;
  before(async function () {
    dir = await tmp.dir({ prefix: 'mtls-wire-', unsafeCleanup: true });
    pki = await buildPki(dir.path);
  });
  after(async function () { await dir.cleanup(); });

  for (const [name, start] of Object.entries(SERVERS)) {
    for (const tls of ['1.2', '1.3'] as const) {
      it(`completes mutual TLS ${tls} with EC and RSA client keys and gets the resource from ${name}`, async function () {
        const target = await start(pki, dir.path, tls);
        try {
          const base: Omit<WireOptions, 'identity'> = { port: target.port, tls, serverCa: pki.cert('root').pem, canary: target.canary, request: { path: target.path } };
          for (const client of ['client', 'rsa-client']) {
            const r = await wireConnect({ ...base, identity: await identity(pki, client) });
            expect(wireObservation(r).outcome, `${client}: ${summary(r)}`).to.equal('accepted');
            expect(r.handshakeCompleted).to.equal(true);
            expect(r.certificateRequests[0]?.certificateAuthorities, summary(r)).to.deep.equal(['CN=Acme Root CA']);
            expect(r.signatureScheme).to.equal(client === 'client' ? 'ecdsa_secp256r1_sha256' : 'rsa_pss_rsae_sha256');
            if (tls === '1.2') expect(r.extendedMasterSecret).to.equal(true);
          }
          // P-256 key exchange as well as X25519.
          const p256 = await wireConnect({ ...base, identity: await identity(pki, 'client'), groups: ['secp256r1'] });
          expect(wireObservation(p256).outcome, summary(p256)).to.equal('accepted');
          expect(p256.group).to.equal('secp256r1');
          // A deviation is refused, and the refusal is the server's alert (or its HTTP answer), never a local error.
          const forged = await wireConnect({ ...base, identity: await identity(pki, 'client'), deviation: 'wrong-key', otherKey: await readFile(pki.cert('attacker').key, 'utf8') });
          expect(forged.deviation.applied).to.equal(true);
          expect(wireObservation(forged).outcome, summary(forged)).to.be.oneOf(['rejected-handshake', 'rejected-http']);
          expect(forged.error, summary(forged)).to.equal(undefined);
        } finally {
          await target.stop();
        }
      });
    }
  }

  it('reports a server it cannot verify as a local error, not as an alert', async function () {
    const target = await SERVERS.invoice?.(pki, dir.path, '1.3');
    if (!target) throw new Error('no invoice');
    try {
      const other = new PkiBuilder();
      other.ca('root', { cn: 'Globex Root CA' });
      const otherDir = path.join(dir.path, 'other');
      await mkdir(otherDir);
      const otherPki = await other.build(otherDir);
      const r = await wireConnect({ port: target.port, tls: '1.3', serverCa: otherPki.cert('root').pem, canary: target.canary, identity: await identity(pki, 'client') });
      expect(r.alert).to.equal(undefined);
      expect(r.error).to.match(/server certificate does not verify/);
      expect(wireObservation(r).outcome).to.equal('error');
    } finally {
      await target.stop();
    }
  });

  it('bounds every wait: a silent server is a timeout within the bound', async function () {
    const net = await import('node:net');
    const silent = net.createServer((socket) => { socket.on('error', () => undefined); });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const address = silent.address();
      const started = performance.now();
      const r = await wireConnect({ port: typeof address === 'object' && address ? address.port : 0, tls: '1.3', serverCa: pki.cert('root').pem, canary: 'x', timeoutMs: 300 });
      expect(performance.now() - started).to.be.below(2_000);
      expect(r.error).to.match(/timeout/);
      expect(r.ending).to.equal('timeout');
    } finally {
      silent.close();
    }
  });

  it('takes the DER subject of a CA certificate as certificate_authorities lists it', function () {
    expect(describeName(subjectDer(pki.cert('root').x509.raw))).to.equal('CN=Acme Root CA');
  });
});
