// robustness: bad input and load, bounded in count and time, loopback only.
import { randomBytes } from 'node:crypto';
import { captureClientHello, defineCase, describeObservation, holdStalled, runBounded, sendRaw, type CaseContext, type Observation, type ServerSample, describeCases, type CaseDefinition } from '../harness/index.ts';

/** Probes a valid client and records whether the server still serves it; a dead server fails the case, it does not error it. */
async function expectAlive(t: CaseContext, client: string, after: string): Promise<boolean> {
  const obs = await t.probe(client);
  const ok = obs.outcome === 'accepted';
  t.check({ label: `valid client '${client}' after ${after}`, expected: 'alive', ok, observed: ok ? describeObservation(obs) : `not served: ${describeObservation(obs)}`, observation: obs });
  return ok;
}

const MIB = 1024 * 1024;

/**
 * Thirteen private extensions of 16 KiB each (about 208 KiB), signed by the trusted root: only the size is wrong.
 * The filler doubles through openssl config variables (a section reopened around them), so the config and the
 * report stay small; one value may expand to at most 64 KiB of text, hence several extensions.
 */
const OVERSIZED_EXTENSIONS = [
  '[filler]',
  `h0 = ${'ab'.repeat(32)}`,
  ...Array.from({ length: 9 }, (_, i) => `h${i + 1} = $h${i}$h${i}`),
  '[ext]',
  ...Array.from({ length: 13 }, (_, i) => `1.3.6.1.4.1.55555.${i + 1} = ASN1:FORMAT:HEX,OCTETSTRING:\${filler::h9}`),
];

