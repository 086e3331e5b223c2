// Shared by the adapter tests: the CLI as a subprocess, and cases that exercise
// adapter features the catalogue's core cases do not (reload, per-path, allow-list).
import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineCase, type CaseDefinition } from '../harness/index.ts';

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What a CLI run printed and how it exited. */
export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs `mtls-conformance` as a user would, bounded; never rejects on a non-zero exit. */
export async function runCli(args: readonly string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  const result = await execa('node', [path.join(ROOT, 'bin', 'mtls-conformance.js'), ...args], {
    cwd: opts.cwd ?? ROOT, env: { ...opts.env, NO_COLOR: '1' }, reject: false, timeout: 60_000,
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A revocation reload: served under a clean CRL, refused after reload() brings a CRL that revokes it. */
export const RELOAD_CASE: CaseDefinition = defineCase({
  id: 'revocation::reload-under-test',
  title: 'refuses a client revoked by a CRL that arrived through reload()',
  family: 'revocation', severity: 'high', expected: 'reject', requires: ['crl-reload'],
  why: 'Proves that an adapter declaring crl-reload really swaps the CRL.',
  pki: (b, { root }) => {
    const client = b.leaf('client', { issuer: root, cn: 'mail-server' });
    b.crl('clean-crl', root);
    b.crl('revoking-crl', root, { revoked: [client] });
  },
  setup: { crl: ['clean-crl'] },
  run: async (t) => {
    t.expectServed(await t.probe('client'), 'client before the reload');
    await t.reload({ crl: ['revoking-crl'] });
    t.expectRefused(await t.probe('client'), 'client after the reload');
  },
});

/** Per-path mode: the public path serves anyone, the protected path only a verified client. */
export const PER_PATH_CASE: CaseDefinition = defineCase({
  id: 'authorization::per-path-under-test',
  title: 'serves the public path to anyone and the protected path only to a verified client',
  family: 'authorization', severity: 'high', expected: 'reject', requires: ['path-authz'],
  why: 'Proves that an adapter declaring path-authz really has a per-path mode.',
  pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
  setup: { clientAuth: 'per-path', paths: { protected: '/admin', public: '/public' } },
  run: async (t) => {
    const [pub] = (await t.connect(null, { requests: [{ path: '/public' }] })).observations;
    const publicCanary = t.setup.publicCanary ?? '';
    const served = pub?.status === 200 && pub.bodyExcerpt?.includes(publicCanary) === true;
    t.check({ label: 'a client without a certificate on /public', expected: 'accept', ok: served, observed: `HTTP ${pub?.status ?? '-'} ${pub?.bodyExcerpt ?? pub?.error ?? ''}` });
    t.expectRefused(await t.probe(null), 'a client without a certificate on /admin');
    t.expectServed(await t.probe('client'), 'a verified client on /admin');
  },
});

/** An allow-list of one CN: only that exact, single CN is served. */
export const ALLOWLIST_CASE: CaseDefinition = defineCase({
  id: 'authorization::allowlist-under-test',
  title: 'serves only the allowed CN, not its near misses',
  family: 'authorization', severity: 'high', expected: 'reject', requires: ['allowlist'],
  why: 'Proves that an adapter declaring allowlist matches the CN exactly.',
  pki: (b, { root }) => {
    b.leaf('alice', { issuer: root, cn: 'alice' });
    b.leaf('upper', { issuer: root, cn: 'Alice' });
    b.leaf('longer', { issuer: root, cn: 'alice-admin' });
    b.leaf('two-cns', { issuer: root, subject: '/CN=bob/CN=alice' });
  },
  setup: { allowedClients: ['alice'] },
  run: async (t) => {
    t.expectServed(await t.probe('alice'), "allowed client 'alice'");
    for (const other of ['upper', 'longer', 'two-cns']) t.expectRefused(await t.probe(other), `client '${other}' (${t.pki.cert(other).subject})`);
  },
});
