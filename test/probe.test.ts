// The probe's raw senders and renegotiation driver against small loopback servers.
import net from 'node:net';
import tls from 'node:tls';
import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import tmp from 'tmp-promise';
import { PkiBuilder, type BuiltPki } from '../harness/pki/pki.ts';
import { captureClientHello, holdStalled, probe, sendRaw, type Identity } from '../harness/probe/probe.ts';

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
    dir = await tmp.dir({ unsafeCleanup: true });
    const b = new PkiBuilder();
    const root = b.ca('root');
    b.leaf('server', { issuer: root, cn: 'localhost', role: 'server' });
    b.leaf('client', { issuer: root, cn: 'client' });
    pki = await b.build(dir.path);
    identity = { cert: await readFile(pki.cert('client').chain, 'utf8'), key: await readFile(pki.cert('client').key, 'utf8') };
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
    const sockets = new Set<tls.TLSSocket>();
    const server = tls.createServer({ cert: pki.cert(name).pem, key: await readFile(pki.cert(name).key) }, (socket) => {
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
