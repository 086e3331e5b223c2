// The suite's own descendant processes: the last line of defence against an
// adapter that leaves a server running (a start that hung, a stop that hung).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { PS_TIMEOUT_MS, REAP_GRACE_MS } from './bounds.ts';

/** One live process. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Its argv joined with spaces. */
  command: string;
}

/** Every live process (zombies excluded), from /proc where there is one, else from ps. */
export function listProcesses(): ProcessInfo[] {
  let names: string[];
  try {
    names = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return listWithPs();
  }
  const out: ProcessInfo[] = [];
  for (const name of names) {
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name sits in parentheses and may itself contain spaces or ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || state === 'X') continue;
      const command = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
      out.push({ pid: Number(name), ppid: Number(ppid), command });
    } catch {
      // The process ended while being read.
    }
  }
  return out;
}

function listWithPs(): ProcessInfo[] {
  const text = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat=,args='], { encoding: 'utf8', timeout: PS_TIMEOUT_MS });
  const out: ProcessInfo[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (m && !m[3]?.startsWith('Z')) out.push({ pid: Number(m[1]), ppid: Number(m[2]), command: m[4] ?? '' });
  }
  return out;
}

/** Live descendants of `root` (children, their children, ...), parents first. */
export function listDescendants(root = process.pid): ProcessInfo[] {
  const all = listProcesses();
  const found: ProcessInfo[] = [];
  const parents = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid);
        found.push(p);
        grew = true;
      }
    }
  }
  return found.filter((p) => p.pid !== process.pid);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** The loader's long-lived esbuild service: a helper of the suite itself, not of the server under test. */
const LOADER_HELPER = /[/\\]esbuild(?:\.exe)? --service=/;

/** The suite's own helper that starts openssl (see spawner.ts): it ends with the run that holds it. */
const SPAWNER_HELPER = /^(?:\/bin\/)?sh -s mtls-conformance-spawner /;

/** Descendants the run may have left behind: every descendant except the loader's helper, the suite's openssl starter and `keep`. */
export function listLeftovers(keep: ReadonlySet<number> = new Set(), root = process.pid): ProcessInfo[] {
  return listDescendants(root).filter((p) => !keep.has(p.pid) && !LOADER_HELPER.test(p.command) && !SPAWNER_HELPER.test(p.command));
}

/** SIGKILLs every descendant not in `keep` at once; returns what it killed. */
export function killDescendantsNow(keep: ReadonlySet<number> = new Set(), root = process.pid): ProcessInfo[] {
  const left = listLeftovers(keep, root);
  for (const p of left) signal(p.pid, 'SIGKILL');
  return left;
}

/** SIGTERMs every descendant not in `keep`, SIGKILLs what is left after `graceMs`; returns what it found. */
export async function reapDescendants(keep: ReadonlySet<number> = new Set(), graceMs = REAP_GRACE_MS, root = process.pid): Promise<ProcessInfo[]> {
  const left = listLeftovers(keep, root);
  if (left.length === 0) return [];
  for (const p of left) signal(p.pid, 'SIGTERM');
  const pids = new Set(left.map((p) => p.pid));
  const deadline = Date.now() + graceMs;
  let delay = 5;
  while (Date.now() < deadline && listProcesses().some((p) => pids.has(p.pid))) {
    // A poll interval bounded by the grace period, not a readiness sleep.
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
  for (const p of listProcesses()) if (pids.has(p.pid)) signal(p.pid, 'SIGKILL');
  return left;
}
