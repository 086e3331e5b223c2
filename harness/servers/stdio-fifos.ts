// Output pipes a server can also open by path. Node gives a child socket pairs
// as stdout and stderr, and open("/dev/stderr") on a socket fails with ENXIO,
// so a server whose config says `error_log /dev/stderr` could not start. Named
// pipes (FIFOs) in the server's directory behave like the pipes of a shell.
import { execFile } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HarnessError } from '../errors.ts';
import { MKFIFO_TIMEOUT_MS } from '../run/bounds.ts';

/** A FIFO's two ends: `write` goes to the child as its stdout or stderr, `read` is the harness's end. */
export interface FifoPipe {
  /** Descriptor the child inherits; the harness closes its copy once the child runs. */
  write: number;
  /** The harness's end, readable as a stream; it ends when every writer has closed. */
  read: net.Socket;
}

/** Creates FIFOs in `dir` with the `mkfifo` program (Node has no mkfifo call), bounded. */
function mkfifo(files: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('mkfifo', ['-m', '600', ...files], { timeout: MKFIFO_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (error) reject(new HarnessError('ERR_MTLS_ADAPTER_START', `cannot create the output pipes of the server in ${path.dirname(files[0] ?? '')}: ${stderr.trim() || error.message}`, 'the suite needs the mkfifo program (coreutils) and a writable server directory'));
      else resolve();
    });
  });
}

let made = 0;

/** Opens stdout and stderr FIFOs in `dir` for one child process. */
export async function openStdioFifos(dir: string): Promise<{ stdout: FifoPipe; stderr: FifoPipe; closeWriteEnds(): void }> {
  // A fresh pair per process: a start retried on another port runs in the same directory.
  const n = ++made;
  const files = ['stdout', 'stderr'].map((name) => path.join(dir, `${name}-${n}.fifo`));
  await mkfifo(files);
  const pipes = files.map((file): FifoPipe => {
    // The read end first, non-blocking (an open for reading alone would wait for a writer); then the write end opens at once.
    const readFd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    const write = openSync(file, constants.O_WRONLY);
    return { write, read: new net.Socket({ fd: readFd, readable: true, writable: false }) };
  });
  const [stdout, stderr] = pipes as [FifoPipe, FifoPipe];
  let closed = false;
  return {
    stdout, stderr,
    closeWriteEnds: () => {
      if (closed) return;
      closed = true;
      for (const p of pipes) closeSync(p.write);
    },
  };
}
