// The runner under parallelism and interruption, in-process: concurrent cases
// never share a port, a directory or a server; private keys stay 0600 inside
// 0700 directories and go with them; servers bind loopback only; an aborted
// run stops a start that never resolves and a probe in flight at once.
import { expect } from 'chai';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { CATALOGUE } from '../spec/index.ts';
import { isHarnessError } from '../harness/errors.ts';
import { runCases } from '../harness/run/runner.ts';
import invoice from '../harness/servers/invoice.ts';
import type { RunningServer, ServerAdapter, ServerSetup } from '../harness/types.ts';
import { describeChanges, type RunVerdicts } from '../scripts/flake.ts';

/** What one start saw, for the isolation and hygiene checks. */
interface StartRecord {
  dir: string;
  port: number;
  server: RunningServer;
  startedAt: number;
  stoppedAt?: number;
  /** Local addresses of the listening socket, from /proc/net/tcp{,6}. */
  listenAddresses: string[];
  /** Problems with file modes found while the case ran. */
  hygiene: string[];
}

/** Local addresses (hex, as the kernel shows them) of every listening TCP socket on `port`. */
async function listenAddresses(port: number): Promise<string[]> {
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [address, hexPort] = (local ?? '').split(':');
      if (state === '0A' && hexPort !== undefined && parseInt(hexPort, 16) === port && address !== undefined) found.push(address);
    }
  }
  return found;
}

/** Mode problems in a case directory: directories must be 0700, private keys 0600. */
async function inspectModes(caseDir: string, setup: ServerSetup): Promise<string[]> {
  const problems: string[] = [];
  const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;
  for (const dir of [caseDir, setup.dir, path.dirname(setup.tls.key)]) {
    if ((await mode(dir)) !== 0o700) problems.push(`${dir} is ${(await mode(dir)).toString(8)}, not 700`);
  }
  const entries = await readdir(caseDir, { recursive: true, withFileTypes: true });
  let keys = 0;
  for (const e of entries) {
    const file = path.join(e.parentPath, e.name);
    if (e.isDirectory() && (await mode(file)) !== 0o700) problems.push(`${file} is ${(await mode(file)).toString(8)}, not 700`);
    if (!e.isFile()) continue;
    if (!(await readFile(file, 'utf8')).includes('PRIVATE KEY')) continue;
    keys += 1;
    if ((await mode(file)) !== 0o600) problems.push(`${file} holds a private key with mode ${(await mode(file)).toString(8)}`);
  }
  if (keys === 0) problems.push(`no private key found in ${caseDir}`);
  if (!path.resolve(setup.tls.key).startsWith(caseDir + path.sep)) problems.push(`the server key ${setup.tls.key} is outside the case dir`);
  return problems;
}

/** The invoice server, recording every start for the checks. */
function recordingInvoice(records: StartRecord[]): ServerAdapter {
  return {
    ...invoice,
    name: 'recording-invoice',
    start: async (setup) => {
      const hygiene = await inspectModes(path.dirname(setup.dir), setup);
      const server = await invoice.start(setup);
      const record: StartRecord = { dir: setup.dir, port: server.port, server, startedAt: performance.now(), listenAddresses: await listenAddresses(server.port), hygiene };
      records.push(record);
      return { ...server, stop: async () => { await server.stop(); record.stoppedAt = performance.now(); } };
    },
  };
}

describe('isolation and key hygiene', function () {
  const records: StartRecord[] = [];

  before(async function () {
    this.timeout(180_000);
    const results = await runCases({ adapter: recordingInvoice(records), cases: CATALOGUE, concurrency: 8 });
    expect(results.filter((r) => r.verdict !== 'pass' && r.verdict !== 'not-applicable').map((r) => `${r.id} ${r.tls}: ${r.message}`)).to.deep.equal([]);
  });

  it('runs cases concurrently, so the checks below are not vacuous', function () {
    const overlapping = records.filter((a) => records.some((b) => a !== b && overlaps(a, b)));
    expect(records.length).to.be.above(2);
    expect(overlapping.length).to.be.above(1);
  });

  it('gives every case its own directory and its own server', function () {
    expect(new Set(records.map((r) => r.dir)).size).to.equal(records.length);
    // Only servers of one case share its directory: its TLS versions in turn, and a second server it starts itself (startPeer).
    const main = records.filter((r) => !path.basename(r.dir).startsWith('peer-'));
    const clashes = main.filter((a) => main.some((b) => a !== b && overlaps(a, b) && path.dirname(a.dir) === path.dirname(b.dir)));
    expect(clashes.map((r) => r.dir)).to.deep.equal([]);
    expect(main.every((r) => /^server(-tls1\.[23])?$/.test(path.basename(r.dir)))).to.equal(true);
    expect(new Set(records.map((r) => r.server)).size).to.equal(records.length);
  });

  it('never gives two cases that run at the same time the same port', function () {
    const clashes = records.flatMap((a, i) => records.slice(i + 1).filter((b) => overlaps(a, b) && a.port === b.port).map((b) => `${a.dir} and ${b.dir} on ${b.port}`));
    expect(clashes).to.deep.equal([]);
  });

  it('stops every server it started', function () {
    expect(records.filter((r) => r.stoppedAt === undefined).map((r) => r.dir)).to.deep.equal([]);
  });

  it('keeps private keys 0600 inside 0700 directories while a case runs, and removes them after', async function () {
    expect(records.flatMap((r) => r.hygiene)).to.deep.equal([]);
    const gone = await Promise.all(records.map((r) => stat(path.dirname(r.dir)).then(() => false, () => true)));
    expect(gone.every(Boolean), 'case directories removed').to.equal(true);
  });

  it('has the built-in server listen on 127.0.0.1 only', async function () {
    if ((await readFile('/proc/net/tcp', 'utf8').catch(() => undefined)) === undefined) this.skip();
    // 0100007F is 127.0.0.1 as /proc/net/tcp writes it.
    expect([...new Set(records.flatMap((r) => r.listenAddresses))]).to.deep.equal(['0100007F']);
  });
});

