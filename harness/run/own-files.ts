// The suite's own files: PEMs, openssl configs and outputs, indexes and
// bundles, each a few KB in a case's temp dir. They are read and written
// synchronously. On the 2-core VM (Node 20) a synchronous read costs about 9 µs
// of CPU, fs/promises' readFile about 110 µs: its open, stat, read and close
// each go through libuv's pool and back. In one default run, 3,879 reads held
// the main thread 100 ms and 1,464 writes 149 ms in all. Files a user names
// (expectations, reports, spec files, a server's own output) keep the
// asynchronous calls.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

/** The text of one of the suite's own files. */
export function readOwnFile(file: string): string {
  return readFileSync(file, 'utf8');
}

/** The bytes of one of the suite's own files. */
export function readOwnBytes(file: string): Buffer {
  return readFileSync(file);
}

/** Writes one of the suite's own files, readable by its owner only. */
export function writeOwnFile(file: string, content: string | Uint8Array): void {
  writeFileSync(file, content, { mode: 0o600 });
}

/** Makes a file private to its owner whatever the umask was when it was created. */
export function makePrivate(file: string): void {
  chmodSync(file, 0o600);
}

/** Creates one of the suite's own directories, private to its owner. */
export function makeOwnDir(dir: string, recursive = false): void {
  mkdirSync(dir, { mode: 0o700, recursive });
}
