// The one home of the verdict rules: which verdicts fail a run, which are
// skipped, the mark and the words each is shown with, and their order of badness.
import type { Verdict } from './runner.ts';

/** Verdicts that fail a run (exit 1). A 'warning' never does; --strict turns policy failures into 'fail' instead. */
export const FAILING: readonly Verdict[] = ['fail', 'error', 'unexpected-pass'];
/** Verdicts counted as skipped: nothing was judged against the server, or a deviation was accepted or only warned about. */
export const SKIPPED: readonly Verdict[] = ['not-applicable', 'expected-fail', 'warning'];

/** True when the verdict fails the run. */
export function failsRun(verdict: Verdict): boolean {
  return FAILING.includes(verdict);
}

/** The mark each verdict carries in console, Markdown and HTML. */
export const VERDICT_MARK: Record<Verdict, string> = {
  pass: '✓', fail: '✗', warning: '⚠', error: '!', 'not-applicable': '-', 'expected-fail': '~', 'unexpected-pass': '?',
};

/** The words each verdict is shown with. */
export const VERDICT_WORDS: Record<Verdict, string> = {
  pass: 'pass', fail: 'fail', warning: 'warning (policy)', error: 'error', 'not-applicable': 'not applicable', 'expected-fail': 'known deviation', 'unexpected-pass': 'unexpected pass',
};

/** Order of badness: the verdict a matrix cell shows when TLS versions differ. */
export const VERDICT_RANK: Record<Verdict, number> = { fail: 6, error: 5, 'unexpected-pass': 4, warning: 3, 'expected-fail': 2, pass: 1, 'not-applicable': 0 };
