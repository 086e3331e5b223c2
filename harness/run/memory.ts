// The suite's own processes (the CLI, the bench, the docs script) keep their
// heap near its live data. A run leaves much short-lived garbage behind each
// case (PEMs, handshakes, reports), and V8 by default lets the old space grow
// to about four times what survived its last full collection before it
// collects again. On this project's 2-core VM, with 40-50 MB live, a default
// run peaked at 268-280 MB of RSS that way (211-225 MB with this), three bench
// runs in one process at 330-430 MB (255-257 MB). The full collections it adds
// cost less CPU than the runs vary by: about 0.4 s in one sitting, and no
// difference at all in four alternating rounds at 50%, 100% and unset in another.
import v8 from 'node:v8';

/** How far V8 lets the old space grow past the data that survived the last full collection, in percent. */
export const HEAP_GROWING_PERCENT = 50;

/** Applies HEAP_GROWING_PERCENT to this process (V8 reads the flag at every full collection). */
export function keepHeapNearLiveData(): void {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