function overlaps(a: StartRecord, b: StartRecord): boolean {
  return a.startedAt < (b.stoppedAt ?? Infinity) && b.startedAt < (a.stoppedAt ?? Infinity);
}

/** An in-process server that accepts TCP and never answers; stop() drops its connections. */
async function silentServer(onConnection: () => void): Promise<{ server: Server; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => { sockets.add(socket); onConnection(); });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  const stop = (): Promise<void> => new Promise<void>((resolve) => {
    server.close(() => { resolve(); });
    for (const socket of sockets) socket.destroy();
  });
  return { server, stop };
}

describe('aborting a run', function () {
  const one = CATALOGUE.filter((c) => c.id === 'trust::valid-client');

  it('stops at once while a start never resolves', async function () {
    const controller = new AbortController();
    const adapter: ServerAdapter = { name: 'hangs', capabilities: [], start: () => { controller.abort(); return new Promise<never>(() => undefined); } };
    const began = performance.now();
    const error = await runCases({ adapter, cases: one, tls: ['1.3'], signal: controller.signal }).then(() => undefined, (e: unknown) => e);
    expect(isHarnessError(error) && error.code).to.equal('ERR_MTLS_INTERRUPTED');
    expect(performance.now() - began).to.be.below(1_500);
  });

  it('stops at once in the middle of a probe, and stops the server', async function () {
    const controller = new AbortController();
    let stopped = false;
    const adapter: ServerAdapter = {
      name: 'silent', capabilities: [],
      start: async () => {
        const { server, stop } = await silentServer(() => { controller.abort(); });
        const address = server.address();
        return {
          port: typeof address === 'object' && address ? address.port : 0,
          logs: () => Promise.resolve([]),
          stop: async () => { stopped = true; await stop(); },
        };
      },
    };
    const began = performance.now();
    const error = await runCases({ adapter, cases: one, tls: ['1.3'], signal: controller.signal }).then(() => undefined, (e: unknown) => e);
    expect(isHarnessError(error) && error.code).to.equal('ERR_MTLS_INTERRUPTED');
    expect(stopped).to.equal(true);
    // The probe's own bound is 5 s.
    expect(performance.now() - began).to.be.below(2_000);
  });

  it('gives a start that resolves to something other than a RunningServer an error verdict', async function () {
    let calls = 0;
    const adapter: ServerAdapter = {
      ...invoice, name: 'odd',
      // The second start is the first case's: the first is the suite's TLS version check.
      start: (setup) => (++calls === 2 ? Promise.resolve({ port: 'soon' } as unknown as RunningServer) : invoice.start(setup)),
    };
    const results = await runCases({ adapter, cases: one, concurrency: 1 });
    expect(results.map((r) => r.verdict)).to.deep.equal(['error', 'pass']);
    expect(results[0]?.message).to.match(/start\(\) resolved to an object with port, not a RunningServer/);
  });
});

describe('the flake report', function () {
  const run = (entries: Record<string, string>): RunVerdicts => new Map(Object.entries(entries).map(([k, verdict]) => [k, { verdict, message: `${verdict} message` }]));

  it('reports nothing when every run gave every case the same verdict', function () {
    expect(describeChanges([run({ a: 'pass', b: 'fail' }), run({ a: 'pass', b: 'fail' })])).to.deep.equal([]);
  });

  it('reports a case whose verdict changed, with the odd runs and their message', function () {
    const lines = describeChanges([run({ a: 'pass' }), run({ a: 'error' }), run({ a: 'pass' })]);
    expect(lines).to.deep.equal(['changed: a: pass ×2, error ×1 (error in runs 2) — error message']);
  });

  it('reports a case missing from some runs', function () {
    expect(describeChanges([run({ a: 'pass', b: 'pass' }), run({ a: 'pass' })])).to.deep.equal(['changed: b: pass ×1, missing ×1 (pass in runs 1) — pass message']);
  });
});
