// Loading `--server`: a module adapter at any path (here a temp dir outside the
// repository, with no node_modules beside it) runs; every bad input ends the
// run with exit 2, one line and no temp dir or process left behind.
import { expect } from 'chai';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tmp from 'tmp-promise';
import { runCli } from './adapters-helpers.ts';

/** A plain-JavaScript adapter: node:https with the suite's TLS material, nothing imported from the suite. */
const GOOD_MJS = `
import https from 'node:https';
import { readFileSync } from 'node:fs';
export default {
  name: 'outside-mjs',
  capabilities: ['crl', 'log-identity'],
  async start(setup) {
    const lines = [];
    const server = https.createServer({
      cert: readFileSync(setup.tls.cert), key: readFileSync(setup.tls.key), ca: readFileSync(setup.tls.clientCa),
      ...(setup.tls.crl ? { crl: readFileSync(setup.tls.crl) } : {}), requestCert: true, rejectUnauthorized: true,
    }, (req, res) => {
      lines.push('served CN=' + JSON.stringify(req.socket.getPeerCertificate().subject.CN));
      res.end(setup.canary);
    });
    await new Promise((resolve) => server.listen(0, setup.host, resolve));
    return { port: server.address().port, logs: async () => [...lines], stop: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) };
  },
};
`;

const BAD: { title: string; file: string; source?: string; message: RegExp }[] = [
  { title: 'a file that does not exist', file: 'missing.ts', message: /adapter module .*missing\.ts not found; check the path given to --server/ },
  { title: 'a module without a default export', file: 'no-default.ts', source: 'export const adapter = {};\n', message: /has no default export; export the adapter/ },
  { title: 'an adapter without a start function', file: 'no-start.mjs', source: "export default { name: 'x', capabilities: [] };\n", message: /has no start function; add start\(setup\)/ },
  { title: 'an adapter with a bad name', file: 'bad-name.js', source: "export default { name: 'My Server', capabilities: [], start() {} };\n", message: /name "My Server" is not a string of \[a-z0-9-\]\+/ },
  { title: 'an adapter with an unknown capability', file: 'bad-capability.ts', source: "import type { ServerAdapter } from 'mtls-conformance';\nexport default { name: 'x', capabilities: ['crl', 'stapling'], start() { throw new Error('unused'); } } as unknown as ServerAdapter;\n", message: /unknown capability "stapling"; use only crl, crl-reload, path-authz, allowlist, log-identity, proxy, vhosts, optional-auth, ocsp, spiffe/ },
  { title: 'an adapter whose start() resolves to nothing', file: 'starts-nothing.ts', source: "export default { name: 'x', capabilities: [], async start() { return undefined; } };\n", message: /start\(\) returned undefined without a port number, logs\(\), stop\(\)/ },
  { title: 'a module that throws while loading', file: 'throws.mjs', source: "throw new Error('boom at import');\n", message: /failed to load: boom at import/ },
];


describe('adapter loading (--server)', function () {
  let dir: tmp.DirectoryResult;
  before(async function () {
    dir = await tmp.dir({ prefix: 'mtls-adapters-', unsafeCleanup: true });
    await writeFile(path.join(dir.path, 'good.mjs'), GOOD_MJS);
    for (const bad of BAD) if (bad.source !== undefined) await writeFile(path.join(dir.path, bad.file), bad.source);
  });
  after(async function () {
    await dir.cleanup();
  });

  it('runs a plain-JavaScript adapter from a directory outside the repository', async function () {
    // The core trust cases: a plain Node server has none of the invoice server's policies (chain depth, issuing clients).
    const run = await runCli(['--server', path.join(dir.path, 'good.mjs'), '--grep', '^trust::(valid-client|wrong-ca|missing-cert) ', '--report-dir', path.join(dir.path, 'reports')], { cwd: dir.path });
    expect(run.stderr).to.equal('');
    expect(run.exitCode).to.equal(0);
    expect(run.stdout).to.match(/^outside-mjs:/m);
    expect(run.stdout.trim().split('\n').at(-1)).to.equal('conformance: 6 passed, 0 failed, 0 skipped');
  });

  it('refuses each bad adapter input with exit 2 and one line, leaving no temp dir behind', async function () {
    // A private TMPDIR: other runs on the machine create case dirs in the shared one.
    const tmpdir = await tmp.dir({ prefix: 'mtls-adapters-tmp-', unsafeCleanup: true });
    const env = { TMPDIR: tmpdir.path };
    const runs = await Promise.all([
      ...BAD.map((bad) => runCli(['--server', `./${bad.file}`], { cwd: dir.path, env })),
      runCli(['--server', 'ngnix']),
      runCli(['--server', '']),
    ]);
    const messages = [...BAD.map((b) => b.message), /unknown server "ngnix"; use one of invoice, express-authz, https-crl, nginx, apache, all, or a path/, /--server is empty/];
    runs.forEach((run, i) => {
      const what = BAD[i]?.title ?? 'a bad name';
      expect(run.exitCode, what).to.equal(2);
      expect(run.stdout, what).to.equal('');
      expect(run.stderr.trim().split('\n'), what).to.have.length(1);
      expect(run.stderr, what).to.match(messages[i] ?? /$^/).and.match(/^mtls-conformance: /);
    });
    // tsx keeps its compile cache there too; only the suite's own dirs count.
    const left = (await readdir(tmpdir.path)).filter((f) => f.startsWith('mtls-'));
    await tmpdir.cleanup();
    expect(left).to.deep.equal([]);
  });
});
