// The probe's raw senders and renegotiation driver against small loopback servers.
import net from 'node:net';
import tls from 'node:tls';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import tmp from 'tmp-promise';
import { PkiBuilder, type BuiltPki } from '../harness/pki/pki.ts';
import { captureClientHello, holdStalled, probe, sendRaw, withinRange, type Identity } from '../harness/probe/probe.ts';
import { SecureContexts, setVersionRange, type ContextOptions } from '../harness/probe/contexts.ts';

/** Starts a loopback TCP server; returns its port and a stop function. */
async function listen(onConnection: (socket: net.Socket) => void): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    stop: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** A root, a localhost server and a client under it, built in a temp dir of its own; the client as the probe presents it. */
async function serverAndClient(): Promise<{ dir: tmp.DirectoryResult; pki: BuiltPki; identity: Identity }> {
  const dir = await tmp.dir({ unsafeCleanup: true });
  const b = new PkiBuilder();
  const root = b.ca('root');
  b.leaf('server', { issuer: root, cn: 'localhost', role: 'server' });
  b.leaf('client', { issuer: root, cn: 'client' });
  const pki = await b.build(dir.path);
  return { dir, pki, identity: { cert: await readFile(pki.cert('client').chain, 'utf8'), key: await readFile(pki.cert('client').key, 'utf8') } };
}

