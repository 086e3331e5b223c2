// `npm run flake -- <N> [--stress] [cli flags]`: runs the whole suite N times
// against every built-in server (`--server all`) and reports every case whose
// verdict changed between runs and every error verdict. --stress keeps both cores
// busy meanwhile (Debian's stress-ng, installed when missing and allowed), so the
// verdicts are shown to hold on a loaded machine. Exit 0 when nothing changed and
// nothing erred, 1 otherwise, 2 when a run could not be carried out.
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isHarnessError } from '../harness/errors.ts';
import { readReportFile } from '../harness/report/read.ts';
import { BUILT_IN_NAMES } from '../harness/servers/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'mtls-conformance.js');
/** Bound on one run of the whole suite. */
const RUN_BOUND_MS = 30 * 60_000;

function fail(message: string): never {
  process.stderr.write(`flake: ${message}\n`);
  process.exit(2);
}

/** One completed run: the verdict and message of every case result, keyed `server id TLS v`. */
export type RunVerdicts = ReadonlyMap<string, { verdict: string; message: string }>;

/** One line per case result whose verdict differs between runs or is missing from some; empty when stable. */
export function describeChanges(runs: readonly RunVerdicts[]): string[] {
  const keys = new Set(runs.flatMap((r) => [...r.keys()]));
  const lines: string[] = [];
  for (const key of [...keys].sort()) {
    const seen = runs.map((r) => r.get(key)?.verdict ?? 'missing');
    const distinct = [...new Set(seen)];
    if (distinct.length === 1) continue;
    const count = (v: string): number => seen.filter((x) => x === v).length;
    const odd = [...distinct].sort((x, y) => count(x) - count(y))[0] ?? 'missing';
    const oddRuns = seen.flatMap((v, i) => (v === odd ? [i + 1] : []));
    const first = oddRuns[0] === undefined ? undefined : runs[oddRuns[0] - 1]?.get(key)?.message;
    lines.push(`changed: ${key}: ${distinct.map((v) => `${v} ×${count(v)}`).join(', ')} (${odd} in runs ${oddRuns.join(', ')})${first ? ` — ${first}` : ''}`);
  }
  return lines;
}

async function main(): Promise<number> {
  const [count = '20', ...rest] = process.argv.slice(2);
  const stress = rest.includes('--stress');
  const extra = rest.filter((a) => a !== '--stress');
  const runs = Number(count);
  if (!Number.isInteger(runs) || runs < 2 || runs > 1000) fail(`Expected the number of runs to be an integer from 2 to 1000, got ${JSON.stringify(count)}; usage: npm run flake -- <N> [mtls-conformance flags]`);
  if (extra.includes('--server') || extra.includes('--server-cmd')) fail('the flake run always uses --server all; drop --server');
  const work = await mkdtemp(path.join(os.tmpdir(), 'mtls-flake-'));
  const completed: Map<string, { verdict: string; message: string }>[] = [];
  let broken = 0;
  let load: { stop(): Promise<void> } | undefined;
  try {
    if (stress) load = await startLoad(runs * RUN_BOUND_MS);
    for (let run = 0; run < runs; run++) {
      const reportDir = path.join(work, `run-${run + 1}`);
      const began = performance.now();
      const result = await execa('node', [BIN, '--server', 'all', '--report-dir', reportDir, ...extra], { reject: false, timeout: RUN_BOUND_MS, cwd: ROOT, stdin: 'ignore' });
      const seconds = ((performance.now() - began) / 1000).toFixed(1);
      if (result.exitCode !== 0 && result.exitCode !== 1) {
        broken += 1;
        process.stdout.write(`run ${run + 1}/${runs}: exit ${String(result.exitCode)} after ${seconds} s: ${result.stderr.trim().split('\n').at(-1) ?? ''}\n`);
        continue;
      }
      const verdicts = new Map<string, { verdict: string; message: string }>();
      for (const server of BUILT_IN_NAMES) {
        const { report } = await readReportFile(path.join(reportDir, server, 'report.json')).catch((error: unknown) => fail(isHarnessError(error) ? error.oneLine() : String(error)));
        for (const c of report.cases) verdicts.set(`${server} ${c.id} TLS ${c.tls}`, { verdict: c.verdict, message: c.message });
      }
      completed.push(verdicts);
      process.stdout.write(`run ${run + 1}/${runs}: exit ${String(result.exitCode)}, ${verdicts.size} case results, ${seconds} s\n`);
    }
  } finally {
    await load?.stop();
    await rm(work, { recursive: true, force: true });
  }
  const changed = describeChanges(completed);
  for (const line of changed) process.stdout.write(line + '\n');
  const errors = [...new Set(completed.flatMap((r) => [...r].filter(([, v]) => v.verdict === 'error').map(([key, v]) => `error: ${key} — ${v.message}`)))];
  for (const line of errors) process.stdout.write(line + '\n');
  const sizes = [...new Set(completed.map((r) => r.size))];
  process.stdout.write(`flake: ${runs} runs${stress ? ' under stress-ng --cpu 2' : ''} (${completed.length} completed, ${broken} could not be carried out) against ${BUILT_IN_NAMES.join(', ')}; ${sizes.join(' / ') || 0} case results per run; ${changed.length} changed verdicts, ${errors.length} error verdicts\n`);
  if (broken > 0) return 2;
  return changed.length > 0 || errors.length > 0 ? 1 : 0;
}

/** Keeps every core busy for at most `ms` with stress-ng (installed from Debian's packages when missing); stop() ends it. */
async function startLoad(ms: number): Promise<{ stop(): Promise<void> }> {
  const found = await execa('stress-ng', ['--version'], { reject: false, timeout: 10_000 });
  if (found.exitCode !== 0) {
    process.stdout.write('flake: installing stress-ng (apt-get)\n');
    const installed = await execa('bash', ['-c', 'apt-get update -qq && apt-get install -y -qq stress-ng'], { reject: false, timeout: 600_000, env: { DEBIAN_FRONTEND: 'noninteractive' } });
    if (installed.exitCode !== 0) fail(`--stress needs stress-ng and it could not be installed (${installed.stderr.trim().split('\n').at(-1) ?? ''}); install it with apt-get install stress-ng`);
  }
  const cpus = String(os.availableParallelism());
  process.stdout.write(`flake: stress-ng --cpu ${cpus} for the whole run\n`);
  const child = execa('stress-ng', ['--cpu', cpus, '--timeout', `${Math.ceil(ms / 1000)}s`, '--quiet'], { reject: false, stdin: 'ignore' });
  return { stop: async () => { child.kill('SIGKILL'); await child; } };
}

// Runs only as a script, so a test can import describeChanges.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
