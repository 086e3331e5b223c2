// How verdicts are shown: the mark and the words each is shown with, and their
// order of badness. Which verdicts fail a run is harness/run/results.ts's.
import type { Verdict } from './results.ts';

// Which verdicts fail a run lives with the results; re-exported for the modules that import it from here.
export { FAILING, failsRun, SKIPPED } from './results.ts';

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
