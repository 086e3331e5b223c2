// The helper that starts openssl: the same results as a direct call, a cancelled
// call ends its openssl, and the helper is never taken for a leftover process.
import { expect } from 'chai';
import tmp from 'tmp-promise';
import { OpensslSession } from '../harness/pki/openssl.ts';
import { listDescendants, listLeftovers } from '../harness/run/processes.ts';
import { runCommand, spawnerPid } from '../harness/pki/spawner.ts';

describe('openssl helper', function () {
  // The helper is opt-in while its gain is measured: these tests turn it on, and end it after.
  const before = process.env['MTLS_CONFORMANCE_SPAWNER'];
  beforeEach(function () { process.env['MTLS_CONFORMANCE_SPAWNER'] = '1'; });
  after(function () {
    if (before === undefined) delete process.env['MTLS_CONFORMANCE_SPAWNER'];
    else process.env['MTLS_CONFORMANCE_SPAWNER'] = before;
    const pid = spawnerPid();
    if (pid !== undefined) process.kill(pid, 'SIGTERM');
  });

  it('returns stdout without its final newline and reports failures with stderr', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const s = new OpensslSession(dir);
      expect(await s.run(['version'])).to.match(/^OpenSSL 3\.\S+ .*[^\n]$/);
      const pid = spawnerPid();
      expect(pid, 'a helper runs').to.be.a('number');
      expect(listDescendants().some((p) => p.pid === pid), 'the helper is a child of this process').to.equal(true);
      expect(listLeftovers().some((p) => p.pid === pid), 'the helper is no leftover').to.equal(false);
      let message = '';
      await s.run(['nosuchcmd']).catch((e: unknown) => { message = e instanceof Error ? e.message : String(e); });
      expect(message).to.match(/openssl nosuchcmd failed: .*Invalid command/);
    }, { unsafeCleanup: true });
  });

  it('kills the openssl of a cancelled call and says it was stopped', async function () {
    this.timeout(20_000);
    await tmp.withDir(async ({ path: dir }) => {
      const stop = new AbortController();
      const s = new OpensslSession(dir, stop.signal);
      const started = performance.now();
      const call = s.run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:16384', '-out', 'k.pem']).then(() => 'finished', (e: unknown) => (e instanceof Error ? e.message : String(e)));
      // Bounded poll for the openssl process to exist before cancelling it: else there would be nothing to kill.
      const running = (): boolean => listDescendants().some((p) => p.command.startsWith('openssl genpkey'));
      for (const deadline = Date.now() + 5_000; !running() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
      expect(running(), 'openssl genpkey runs before the cancel').to.equal(true);
      stop.abort();
      expect(await call).to.match(/was stopped: the case was aborted/);
      expect(performance.now() - started).to.be.below(10_000);
      expect(listDescendants().filter((p) => p.command.startsWith('openssl genpkey'))).to.deep.equal([]);
    }, { unsafeCleanup: true });
  });

  it('reports a timeout as timed out', async function () {
    this.timeout(20_000);
    await tmp.withDir(async ({ path: dir }) => {
      const result = await runCommand('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:16384'], { cwd: dir, env: {}, timeoutMs: 200 });
      expect(result.failed).to.equal(true);
      expect(result.timedOut).to.equal(true);
      expect(result.isCanceled).to.equal(false);
    }, { unsafeCleanup: true });
  });
});
