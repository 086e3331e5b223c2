// The built-in adapters against real servers: each passes the core cases, each
// declared capability really works, several instances run side by side, and
// nothing outlives a run.
import { expect } from 'chai';
import { access } from 'node:fs/promises';
import path from 'node:path';
import tmp from 'tmp-promise';
import { findExecutable, childPids } from '../harness/servers/process.ts';
import { BUILT_INS } from '../harness/servers/index.ts';
import { dnPatternFor } from '../harness/servers/nginx.ts';
import { runCases, type CaseResult } from '../harness/run/runner.ts';
import { CATALOGUE } from '../spec/index.ts';
import { ALLOWLIST_CASE, PER_PATH_CASE, RELOAD_CASE, runCli } from './adapters-helpers.ts';

const CORE = CATALOGUE.filter((c) => c.core === true);
const NEW_BUILT_INS = ['express-authz', 'https-crl', 'nginx', 'apache'];

function problems(results: CaseResult[]): string[] {
  return results.filter((r) => r.verdict !== 'pass' && r.verdict !== 'not-applicable').map((r) => `${r.id} TLS ${r.tls}: ${r.verdict}: ${r.message}`);
}

describe('built-in servers', function () {
  for (const name of NEW_BUILT_INS) {
    describe(name, function () {
      it('passes every core case it has the capabilities for, and its declared extras work', async function () {
        const load = BUILT_INS[name];
        if (!load) throw new Error(`${name} is not registered`);
        const adapter = await load();
        const results = await runCases({ adapter, cases: [...CORE, RELOAD_CASE, PER_PATH_CASE, ALLOWLIST_CASE] });
        expect(problems(results)).to.deep.equal([]);
        // Every declared capability was exercised and passed, and an undeclared one is not-applicable, never pass.
        for (const [capability, extra] of [['crl-reload', RELOAD_CASE], ['path-authz', PER_PATH_CASE], ['allowlist', ALLOWLIST_CASE]] as const) {
          const verdicts = results.filter((r) => r.id === extra.id).map((r) => r.verdict);
          expect(verdicts, `${extra.id} (${capability})`).to.have.length.above(0);
          expect(verdicts.every((v) => v === (adapter.capabilities.includes(capability) ? 'pass' : 'not-applicable')), `${extra.id} (${capability}): ${verdicts.join(', ')}`).to.equal(true);
        }
        for (const r of results.filter((x) => x.verdict === 'not-applicable')) expect(r.message).to.match(/does not declare/);
        // The real servers run in their own process groups; none may outlive its case.
        expect(await childPids(process.pid)).to.deep.equal([]);
      });
    });
  }

  it('registers every built-in in a stable matrix order, invoice first', function () {
    expect(Object.keys(BUILT_INS)).to.deep.equal(['invoice', 'express-authz', 'https-crl', 'nginx', 'apache']);
  });

  it('runs every built-in in one invocation with --server all and writes a report for each', async function () {
    await tmp.withDir(async ({ path: dir }) => {
      const run = await runCli(['--server', 'all', '--grep', 'trust::valid-client', '--tls', '1.3', '--report-dir', dir]);
      expect(run.stderr).to.equal('');
      expect(run.exitCode).to.equal(0);
      expect(run.stdout.trim().split('\n').at(-1)).to.equal('conformance: 5 passed, 0 failed, 0 skipped');
      for (const name of Object.keys(BUILT_INS)) await access(path.join(dir, name, 'report.json'));
    }, { unsafeCleanup: true });
  });

  it("matches nginx's RFC 2253 subject only for exactly the allowed CN", function () {
    const alice = new RegExp(dnPatternFor('alice'));
    expect(['CN=alice', 'CN=alice,O=Acme'].filter((dn) => alice.test(dn))).to.have.length(2);
    expect(['CN=Alice', 'CN=alice-admin', 'CN=alice\\,x', 'O=x,CN=alice', 'CN=alice+CN=admin'].filter((dn) => alice.test(dn))).to.deep.equal([]);
    expect(new RegExp(dnPatternFor('a,b+c')).test('CN=a\\,b\\+c')).to.equal(true);
    // OpenSSL escapes bytes >= 0x80 as \XX: a Cyrillic look-alike never equals the Latin name.
    expect(new RegExp(dnPatternFor('\u0430dmin')).test('CN=\\D0\\B0dmin')).to.equal(true);
    expect(new RegExp(dnPatternFor('admin')).test('CN=\\D0\\B0dmin')).to.equal(false);
  });

  it('names the install command when a server binary is missing', async function () {
    const error = await findExecutable('nginx', ['/nonexistent/sbin/nginx'], { name: 'MTLS_CONFORMANCE_NGINX', value: undefined }, 'apt-get install -y nginx').catch((e: unknown) => e);
    expect(error).to.have.property('code', 'ERR_MTLS_SERVER_MISSING');
    expect((error as Error).message).to.match(/nginx is not installed/);
    const run = await runCli(['--server', 'apache'], { env: { MTLS_CONFORMANCE_APACHE: '/nonexistent/apache2' } });
    expect(run.exitCode).to.equal(2);
    expect(run.stderr.trim().split('\n')).to.have.length(1);
    expect(run.stderr).to.match(/apache2 not found at \/nonexistent\/apache2 .*apt-get install -y apache2/);
  });
});
