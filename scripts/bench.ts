// Benchmark: the whole catalogue against the invoice server, several times,
// then the seed tutorials' recipe (RSA-2048, one openssl call per step) building
// the same number of PKIs sequentially. Prints the figures and one final line.
//   npm run bench -- [--runs 3] [--repeat 1] [--concurrency 4] [--seed-pkis N]
import { parseArgs } from 'node:util';
import tmp from 'tmp-promise';
import { OpensslSession } from '../harness/openssl.ts';
import { runCases, type CaseResult } from '../harness/runner.ts';
import invoice from '../harness/servers/invoice.ts';
import { CATALOGUE } from '../spec/index.ts';

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

/** The seed tutorials' recipe: CA, server, client and a CRL revoking the client, RSA-2048, one call per step. */
async function buildSeedPki(dir: string): Promise<void> {
  const s = new OpensslSession(dir);
  await s.write('ca.cnf', '[req]\ndistinguished_name = dn\n[dn]\n[ca]\ndefault_ca = seed\n[seed]\ndatabase = index.txt\ndefault_md = sha256\ncrlnumber = crlnumber\n');
  await s.write('index.txt', '');
  await s.write('crlnumber', '01\n');
  await s.run(['genrsa', '-out', 'ca-key.pem', '2048']);
  await s.run(['req', '-new', '-x509', '-days', '365', '-key', 'ca-key.pem', '-out', 'ca-crt.pem', '-subj', '/CN=Acme Root CA', '-config', 'ca.cnf']);
  for (const who of ['server', 'client']) {
    await s.run(['genrsa', '-out', `${who}-key.pem`, '2048']);
    await s.run(['req', '-new', '-key', `${who}-key.pem`, '-out', `${who}-csr.pem`, '-subj', `/CN=${who === 'server' ? 'localhost' : 'mail-server'}`, '-config', 'ca.cnf']);
    await s.run(['x509', '-req', '-days', '365', '-in', `${who}-csr.pem`, '-CA', 'ca-crt.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${who}-crt.pem`]);
  }
  await s.run(['ca', '-config', 'ca.cnf', '-keyfile', 'ca-key.pem', '-cert', 'ca-crt.pem', '-revoke', 'client-crt.pem']);
  await s.run(['ca', '-config', 'ca.cnf', '-keyfile', 'ca-key.pem', '-cert', 'ca-crt.pem', '-gencrl', '-crldays', '30', '-out', 'ca-crl.pem']);
}

const cases = Array.from({ length: repeat }, () => CATALOGUE).flat();
const walls: number[] = [];
const perCase: number[] = [];
let last: CaseResult[] = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  last = await runCases({ adapter: invoice, cases, concurrency });
  walls.push(performance.now() - started);
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

const seedPkis = values['seed-pkis'] === undefined ? caseRuns : Number(values['seed-pkis']);
const seedStarted = performance.now();
for (let i = 0; i < seedPkis; i++) await tmp.withDir(({ path }) => buildSeedPki(path), { unsafeCleanup: true });
const seedMs = ((performance.now() - seedStarted) / Math.max(1, seedPkis)) * caseRuns;
const rssMb = process.resourceUsage().maxRSS / 1024;

process.stdout.write([
  `catalogue: ${CATALOGUE.length} cases x ${repeat} = ${caseRuns} case runs (both TLS versions), concurrency ${concurrency}, ${runs} runs`,
  `wall time: median ${fmt(wall)} (runs: ${walls.map(fmt).join(', ')})`,
  `per case run: median ${median(perCase).toFixed(0)} ms`,
  `openssl: ${processes} processes per run (${simple} for trust::valid-client, ${maxProcesses} at most), ${Math.round((100 * opensslMs) / busyMs)}% of case time`,
  `handshakes and requests: ${Math.round((100 * handshakeMs) / busyMs)}% of case time`,
  `seed recipe (RSA-2048, one call per step): ${seedPkis} PKIs built sequentially, ${fmt(seedMs)} for ${caseRuns} PKIs, ${(seedMs / wall).toFixed(1)}x the suite's wall time`,
  `peak RSS: ${rssMb.toFixed(0)} MB`,
  `bench: wall=${(wall / 1000).toFixed(2)}s per-case=${median(perCase).toFixed(0)}ms cases=${caseRuns} openssl=${processes} openssl-share=${Math.round((100 * opensslMs) / busyMs)}% handshake-share=${Math.round((100 * handshakeMs) / busyMs)}% seed=${(seedMs / 1000).toFixed(2)}s ratio=${(seedMs / wall).toFixed(1)}x rss=${rssMb.toFixed(0)}MB`,
].join('\n') + '\n');