/** A loopback TLS server with these options that answers the first request with the canary. */
async function canaryServer(options: tls.TlsOptions): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer(options, (socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('data', () => { socket.end('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nCANARY'); });
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('raw probes', function () {
  it('records what a server sends back to raw bytes and that it closed', async function () {
    const echo = await listen((socket) => socket.once('data', (chunk: Buffer) => socket.end(Buffer.concat([Buffer.from('echo:'), chunk]))));
    try {
      const result = await sendRaw({ port: echo.port, chunks: [Buffer.from('hello')] });
      expect(result.received.toString()).to.equal('echo:hello');
      expect(result.ending).to.equal('closed');
    } finally {
      await echo.stop();
    }
  });

  it('reports a silent server as still open once the bound passes', async function () {
    const silent = await listen(() => undefined);
    try {
      const result = await sendRaw({ port: silent.port, chunks: [Buffer.from('x')], timeoutMs: 100 });
      expect(result.ending).to.equal('open');
      expect(result.ms).to.be.below(1_000);
    } finally {
      await silent.stop();
    }
  });

  it('reports a port nobody listens on as refused', async function () {
    const gone = await listen(() => undefined);
    await gone.stop();
    const result = await sendRaw({ port: gone.port, chunks: [] });
    expect(result.ending).to.equal('refused');
    expect(result.error).to.match(/ECONNREFUSED/);
  });

  it('holds stalled connections open until released', async function () {
    let seen = 0;
    const server = await listen((socket) => { seen++; socket.on('data', () => undefined); });
    try {
      const held = await holdStalled({ port: server.port, payload: Buffer.from([0x16, 0x03, 0x01]), count: 5 });
      expect(held.open()).to.equal(5);
      // The server may see the connections a moment after the clients do: poll, bounded.
      for (const deadline = Date.now() + 2_000; seen < 5 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
      expect(seen).to.equal(5);
      held.release();
      expect(held.open()).to.equal(0);
    } finally {
      await server.stop();
    }
  });

  for (const version of ['1.2', '1.3'] as const) {
    it(`captures a TLS ${version} ClientHello as one handshake record`, async function () {
      const hello = await captureClientHello(version);
      expect(hello[0]).to.equal(0x16);
      expect(hello[5]).to.equal(0x01);
      expect(hello.readUInt16BE(3) + 5).to.equal(hello.length);
    });
  }
});

describe('renegotiation probe', function () {
  let dir: tmp.DirectoryResult;
  let pki: BuiltPki;
  let identity: Identity;

  before(async function () {
    ({ dir, pki, identity } = await serverAndClient());
  });
  after(async function () {
    await dir.cleanup();
  });

  /** A TLS server answering every request with the canary; `refuse` disables renegotiation on each connection. */
  async function startServer(refuse: boolean): Promise<{ port: number; stop: () => Promise<void> }> {
    const server = tls.createServer({
      cert: await readFile(pki.cert('server').cert), key: await readFile(pki.cert('server').key), ca: pki.cert('root').pem,
      requestCert: true, rejectUnauthorized: true,
    }, (socket) => {
      if (refuse) socket.disableRenegotiation();
      socket.on('error', () => socket.destroy());
      socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nCANARY'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return {
      port: typeof address === 'object' && address ? address.port : 0,
      stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it('counts the renegotiations Node allows before it ends the connection', async function () {
    const server = await startServer(false);
    try {
      const result = await probe({ port: server.port, tls: '1.2', serverCa: pki.cert('root').pem, identity, canary: 'CANARY', renegotiate: { attempts: 6, timeoutMs: 1_000 } });
      expect(result.observations[0]?.outcome).to.equal('accepted');
      expect(result.renegotiations?.completed).to.equal(3);
      expect(result.renegotiations?.refusal).to.be.a('string');
    } finally {
      await server.stop();
    }
  });

  it('reports a refused first renegotiation', async function () {
    const server = await startServer(true);
    try {
      const result = await probe({ port: server.port, tls: '1.2', serverCa: pki.cert('root').pem, identity, canary: 'CANARY', renegotiate: { attempts: 6, timeoutMs: 1_000 } });
      expect(result.renegotiations?.completed).to.equal(0);
      expect(result.renegotiations?.attempted).to.equal(1);
    } finally {
      await server.stop();
    }
  });
});

describe('server name check', function () {
  let dir: tmp.DirectoryResult;
  let pki: BuiltPki;

  before(async function () {
    dir = await tmp.dir({ unsafeCleanup: true });
    const b = new PkiBuilder();
    const root = b.ca('root');
    b.leaf('server', { issuer: root, cn: 'localhost', role: 'server' });
    b.leaf('other', { issuer: root, cn: 'localhost', role: 'server', san: ['DNS:other.example'] });
    b.leaf('wild', { issuer: root, cn: 'wild', role: 'server', san: ['DNS:*.example.com', 'IP:::1'] });
    b.leaf('cn-only', { issuer: root, cn: 'localhost', role: 'server', san: null });
    pki = await b.build(dir.path);
  });
  after(async function () {
    await dir.cleanup();
  });

  /** A TLS server presenting `name`'s certificate that answers the first request with the canary. */
  async function serving(name: string): Promise<{ port: number; close: () => Promise<void> }> {
    return canaryServer({ cert: pki.cert(name).pem, key: await readFile(pki.cert(name).key) });
  }

  it('makes a server certificate for another name a probe error, before any request', async function () {
    const server = await serving('other');
    try {
      const wrong = await probe({ port: server.port, tls: '1.3', serverCa: pki.cert('root').pem, canary: 'CANARY', timeoutMs: 5_000 });
      expect(wrong.observations[0]?.outcome).to.equal('error');
      expect(wrong.observations[0]?.error).to.match(/ERR_TLS_CERT_ALTNAME_INVALID|altnames/);
      const named = await probe({ port: server.port, tls: '1.3', serverCa: pki.cert('root').pem, canary: 'CANARY', servername: 'other.example', timeoutMs: 5_000 });
      expect(named.observations[0]?.outcome).to.equal('accepted');
    } finally {
      await server.close();
    }
  });

  it('matches names as tls.checkServerIdentity does: wildcards one label deep, IP SANs, the CN only without SANs', async function () {
    const cases: [server: string, name: string | false, served: boolean][] = [
      ['server', 'localhost', true], ['server', 'LOCALHOST', true], ['server', false, true], ['server', 'other.example', false],
      ['wild', 'a.example.com', true], ['wild', 'a.b.example.com', false], ['wild', 'example.com', false], ['wild', false, false], ['wild', 'wild', false],
      ['cn-only', 'localhost', true], ['cn-only', 'other.example', false],
    ];
    for (const [name, servername, served] of cases) {
      const server = await serving(name);
      try {
        const result = await probe({ port: server.port, tls: '1.3', serverCa: pki.cert('root').pem, canary: 'CANARY', servername, timeoutMs: 5_000 });
        const seen = result.observations[0];
        expect(seen?.outcome, `${name} as ${servername === false ? '127.0.0.1 (no SNI)' : servername}: ${seen?.error ?? 'served'}`).to.equal(served ? 'accepted' : 'error');
        if (!served) expect(seen?.error).to.match(/ERR_TLS_CERT_ALTNAME_INVALID|altnames/);
      } finally {
        await server.close();
      }
    }
  });
});

describe('client contexts across versions', function () {
  let dir: tmp.DirectoryResult;
  let pki: BuiltPki;
  let identity: Identity;
  let server: { port: number; close: () => Promise<void> };

  before(async function () {
    ({ dir, pki, identity } = await serverAndClient());
    // Speaks TLS 1.0 to 1.3 and serves only a client with a certificate of the root: a served probe presented its identity.
    server = await canaryServer({
      cert: pki.cert('server').pem, key: await readFile(pki.cert('server').key), ca: pki.cert('root').pem,
      requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ciphers: 'DEFAULT:@SECLEVEL=0',
    });
  });
  after(async function () {
    await server.close();
    await dir.cleanup();
  });

  const versions = ['1.2', '1.3', 'legacy', '1.2', '1.3'] as const;
  const expected = { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3', legacy: 'TLSv1.1' } as const;

  it('serves every version of a case from one context, each connection at its own version', async function () {
    const contexts = new SecureContexts();
    for (const version of versions) {
      const seen = (await probe({ port: server.port, tls: version, serverCa: pki.cert('root').pem, canary: 'CANARY', identity, contexts, timeoutMs: 5_000 })).observations[0];
      expect(seen?.outcome, `TLS ${version}: ${seen?.error ?? ''}`).to.equal('accepted');
      expect(seen?.protocol).to.equal(expected[version]);
    }
    // Connections made while others are still in their handshakes keep the range they were made with.
    const together = await Promise.all([...versions, ...versions].map((version) =>
      probe({ port: server.port, tls: version, serverCa: pki.cert('root').pem, canary: 'CANARY', identity, contexts, timeoutMs: 5_000 })));
    expect(together.map((r) => r.observations[0]?.protocol)).to.deep.equal([...versions, ...versions].map((v) => expected[v]));
    expect(contexts.created).to.equal(1);
    expect(contexts.reused).to.equal(versions.length * 3 - 1);
  });

  it('makes a context per version range where a range does not take', function () {
    const contexts = new SecureContexts();
    const options = (version: '1.2' | '1.3'): ContextOptions => ({ ca: pki.cert('root').pem, ...identity, ciphers: 'DEFAULT', minVersion: `TLSv${version}`, maxVersion: `TLSv${version}` });
    const first = contexts.get(options('1.2'));
    // A Node.js whose native context reports another range than it was given.
    Object.defineProperty(first.context as object, 'getMinProto', { value: () => 0 });
    expect(setVersionRange(first, 'TLSv1.3', 'TLSv1.3')).to.equal(false);
    const second = contexts.get(options('1.3'));
    expect(second).to.not.equal(first);
    expect(contexts.get(options('1.3'))).to.equal(second);
    expect(contexts.created).to.equal(2);
    expect(setVersionRange({} as tls.SecureContext, 'TLSv1.2', 'TLSv1.2')).to.equal(false);
  });

  it('makes a connection outside the range the probe offered a probe error', async function () {
    // Contexts that hand out TLS 1.3 whatever was asked: the server would be judged under the wrong version.
    class Skewed extends SecureContexts {
      override get(options: ContextOptions): tls.SecureContext {
        return super.get({ ...options, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
      }
    }
    const skewed = (await probe({ port: server.port, tls: '1.2', serverCa: pki.cert('root').pem, canary: 'CANARY', identity, contexts: new Skewed(), timeoutMs: 5_000 })).observations[0];
    expect(skewed?.outcome).to.equal('error');
    expect(skewed?.error).to.equal('the probe negotiated TLSv1.3 though it offered only TLSv1.2–TLSv1.2');
    const pinned = (await probe({ port: server.port, tls: '1.2', serverCa: pki.cert('root').pem, canary: 'CANARY', identity, contexts: new SecureContexts(), timeoutMs: 5_000 })).observations[0];
    expect(pinned?.outcome).to.equal('accepted');
  });

  it('places a negotiated protocol within or outside a range', function () {
    expect(withinRange('TLSv1.2', 'TLSv1.2', 'TLSv1.2')).to.equal(true);
    expect(withinRange('TLSv1.1', 'TLSv1', 'TLSv1.1')).to.equal(true);
    expect(withinRange('TLSv1.3', 'TLSv1', 'TLSv1.2')).to.equal(false);
    expect(withinRange('TLSv1', 'TLSv1.2', 'TLSv1.3')).to.equal(false);
    expect(withinRange(undefined, 'TLSv1', 'TLSv1.3')).to.equal(false);
    expect(withinRange('SSLv3', 'TLSv1', 'TLSv1.3')).to.equal(false);
  });
});
