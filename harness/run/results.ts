// The results of a run, self-contained: one case run judged (CaseResult, carrying the case's own
// metadata so reports need no catalogue), the verdicts, a server's totals, and the one rule of
// whether a run fails. Reports, merge, --baseline and the scripts read results through here.
import { FAMILIES, type CaseDefinition, type Check, type Level, type Reference, type Severity, type TlsLabel } from './case.ts';
import type { Capability, Outcome, TlsVersion } from '../types.ts';

/**
 * How one run of a case ended. 'warning': a policy-level case failed (a choice of the suite, not a
 * requirement); it does not fail the run unless --strict makes it a 'fail'.
 */
export type Verdict = 'pass' | 'fail' | 'warning' | 'not-applicable' | 'expected-fail' | 'unexpected-pass' | 'error';

/** Every verdict, for readers of report.json. */
export const VERDICTS: readonly Verdict[] = ['pass', 'fail', 'warning', 'not-applicable', 'expected-fail', 'unexpected-pass', 'error'];

/** Verdicts that fail a run (exit 1). A 'warning' never does; --strict turns policy failures into 'fail' instead. */
export const FAILING: readonly Verdict[] = ['fail', 'error', 'unexpected-pass'];
/** Verdicts counted as skipped: nothing was judged against the server, or a deviation was accepted or only warned about. */
export const SKIPPED: readonly Verdict[] = ['not-applicable', 'expected-fail', 'warning'];

/** True when the verdict fails the run. */
export function failsRun(verdict: Verdict): boolean {
  return FAILING.includes(verdict);
}

/** What a case checks and why, as its definition states it: what the reports show beside the verdicts. */
export interface CaseAbout {
  /** What goes wrong in a deployment when a server fails the case. */
  why: string;
  references?: Reference[];
  /** Capabilities the case needs. */
  requires?: Capability[];
  /** The refusal a well-behaved TLS server sends. */
  preferredAlert?: string;
  /** A policy decision the suite takes, stated in the report. */
  policy?: string;
}

/** The metadata of a case that its results carry. */
export function aboutOf(def: Pick<CaseDefinition, 'why' | 'references' | 'requires' | 'preferredAlert' | 'policy'>): CaseAbout {
  return {
    why: def.why,
    ...(def.references ? { references: def.references.map((r) => ({ ...r })) } : {}),
    ...(def.requires ? { requires: [...def.requires] } : {}),
    ...(def.preferredAlert !== undefined ? { preferredAlert: def.preferredAlert } : {}),
    ...(def.policy !== undefined ? { policy: def.policy } : {}),
  };
}

/** One case under one TLS version, judged; the unit of every report. */
export interface CaseResult {
  id: string;
  title: string;
  /** One of FAMILIES, or a family of the user's own (a case defined in their own spec file). */
  family: string;
  severity: Severity;
  core: boolean;
  /** What the case checks and why: reports render it from here, never from the catalogue. */
  about: CaseAbout;
  /** The TLS version(s) this run stands for. */
  tls: TlsLabel;
  /** Requirement or policy of the suite. */
  level: Level;
  expected: 'accept' | 'reject';
  /** The outcome of the deciding probe. */
  outcome: Outcome | null;
  verdict: Verdict;
  /** One sentence for the console and JUnit: what was expected and what was observed. */
  message: string;
  /** The expectations-file reason when this is a known deviation. */
  reason?: string;
  checks: Check[];
  /** What was seen without being judged (the control client, spellings routed, the resource source). */
  notes?: { label: string; observed: string }[];
  evidence: { alert?: string; status?: number; error?: string; logExcerpt?: string[] };
  /** The certificates and CRLs of the case. */
  pki: { name: string; subject: string; issuer: string; summary: string }[];
  /** A bash script that rebuilds the PKI in an empty directory. */
  replay: string;
  /** How many openssl processes built the PKI, and how long they took. */
  openssl: { processes: number; ms: number };
  ms: number;
  /** When the case run started (ISO 8601); relates the PKI's dates to the run. */
  startedAt: string;
}

