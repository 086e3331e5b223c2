// The shell that starts openssl while a run holds it: the same results as a
// direct call (arguments and environment arrive as given, stdout and stderr
// apart), a cancelled or timed-out call ends its openssl, a helper that dies
// fails only the calls in flight, and nothing of it outlives the run.
import { expect } from 'chai';
import tmp from 'tmp-promise';
import { OpensslSession } from '../harness/pki/openssl.ts';
import { listDescendants, listLeftovers } from '../harness/run/processes.ts';
import { holdSpawner, runCommand, spawnerPid } from '../harness/pki/spawner.ts';

/** Bounded poll (never a sleep in place of a condition). */
async function until(what: string, ok: () => boolean, ms = 5_000): Promise<void> {
  for (const deadline = Date.now() + ms; !ok();) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('openssl helper', function () {
  this.timeout(20_000);
  let release: (() => Promise<void>) | undefined;
  beforeEach(function () { release = holdSpawner(); });
  afterEach(async function () { await release?.(); });

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

  it('passes arguments and environment exactly, and keeps stdout and stderr apart', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const odd = ['a b', "O'Brien", '"quoted"', '$HOME', '`id`', 'back\\slash', '*', '', ';exit 3'];
      const out = await runCommand('printf', ['%s|', ...odd], { cwd: dir, env: {}, timeoutMs: 5_000 });
      expect(spawnerPid(), 'through the helper').to.be.a('number');
      expect(out.failed).to.equal(false);
      expect(out.stdout).to.equal(odd.map((a) => `${a}|`).join(''));
      const env = await runCommand('sh', ['-c', 'pwd; printf %s "$MTLS_T" >&2; exit 4'], { cwd: dir, env: { MTLS_T: "x 'y' $z" }, timeoutMs: 5_000 });
      expect(env.stdout).to.equal(dir);
      expect(env.stderr).to.equal("x 'y' $z");
      expect(env.failed).to.equal(true);
      expect(env.message).to.match(/exit code 4/);
      // A line cannot carry a newline: such a command starts directly, with the same result.
      const direct = await runCommand('printf', ['%s', 'two\nlines'], { cwd: dir, env: {}, timeoutMs: 5_000 });
      expect(direct.stdout).to.equal('two\nlines');
    }, { unsafeCleanup: true });
  });

  it('kills the openssl of a cancelled call and says it was stopped', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const stop = new AbortController();
      const s = new OpensslSession(dir, stop.signal);
      const started = performance.now();
      const call = s.run(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:16384', '-out', 'k.pem']).then(() => 'finished', (e: unknown) => (e instanceof Error ? e.message : String(e)));
      // The openssl process must exist before the cancel: else there would be nothing to kill.
      const running = (): boolean => listDescendants().some((p) => p.command.startsWith('openssl genpkey'));
      await until('openssl genpkey running', running);
      stop.abort();
      expect(await call).to.match(/was stopped: the case was aborted/);
      expect(performance.now() - started).to.be.below(10_000);
      expect(listDescendants().filter((p) => p.command.startsWith('openssl genpkey'))).to.deep.equal([]);
    }, { unsafeCleanup: true });
  });

  it('reports a timeout as timed out', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const result = await runCommand('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:16384'], { cwd: dir, env: {}, timeoutMs: 200 });
      expect(spawnerPid(), 'through the helper').to.be.a('number');
      expect(result.failed).to.equal(true);
      expect(result.timedOut).to.equal(true);
      expect(result.isCanceled).to.equal(false);
      expect(listDescendants().filter((p) => p.command.startsWith('openssl genpkey'))).to.deep.equal([]);
    }, { unsafeCleanup: true });
  });

  it('fails only the calls in flight when the helper dies, and starts a new one for the next', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const call = runCommand('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:16384'], { cwd: dir, env: {}, timeoutMs: 15_000 });
      await until('openssl genpkey running', () => listDescendants().some((p) => p.command.startsWith('openssl genpkey')));
      const first = spawnerPid();
      expect(first).to.be.a('number');
      process.kill(first ?? 0, 'SIGKILL');
      const result = await call;
      expect(result.failed).to.equal(true);
      expect(result.message).to.match(/the helper that starts openssl exited/);
      await until('the orphaned openssl gone', () => !listDescendants().some((p) => p.command.startsWith('openssl genpkey')));
      const next = await runCommand('openssl', ['version'], { cwd: dir, env: {}, timeoutMs: 5_000 });
      expect(next.failed).to.equal(false);
      expect(spawnerPid()).to.be.a('number').and.not.equal(first);
    }, { unsafeCleanup: true });
  });

  it('carries commands longer than one read of its input, and many at once, exactly', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      // The helper reads its input in blocks of a few KB: this line spans many of them.
      const long = Array.from({ length: 4_000 }, (_, i) => `w${i} 'q' $x`);
      const out = await runCommand('printf', ['%s|', ...long], { cwd: dir, env: {}, timeoutMs: 5_000 });
      expect(spawnerPid(), 'through the helper').to.be.a('number');
      expect(out.stdout).to.equal(long.map((a) => `${a}|`).join(''));
      const many = await Promise.all(Array.from({ length: 40 }, (_, i) => runCommand('printf', ['%s', `call ${i}`], { cwd: dir, env: {}, timeoutMs: 10_000 })));
      expect(many.map((r) => r.stdout)).to.deep.equal(Array.from({ length: 40 }, (_, i) => `call ${i}`));
    }, { unsafeCleanup: true });
  });

  it('ends with its last holder, and without a holder commands start directly', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      await runCommand('openssl', ['version'], { cwd: dir, env: {}, timeoutMs: 5_000 });
      const pid = spawnerPid();
      expect(pid).to.be.a('number');
      const second = holdSpawner();
      await release?.();
      release = undefined;
      expect(spawnerPid(), 'another holder keeps it').to.equal(pid);
      await second();
      expect(spawnerPid()).to.equal(undefined);
      expect(listDescendants().filter((p) => p.pid === pid), 'the helper has exited').to.deep.equal([]);
      const direct = await runCommand('openssl', ['version'], { cwd: dir, env: {}, timeoutMs: 5_000 });
      expect(direct.failed).to.equal(false);
      expect(spawnerPid(), 'no helper without a holder').to.equal(undefined);
    }, { unsafeCleanup: true });
  });
});
