// Benchmark: the whole catalogue against the invoice server, several times,
// then the seed tutorials' recipe (a bash script, RSA-2048, one openssl call per
// step) building the same number of PKIs sequentially. Wall and CPU seconds (the
// bench process plus every process under it: openssl, bash, helpers) for both,
// peak RSS, and one final line.
//   npm run bench -- [--runs 3] [--repeat 1] [--concurrency 4] [--seed-pkis N]
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import tmp from 'tmp-promise';
import { opensslBinary } from '../harness/pki/openssl.ts';
import { listDescendants } from '../harness/run/processes.ts';
import { NO_EXPECTATIONS } from '../harness/run/expectations.ts';
import { checkServers } from '../harness/mocha/conformance.ts';
import { keepHeapNearLiveData } from '../harness/run/memory.ts';
import type { CaseResult } from '../harness/run/results.ts';
import invoice from '../harness/servers/invoice.ts';
import { CATALOGUE } from '../spec/index.ts';

// The same heap policy as the CLI's process, so the bench measures what a run costs there.
keepHeapNearLiveData();

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    repeat: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '4' },
    'seed-pkis': { type: 'string' },
  },
});
const runs = Number(values.runs);
const repeat = Number(values.repeat);
const concurrency = Number(values.concurrency);
for (const [flag, n] of [['runs', runs], ['repeat', repeat], ['concurrency', concurrency]] as const) {
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench: Expected --${flag} to be a positive integer, got ${JSON.stringify(values[flag])}\n`);
    process.exit(2);
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};
const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** The seed tutorials' recipe as they give it: a bash script making a CA, server, client and a CRL revoking the client, RSA-2048, one call per step. */
const SEED_SCRIPT = [
  'set -euo pipefail',
  "printf 'openssl_conf = default_conf\\n[default_conf]\\n' > openssl.cnf",
  'export OPENSSL_CONF=./openssl.cnf',
  "printf '[req]\\ndistinguished_name = dn\\n[dn]\\n[ca]\\ndefault_ca = seed\\n[seed]\\ndatabase = index.txt\\ndefault_md = sha256\\ncrlnumber = crlnumber\\n' > ca.cnf",
  ': > index.txt',
  'echo 01 > crlnumber',
  'openssl genrsa -out ca-key.pem 2048',
  "openssl req -new -x509 -days 365 -key ca-key.pem -out ca-crt.pem -subj '/CN=Acme Root CA' -config ca.cnf",
  'for who in server client; do',
  '  cn=mail-server; [ "$who" = server ] && cn=localhost',
  '  openssl genrsa -out "$who-key.pem" 2048',
  '  openssl req -new -key "$who-key.pem" -out "$who-csr.pem" -subj "/CN=$cn" -config ca.cnf',
  '  openssl x509 -req -days 365 -in "$who-csr.pem" -CA ca-crt.pem -CAkey ca-key.pem -CAcreateserial -out "$who-crt.pem"',
  'done',
  'openssl ca -config ca.cnf -keyfile ca-key.pem -cert ca-crt.pem -revoke client-crt.pem',
  'openssl ca -config ca.cnf -keyfile ca-key.pem -cert ca-crt.pem -gencrl -crldays 30 -out ca-crl.pem',
  '',
].join('\n');

async function buildSeedPki(dir: string): Promise<void> {
  const script = path.join(dir, 'seed.sh');
  writeFileSync(script, SEED_SCRIPT);
  // MTLS_CONFORMANCE_OPENSSL names the binary the suite runs; the recipe runs the same one.
  const bin = opensslBinary();
  const env = bin.includes('/') ? { PATH: `${path.dirname(bin)}:${process.env['PATH'] ?? ''}` } : {};
  await execa('bash', [script], { cwd: dir, timeout: 120_000, stdin: 'ignore', env });
}

/** Clock ticks per second of /proc/<pid>/stat times. */
const TICKS = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5_000 }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process's own CPU ms (utime + stime) and its reaped children's (cutime + cstime); zeros once it is gone. */
function statMs(pid: number | 'self'): { own: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which sits in parentheses; proc(5) field n is at index n - 3.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const at = (n: number): number => f[n - 3] ?? 0;
    return { own: ((at(14) + at(15)) * 1000) / TICKS, children: ((at(16) + at(17)) * 1000) / TICKS };
  } catch {
    return { own: 0, children: 0 };
  }
}

/**
 * CPU ms so far of this process and everything under it: its own (cpuUsage), its reaped children's, and each
 * live descendant's own plus its reaped children's (a long-lived helper's openssl calls).
 */
function cpuMs(): number {
  const self = process.cpuUsage();
  let ms = (self.user + self.system) / 1000 + statMs('self').children;
  for (const p of listDescendants()) {
    const t = statMs(p.pid);
    ms += t.own + t.children;
  }
  return ms;
}

// Each repetition's cases have ids of their own: one mocha test, and one run, per id.
const cases = Array.from({ length: repeat }, (_, n) => (n === 0 ? CATALOGUE : CATALOGUE.map((c) => ({ ...c, id: `${c.id}-repeat-${n + 1}` })))).flat();
const walls: number[] = [];
const cpus: number[] = [];
const perCase: number[] = [];
let last: CaseResult[] = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const cpuStarted = cpuMs();
  // The CLI's path: the catalogue as mocha tests, each awaiting its run from the bounded pool.
  last = (await checkServers([{ adapter: invoice, expectations: NO_EXPECTATIONS }], cases, { concurrency }))[0]?.cases ?? [];
  walls.push(performance.now() - started);
  cpus.push(cpuMs() - cpuStarted);
  perCase.push(median(last.map((r) => r.ms)));
  const bad = last.filter((r) => r.verdict !== 'pass' && r.verdict !== 'not-applicable');
  if (bad.length > 0) process.stderr.write(`bench: run ${i + 1}: ${bad.length} case runs did not pass (first: ${bad[0]?.id ?? ''} ${bad[0]?.message ?? ''})\n`);
}
const caseRuns = last.length;
const processes = last.reduce((n, r) => n + r.openssl.processes, 0);
const opensslMs = last.reduce((n, r) => n + r.openssl.ms, 0);
const handshakeMs = last.reduce((n, r) => n + r.checks.reduce((m, c) => m + (c.observation?.ms ?? 0), 0), 0);
const busyMs = last.reduce((n, r) => n + r.ms, 0);
const maxProcesses = Math.max(...last.map((r) => r.openssl.processes));
const simple = last.find((r) => r.id === 'trust::valid-client')?.openssl.processes ?? 0;
const wall = median(walls);
const cpu = median(cpus);
// Read before the seed recipe runs: the suite's own peak.
const rssMb = process.resourceUsage().maxRSS / 1024;

const seedPkis = values['seed-pkis'] === undefined ? caseRuns : Number(values['seed-pkis']);
const seedStarted = performance.now();
const seedCpuStarted = cpuMs();
for (let i = 0; i < seedPkis; i++) await tmp.withDir(({ path: dir }) => buildSeedPki(dir), { unsafeCleanup: true });
const seedMs = ((performance.now() - seedStarted) / Math.max(1, seedPkis)) * caseRuns;
const seedCpuMs = ((cpuMs() - seedCpuStarted) / Math.max(1, seedPkis)) * caseRuns;

process.stdout.write([
  `catalogue: ${CATALOGUE.length} cases x ${repeat} = ${caseRuns} case runs (both TLS versions), concurrency ${concurrency}, ${runs} runs`,
  `wall time: median ${fmt(wall)} (runs: ${walls.map(fmt).join(', ')})`,
  `CPU time (bench process and every process under it): median ${fmt(cpu)} (runs: ${cpus.map(fmt).join(', ')})`,
  `per case run: median ${median(perCase).toFixed(0)} ms`,
  `openssl: ${processes} processes per run (${simple} for trust::valid-client, ${maxProcesses} at most), ${Math.round((100 * opensslMs) / busyMs)}% of case time`,
  `handshakes and requests: ${Math.round((100 * handshakeMs) / busyMs)}% of case time`,
  `seed recipe (bash, RSA-2048, one call per step): ${seedPkis} PKIs built sequentially, ${fmt(seedMs)} wall and ${fmt(seedCpuMs)} CPU for ${caseRuns} PKIs: ${(seedMs / wall).toFixed(1)}x the suite's wall time, ${(seedCpuMs / cpu).toFixed(1)}x its CPU time`,
  `peak RSS (bench process, during the suite's runs): ${rssMb.toFixed(0)} MB`,
  `bench: wall=${(wall / 1000).toFixed(2)}s cpu=${(cpu / 1000).toFixed(2)}s per-case=${median(perCase).toFixed(0)}ms cases=${caseRuns} openssl=${processes} openssl-share=${Math.round((100 * opensslMs) / busyMs)}% handshake-share=${Math.round((100 * handshakeMs) / busyMs)}% seed=${(seedMs / 1000).toFixed(2)}s seed-cpu=${(seedCpuMs / 1000).toFixed(2)}s ratio=${(seedMs / wall).toFixed(1)}x cpu-ratio=${(seedCpuMs / cpu).toFixed(1)}x rss=${rssMb.toFixed(0)}MB`,
].join('\n') + '\n');