const cases: CaseDefinition[] = [
  defineCase({
    id: 'robustness::plaintext-http',
    title: 'answers plain HTTP on the TLS port without the invoice and keeps serving',
    family: 'robustness', severity: 'high',
    tls: 'once',
    expected: 'reject',
    why: 'Plain HTTP reaches TLS ports all the time (mistyped URLs, health checkers, scanners). A server that crashes on it is down for a curl; one that serves it hands the invoice over without TLS or a certificate.',
    references: [{ title: 'RFC 8446 §5.1 Record Layer (unexpected records)', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-5.1' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    run: async (t) => {
      const raw = await sendRaw({ port: t.server.port, chunks: [Buffer.from(`GET ${t.setup.paths.protected} HTTP/1.1\r\nHost: localhost:${t.server.port}\r\nConnection: close\r\n\r\n`)] });
      const leaked = raw.received.toString('latin1').includes(t.setup.canary);
      const first = raw.received.toString('latin1').split('\r\n')[0] ?? '';
      t.check({
        label: 'plain HTTP GET to the TLS port', expected: 'reject', ok: !leaked,
        observed: `${leaked ? 'the invoice came back over plain HTTP' : 'no invoice'}; ${raw.received.length} bytes back${first.startsWith('HTTP/') ? ` (${first})` : ''}, connection ${raw.ending}`,
      });
      await expectAlive(t, 'client', 'plain HTTP');
    },
  }),
  defineCase({
    id: 'robustness::garbage-handshake',
    title: 'keeps serving valid clients after random bytes, truncated ClientHellos and resets mid-handshake',
    family: 'robustness', severity: 'high',
    slow: true,
    expected: 'accept',
    why: 'Anything on the network can send anything. Parsing bugs in the handshake path take down every client of the server (or worse); a server must drop the bad connection and carry on.',
    references: [{ title: 'RFC 8446 §6.2 Error Alerts', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-6.2' }],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    run: async (t) => {
      const hello = await captureClientHello(t.tls);
      const port = t.server.port;
      const inputs = [
        { what: '1 KiB of random bytes', raw: { port, chunks: [Buffer.concat([Buffer.from([0x47]), randomBytes(1023)])] } },
        { what: 'a TLS record header claiming 64 KiB', raw: { port, chunks: [Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00])], timeoutMs: 300 } },
        { what: 'half a ClientHello, then FIN', raw: { port, chunks: [hello.subarray(0, Math.floor(hello.length / 2))], timeoutMs: 300 } },
        { what: 'a ClientHello with its body corrupted', raw: { port, chunks: [Buffer.concat([hello.subarray(0, 9), randomBytes(hello.length - 9)])] } },
        { what: 'a ClientHello, then a reset once the server answers', raw: { port, chunks: [hello], resetAfterReply: true } },
      ];
      for (const input of inputs) {
        await sendRaw(input.raw);
        if (!await expectAlive(t, 'client', input.what)) return;
      }
    },
  }),
  defineCase({
    id: 'robustness::oversized-certificate',
    title: 'refuses a 200 KB client certificate and keeps serving',
    family: 'robustness', severity: 'medium',
    expected: 'reject', preferredAlert: 'illegal_parameter',
    why: 'A certificate message is attacker-sized. Buffering and parsing hundreds of kilobytes per handshake is a cheap memory and CPU lever; OpenSSL caps it at 100 KiB by default, other stacks differ.',
    references: [
      { title: 'RFC 8446 §4.4.2 Certificate (up to 2^24-1 bytes)', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2' },
      { title: 'OpenSSL SSL_CTX_set_max_cert_list (100 KiB default)', url: 'https://docs.openssl.org/3.0/man3/SSL_CTX_set_max_cert_list/' },
    ],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server', extraExtensions: OVERSIZED_EXTENSIONS });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
    },
    run: async (t) => {
      t.expectRefused(await t.probe('client'), `client 'client' with a ${Math.round(t.pki.cert('client').x509.raw.length / 1024)} KiB certificate`);
      await expectAlive(t, 'colleague', 'the oversized certificate');
    },
  }),
  defineCase({
    id: 'robustness::stalled-handshake',
    title: 'serves valid clients while 16 stalled handshakes are held open',
    family: 'robustness', severity: 'high',
    expected: 'accept',
    why: 'A slowloris client opens connections, sends part of a handshake and waits. With a connection cap and Node\'s 120 s handshake timeout, a few dozen such sockets lock every valid client out.',
    references: [
      { title: 'CVE-2007-6750 (slowloris)', url: 'https://nvd.nist.gov/vuln/detail/CVE-2007-6750' },
      { title: 'Node.js tls.createServer handshakeTimeout', url: 'https://nodejs.org/api/tls.html#tlscreateserveroptions-secureconnectionlistener' },
    ],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    run: async (t) => {
      const hello = await captureClientHello(t.tls);
      const [whole, half] = await Promise.all([
        holdStalled({ port: t.server.port, payload: hello, count: 8 }),
        holdStalled({ port: t.server.port, payload: hello.subarray(0, 40), count: 8 }),
      ]);
      try {
        const held = whole.open() + half.open();
        t.note('stalled handshakes held open', `${held} of 16 connections open, silent after a ClientHello or part of one`);
        for (let i = 1; i <= 3; i++) {
          if (!await expectAlive(t, 'client', `${held} stalled handshakes (probe ${i} of 3)`)) return;
        }
      } finally {
        whole.release();
        half.release();
      }
    },
  }),
  defineCase({
    id: 'robustness::bad-cert-burst',
    title: 'serves every valid client through a burst of 300 wrong-CA handshakes, with stable descriptors and memory',
    family: 'robustness', severity: 'high',
    slow: true,
    tls: 'once',
    expected: 'accept',
    policy: 'Descriptors and memory are sampled in the process that serves: a child server\'s own process tree (the adapter reports its pid), or the suite\'s process where an in-process server runs (its JavaScript heap, steadier there than RSS). An adapter that reports no pid leaves only the suite\'s own process to see: the report says so and judges the clients alone.',
    why: 'Refusals must cost the server nothing that outlives the connection. State kept per refused handshake (a descriptor, a log buffer, a cache entry) turns a stream of bad certificates into exhaustion for everyone.',
    references: [
      { title: 'CWE-400 Uncontrolled Resource Consumption', url: 'https://cwe.mitre.org/data/definitions/400.html' },
      { title: 'CWE-775 Missing Release of File Descriptor after Effective Lifetime', url: 'https://cwe.mitre.org/data/definitions/775.html' },
    ],
    pki: (b, { root }) => {
      const other = b.ca('other-ca', { cn: 'Globex Root CA' });
      b.leaf('intruder', { issuer: other, cn: 'mail-server' });
      b.leaf('client', { issuer: root, cn: 'mail-server' });
    },
    timeoutMs: 60_000,
    run: async (t) => {
      const bad = 300;
      const every = 10;
      // Warm the server and the suite up, so the baseline sample is not taken cold.
      for (const client of ['client', 'intruder']) await t.probe(client);
      const before = await t.sampleResources();
      const started = performance.now();
      const tasks: (() => Promise<{ valid: boolean; obs: Observation }>)[] = [];
      for (let i = 0; i < bad; i++) {
        // The wrong-CA refusal itself is judged by trust::wrong-ca; here it only has to be no service, so no hold test per handshake.
        tasks.push(async () => ({ valid: false, obs: await t.probe('intruder', undefined, { disambiguate: false }) }));
        if (i % every === 0) tasks.push(async () => ({ valid: true, obs: await t.probe('client') }));
      }
      const results = await runBounded(tasks, 8);
      const ms = Math.round(performance.now() - started);
      const valid = results.filter((r) => r.valid);
      const invalid = results.filter((r) => !r.valid);
      const unserved = valid.find((r) => r.obs.outcome !== 'accepted');
      const admitted = invalid.find((r) => r.obs.outcome === 'accepted' || r.obs.canarySeen || r.obs.outcome === 'error');
      const served = valid.filter((r) => r.obs.outcome === 'accepted').length;
      const deciding = unserved ?? valid[0];
      const refusedCount = invalid.filter((r) => r.obs.outcome === 'rejected-handshake' || r.obs.outcome === 'rejected-http').length;
      t.check({ label: `${valid.length} valid clients interleaved with ${bad} wrong-CA clients (8 at a time)`, expected: 'accept', ok: unserved === undefined,
        observed: `${served} of ${valid.length} served in ${ms} ms${unserved ? `; one: ${describeObservation(unserved.obs)}` : ''}`, ...(deciding ? { observation: deciding.obs } : {}) });
      t.check({ label: `${bad} wrong-CA clients`, expected: 'reject', ok: admitted === undefined,
        observed: `${refusedCount} of ${invalid.length} refused${admitted ? `; one: ${describeObservation(admitted.obs)}` : ''}` });
      if (!before.ofServer) {
        t.note('descriptors and memory of the server', `not judged: ${before.source}`);
        return;
      }
      t.note('resources sampled', before.source);
      // An in-process server is judged on the suite's heap (steadier than its RSS); a child server on its resident memory.
      const memory = (s: ServerSample): number => s.heapUsedBytes ?? s.rssBytes;
      const what = before.heapUsedBytes !== undefined ? 'heap' : 'resident memory';
      const fdLimit = 100;
      const memoryLimit = 64 * MIB;
      // Connections are released asynchronously (and in-process, other cases run beside this one): poll, within a bound, for the counts to settle.
      const deadline = Date.now() + 3_000;
      let after = await t.sampleResources();
      while (Date.now() < deadline && (after.fds - before.fds > fdLimit || memory(after) - memory(before) > memoryLimit)) {
        await new Promise((r) => setTimeout(r, 100));
        after = await t.sampleResources();
      }
      if (before.fds >= 0 && after.fds >= 0) {
        t.check({ label: `open descriptors grow by at most ${fdLimit}`, expected: 'alive', ok: after.fds - before.fds <= fdLimit,
          observed: `${before.fds} before, ${after.fds} after the burst` });
      }
      t.check({ label: `${what} grows by at most ${memoryLimit / MIB} MiB`, expected: 'alive', ok: memory(after) - memory(before) <= memoryLimit,
        observed: `${what} ${(memory(before) / MIB).toFixed(1)} MiB before, ${(memory(after) / MIB).toFixed(1)} MiB after; RSS ${(before.rssBytes / MIB).toFixed(1)} → ${(after.rssBytes / MIB).toFixed(1)} MiB` });
    },
  }),
  defineCase({
    id: 'robustness::large-crl',
    title: 'honours a CRL with 100,000 entries at a sane handshake latency',
    family: 'robustness', severity: 'medium',
    slow: true,
    tls: 'once',
    expected: 'reject', preferredAlert: 'certificate_revoked',
    requires: ['crl'],
    why: 'Real CAs publish CRLs with hundreds of thousands of entries. A server that chokes on loading one, skips it past some size, or searches it linearly per handshake either stops revoking or stops serving.',
    references: [
      { title: 'RFC 5280 §5 CRL Profile', url: 'https://www.rfc-editor.org/rfc/rfc5280#section-5' },
      { title: 'CWE-400 Uncontrolled Resource Consumption', url: 'https://cwe.mitre.org/data/definitions/400.html' },
    ],
    pki: (b, { root }) => {
      const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('colleague', { issuer: root, cn: 'billing-server' });
      b.crl('root-crl', root, { revoked: [client], extraEntries: 100_000 });
    },
    setup: { crl: ['root-crl'] },
    timeoutMs: 60_000,
    run: async (t) => {
      t.expectRefused(await t.probe('client'), "revoked client 'client' among 100,001 CRL entries");
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const obs = await t.probe('colleague');
        t.expectServed(obs, `unrevoked client 'colleague' (probe ${i + 1} of 3)`);
        times.push(obs.ms);
      }
      const worst = Math.max(...times);
      t.check({ label: 'an unrevoked client is served within 1000 ms', expected: 'accept', ok: worst <= 1_000, observed: `handshake and response in ${times.join(', ')} ms` });
    },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('robustness', cases, import.meta.url);