/** The families of these results in report order: the built-in ones in FAMILIES order, then the user's own as they first appear. */
export function familiesOf(results: readonly Pick<CaseResult, 'family'>[]): string[] {
  const present = new Set(results.map((r) => r.family));
  const builtIn: readonly string[] = FAMILIES;
  return [...builtIn.filter((f) => present.has(f)), ...[...present].filter((f) => !builtIn.includes(f))];
}

/** Totals of one server's run. */
export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  expectedFailures: number;
  unexpectedPasses: number;
  notApplicable: number;
  errors: number;
  /** Policy-level cases the server does not follow (counted in skipped; they fail only with --strict). */
  warnings: number;
}

/** Counts verdicts: failed = the verdicts that fail a run (fail, error, unexpected-pass); skipped = not-applicable, expected-fail, warning. */
export function summarize(results: readonly Pick<CaseResult, 'verdict'>[]): Summary {
  const count = (v: Verdict): number => results.filter((r) => r.verdict === v).length;
  return {
    passed: count('pass'),
    failed: results.filter((r) => failsRun(r.verdict)).length,
    skipped: results.filter((r) => SKIPPED.includes(r.verdict)).length,
    expectedFailures: count('expected-fail'), unexpectedPasses: count('unexpected-pass'), notApplicable: count('not-applicable'), errors: count('error'), warnings: count('warning'),
  };
}

/** The one rule of a server's run: it fails (exit 1) when a case run failed it or an expectations entry is stale. */
export function runFails(report: { summary: Pick<Summary, 'failed'>; staleExpectations: readonly string[] }): boolean {
  return report.summary.failed > 0 || report.staleExpectations.length > 0;
}

/** What a server speaks, learnt before its cases run by serving a valid client under each TLS version. */
export interface ServerProfile {
  /** Versions under which it served the valid client. */
  versions: TlsVersion[];
  /** For each version it did not serve: what the valid client saw. */
  refused: Partial<Record<TlsVersion, string>>;
  /** Set when it served no version: why, in words. */
  cause?: string;
  /** True when the port does not speak TLS at all: every case run is then an error saying so, none is started. */
  notTls?: boolean;
}

/** One case and TLS version whose verdict changed since a baseline. */
export interface VerdictChange {
  id: string;
  title: string;
  tls: string;
  before: Verdict;
  after: Verdict;
  /** The current run's one-sentence explanation. */
  message: string;
}

/** Differences between a baseline and the current run of one server. */
export interface BaselineDiff {
  source: string;
  /** The baseline's server, when it differs from the current one. */
  otherServer?: string;
  /** Case runs that fail the run now (failsRun) and did not in the baseline. */
  newlyFailing: VerdictChange[];
  /** Case runs that failed the run in the baseline and pass now. */
  newlyPassing: VerdictChange[];
  /** Other verdict changes (e.g. pass → not applicable, fail → known deviation). */
  changed: VerdictChange[];
  /** `id TLS v` present now and absent from the baseline. */
  added: string[];
  /** `id TLS v` present in the baseline and absent now although this run selected it, or gone from the catalogue. */
  removed: string[];
  /** Case runs of the baseline that this run's selection (--grep, --family, --core, --shard, --tls) left out: not compared. */
  notSelected?: number;
}

/** The version of report.json's shape, written as its `schemaVersion`; a report without the field is version 1. */
export const REPORT_SCHEMA_VERSION = 2;

/** One server's run, as the report writers see it and as report.json holds it (beside `schemaVersion`). */
export interface ServerReport {
  server: string;
  capabilities: readonly Capability[];
  summary: Summary;
  /** Expectation entries that matched no case. */
  staleExpectations: string[];
  cases: CaseResult[];
  /** Wall-clock milliseconds of the whole run of this server. */
  totalMs?: number;
  /** Changes since the --baseline report, when one was given. */
  baseline?: BaselineDiff;
  /** The TLS versions it served a valid client on, learnt before its cases ran. */
  tls?: ServerProfile;
  /** The mtls-conformance version that ran it (merge refuses to join runs of different versions). */
  version?: string;
  /** The --shard slice this report holds, when the run was sharded. */
  shard?: { index: number; count: number };
  /** Reports a merge joined into this one: their directories, as given to merge. */
  mergedFrom?: string[];
}
