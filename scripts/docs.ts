// npm run docs: runs every built-in server against the whole catalogue and
// regenerates docs/ (conformance.md, conformance.html, index.html, results.json)
// from stable results. Exit 2 with one line when a server cannot be run.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOGUE } from '../spec/index.ts';
import { resolveAdapter } from '../harness/servers/resolve.ts';
import { isHarnessError, messageOf } from '../harness/errors.ts';
import { loadExpectations } from '../harness/run/expectations.ts';
import type { ServerReport } from '../harness/run/results.ts';
import { packDocsData, renderDocs } from '../harness/report/docs.ts';
import { stabilizeReport } from '../harness/report/stable.ts';
import { checkServers } from '../harness/mocha/conformance.ts';
import { BUILT_IN_NAMES } from '../harness/servers/index.ts';
import { keepHeapNearLiveData } from '../harness/run/memory.ts';

// Five servers' runs in one process: the CLI's heap policy.
keepHeapNearLiveData();

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs every built-in server and returns stable reports. */
export async function collectStableReports(names: readonly string[] = BUILT_IN_NAMES): Promise<ServerReport[]> {
  const reports: ServerReport[] = [];
  for (const name of names) {
    const adapter = await resolveAdapter(name);
    const expectations = await loadExpectations(path.join(ROOT, 'expectations', `${name}.json`), true);
    // The CLI's path (mocha, the session layer); the docs keep only what is stable from run to run.
    const [full] = await checkServers([{ adapter, expectations }], CATALOGUE);
    if (!full) throw new Error(`no report for ${name}`);
    const report: ServerReport = { server: full.server, capabilities: full.capabilities, summary: full.summary, staleExpectations: full.staleExpectations, cases: full.cases };
    reports.push(stabilizeReport(report, [ROOT]));
    process.stderr.write(`docs: ${name}: ${report.summary.passed} passed, ${report.summary.failed} failed, ${report.summary.skipped} skipped\n`);
  }
  return reports;
}

/** Writes docs/; returns the files whose content changed. */
export async function writeDocs(files: Record<string, string>, dir = path.join(ROOT, 'docs')): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const changed: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    const old = await readFile(file, 'utf8').catch(() => undefined);
    if (old === text) continue;
    await writeFile(file, text);
    changed.push(name);
  }
  return changed;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const data = packDocsData(await collectStableReports());
    const changed = await writeDocs(renderDocs(data));
    process.stdout.write(changed.length > 0 ? `docs: updated ${changed.map((f) => `docs/${f}`).join(', ')}\n` : 'docs: up to date\n');
  } catch (error) {
    process.stderr.write(`docs: ${isHarnessError(error) ? error.oneLine() : messageOf(error)}\n`);
    process.exitCode = 2;
  }
}
