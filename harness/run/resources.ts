// Descriptors and memory of the process that serves: a child server's own
// process tree (RunningServer.pid), or the suite's process where an in-process
// server runs. The resource cases judge these, never the suite's own numbers
// for a server that lives elsewhere.
import { readdir, readFile } from 'node:fs/promises';
import { listDescendants } from './processes.ts';
import type { ResourceSample, RunningServer } from '../types.ts';

/** A sample plus, for the suite's own process, its JavaScript heap (steadier than RSS there). */
export interface ServerSample extends ResourceSample {
  heapUsedBytes?: number;
}

/** Samples the server behind `running`. */
export async function sampleServer(running: RunningServer): Promise<ServerSample> {
  if (typeof running.resources === 'function') return running.resources();
  const pid = running.pid;
  if (pid === undefined || pid === process.pid) {
    const memory = process.memoryUsage();
    return {
      fds: await countFds(process.pid), rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, ofServer: pid === process.pid,
      source: pid === process.pid ? 'the suite\'s own process, where this in-process server runs'
        : 'the suite\'s own process only: the adapter reports no pid, so a server in another process cannot be seen',
    };
  }
  const tree = [pid, ...listDescendants(pid).map((p) => p.pid)];
  let fds = 0;
  let rssBytes = 0;
  let seen = 0;
  for (const p of tree) {
    const n = await countFds(p);
    const rss = await residentBytes(p);
    if (n < 0 || rss < 0) continue;
    fds += n;
    rssBytes += rss;
    seen += 1;
  }
  if (seen === 0) return { fds: -1, rssBytes: 0, ofServer: false, source: `process ${pid}, which could not be read (it exited, or /proc is missing)` };
  return { fds, rssBytes, ofServer: true, source: `server process ${pid}${seen > 1 ? ` and ${seen - 1} descendant${seen === 2 ? '' : 's'}` : ''}` };
}

/** Open descriptors of one process; -1 when they cannot be read. */
async function countFds(pid: number): Promise<number> {
  return readdir(`/proc/${pid}/fd`).then((entries) => entries.length, () => -1);
}

/** VmRSS of one process in bytes; -1 when it cannot be read. */
async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  return kb === undefined ? -1 : Number(kb) * 1024;
}
