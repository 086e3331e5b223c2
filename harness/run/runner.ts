// Runs cases against a server adapter: for every case and TLS version a fresh
// temp dir, PKI and server; probes; verdicts; cleanup in reverse order even when
// a step fails or hangs. Independent runs overlap in a bounded pool. One run of a
// case is six stages (runCase): prepareCase, startServer, exerciseCase,
// observeCase, judge, teardownCase; its time bounds come from bounds.ts.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import path from 'node:path';
import tmp from 'tmp-promise';
import {
  ABORT_GRACE_MS, CASE_TIMEOUT_MS, LISTENING_CONNECT_MS, LISTENING_HOLD_MS, LOG_READ_MS, PKI_TIMEOUT_MS, PROBE_TIMEOUT_MS, SETTLE_MS, START_TIMEOUT_MS, STOP_TIMEOUT_MS,
} from './bounds.ts';
import type { CaseContext, CaseDefinition, Check, SetupOverrides, TlsLabel } from './case.ts';
import { SecureContexts } from '../probe/contexts.ts';
import { HarnessError, isHarnessError, messageOf } from '../errors.ts';
import { expectedFailure, type Expectations, NO_EXPECTATIONS } from './expectations.ts';
import { readSettledLogs, waitForLog } from '../probe/logs.ts';
import { leaseKeys, stoppedKeysSettled } from '../pki/key-pool.ts';
import { holdSpawner } from '../pki/spawner.ts';
import { replayScript, shellQuote } from '../pki/openssl.ts';
import { PkiBuilder, type BuildOptions, type BuiltPki } from '../pki/pki.ts';
import { captureClientHello, describeObservation, observationSentence, probe, sendRaw, type ProbeOptions, type ProbeRequest } from '../probe/probe.ts';
import { sampleServer } from './resources.ts';
import { responderUrl, startResponderFor, type OcspResponder } from '../pki/ocsp-responder.ts';
import { breakTrustMaterial } from '../pki/trust-material.ts';
import type { Observation, RunningServer, ServerAdapter, ServerSetup, TlsVersion } from '../types.ts';
import { aboutOf, type CaseResult, type ServerProfile, type Verdict } from './results.ts';
import { startUpstream, type Upstream } from '../probe/upstream.ts';
import { makeOwnDir, readOwnFile } from './own-files.ts';

export type { CaseResult, ServerProfile, Verdict } from './results.ts';

/** Options of one run of the catalogue. */
export interface RunOptions {
  adapter: ServerAdapter;
  cases: readonly CaseDefinition[];
  tls?: readonly TlsVersion[];
  expectations?: Expectations;
  /** How many case runs overlap; default 4. */
  concurrency?: number;
  /** Aborts the run: no new case starts, running ones are cleaned up. */
  signal?: AbortSignal;
  /** Called as each result is ready (in completion order). */
  onResult?: (result: CaseResult) => void;
  /** Bound on starting a server; default 15 s. */
  startTimeoutMs?: number;
  /** Bound on stopping a server; default 10 s. */
  stopTimeoutMs?: number;
  /** Bound on one case under one TLS version, server start to verdict (a case's own timeoutMs wins); default 30 s. */
  caseTimeoutMs?: number;
  /** Bound on one probe connection; default 5 s. */
  probeTimeoutMs?: number;
  /** Policy-level failures fail (instead of warning). */
  strict?: boolean;
  /** What the server speaks, when already known; false skips learning it (every version assumed). Default: learnt first. */
  profile?: ServerProfile | false;
  /** Called once the server's TLS versions are known (before any case runs). */
  onProfile?: (profile: ServerProfile) => void;
  /** Which runs of a case to carry out (default all of runLabels); 'once' cases are asked with label 'once'. */
  select?: (def: CaseDefinition, label: TlsLabel | 'once') => boolean;
}

export { CASE_TIMEOUT_MS, PROBE_TIMEOUT_MS, START_TIMEOUT_MS, STOP_TIMEOUT_MS };
/** Failed starts, with none succeeded, after which the server is taken as unable to start at all. */
const NEVER_STARTED_AFTER = 3;

/** Runs every case under every asked TLS version; results come back in catalogue order. */
export async function runCases(opts: RunOptions): Promise<CaseResult[]> {
  const versions = opts.tls ?? ['1.2', '1.3'];
  // Slow keys start generating now, beside the quick cases, instead of inside the case that needs them.
  // openssl starts from a small helper while the run lasts; it ends with the run.
  const releaseSpawner = holdSpawner();
  const releaseKeys = leaseKeys(opts.cases.flatMap((def) => (def.requires ?? []).some((c) => !opts.adapter.capabilities.includes(c)) ? [] : declarePki(def).pooledKeys()));
  try {
    // The version check's start is the run's first: a server that cannot start at all ends the run there, after one bound.
    const starts: StartTally = { ok: 0, failed: 0, first: undefined, limit: NEVER_STARTED_AFTER };
    const profile = opts.profile === false ? undefined : opts.profile ?? await learnServer(opts, starts).catch((error: unknown) => {
      if (error instanceof Interrupted) throw new HarnessError('ERR_MTLS_INTERRUPTED', 'the run was interrupted', 'run it again');
      throw error;
    });
    if (profile) opts.onProfile?.(profile);
    return await runTasks(opts, versions, profile, starts);
  } finally {
    releaseKeys();
    // A generation this release stopped ends (openssl gone, temp dir removed) before the run does.
    await stoppedKeysSettled();
    await releaseSpawner();
  }
}

/** runCases once the server's TLS versions are known. */
async function runTasks(opts: RunOptions, versions: readonly TlsVersion[], profile: ServerProfile | undefined, starts: StartTally): Promise<CaseResult[]> {
  // One task per case: its TLS versions run one after the other on one PKI.
  const tasks: { def: CaseDefinition; runs: TlsLabel[]; first: number }[] = [];
  let slots = 0;
  for (const def of opts.cases) {
    const runs = runLabels(def, versions, profile).filter((label) => opts.select?.(def, def.tls === 'once' ? 'once' : label) ?? true);
    if (runs.length === 0) continue;
    // A case that needs a PKI per version gains nothing from running its versions in turn: they go in parallel.
    const groups = def.pkiPerRun === true ? runs.map((tls) => [tls]) : [runs];
    for (const group of groups) {
      tasks.push({ def, runs: group, first: slots });
      slots += group.length;
    }
  }
  const results: CaseResult[] = new Array<CaseResult>(slots);
  // A fatal fault or the caller's abort stops every running case, not only the next one.
  const stop = new AbortController();
  const onAbort = (): void => { stop.abort(opts.signal?.reason); };
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  // The version check's start counts as one of the tries.
  starts.limit = Math.min(NEVER_STARTED_AFTER, slots + (opts.profile === undefined ? 1 : 0));
  const { profile: _given, ...rest } = opts;
  const caseOpts: CaseRunOptions = { ...rest, signal: stop.signal, starts, ...(profile ? { profile } : {}) };
  // Longest first, so the slow cases overlap the quick ones instead of trailing them; results keep catalogue order.
  const order = tasks.map((_, i) => i).sort((a, b) => Number(tasks[b]?.def.slow === true) - Number(tasks[a]?.def.slow === true));
  let next = 0;
  let fatal: unknown;
  const worker = async (): Promise<void> => {
    while (fatal === undefined && !stop.signal.aborted) {
      const index = order[next++];
      const task = index === undefined ? undefined : tasks[index];
      if (!task || index === undefined) return;
      try {
        await runCaseVersions(task.def, task.runs, caseOpts, (i, result) => {
          results[task.first + i] = result;
          opts.onResult?.(result);
        });
      } catch (error) {
        if (!(error instanceof Interrupted)) fatal ??= error;
        stop.abort(error);
      }
    }
  };
  const width = Math.max(1, Math.min(opts.concurrency ?? 4, tasks.length));
  try {
    await Promise.all(Array.from({ length: width }, worker));
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (fatal !== undefined) throw fatal instanceof Error ? fatal : new Error(messageOf(fatal));
  if (opts.signal?.aborted) throw new HarnessError('ERR_MTLS_INTERRUPTED', 'the run was interrupted', 'run it again');
  return results;
}

/** Server starts so far in one run, to tell a server that cannot start at all from one that hung once. */
interface StartTally {
  ok: number;
  failed: number;
  first: string | undefined;
  /** The first failure itself (the adapter's own error, for --debug) and the advice that fits it. */
  firstCause?: unknown;
  firstHint?: string;
  limit: number;
}

/** What runCase needs beyond RunOptions when it runs inside runCases. */
interface CaseRunOptions extends Omit<RunOptions, 'profile'> {
  starts?: StartTally;
  profile?: ServerProfile;
}

/** The runs of a case under the selected versions: one per version for 'both', the best spoken one for 'once', else one with its label. */
export function runLabels(def: Pick<CaseDefinition, 'tls'>, versions: readonly TlsVersion[], profile?: ServerProfile): TlsLabel[] {
  const tls = def.tls ?? 'both';
  if (tls === 'both') return [...versions];
  if (tls === 'once') {
    const spoken = versions.filter((v) => profile === undefined || profile.versions.includes(v));
    return [spoken.includes('1.3') ? '1.3' : spoken[0] ?? (versions.includes('1.3') ? '1.3' : versions[0] ?? '1.3')];
  }
  if (tls === '1.2' || tls === '1.3') return versions.includes(tls) ? [tls] : [];
  return [tls];
}

/** The TLS version a run's context probes with by default. */
function contextVersion(label: TlsLabel, profile: ServerProfile | undefined): TlsVersion {
  if (label === '1.2' || label === '1.3') return label;
  return profile?.versions.includes('1.3') === false && profile.versions.includes('1.2') ? '1.2' : '1.3';
}

/** Why a run cannot be judged on this server's TLS versions, or undefined when it can. */
function versionGap(label: TlsLabel, profile: ServerProfile | undefined, server: string): string | undefined {
  if (!profile) return undefined;
  const needs: TlsVersion[] = label === '1.2+1.3' ? ['1.2', '1.3'] : label === '1.0-1.1' ? [] : [label];
  const missing = needs.filter((v) => !profile.versions.includes(v));
  if (missing.length === 0) return undefined;
  return `not applicable: ${server} does not serve a valid client under ${missing.map((v) => `TLS ${v} (${profile.refused[v] ?? 'refused'})`).join(' or ')}, so this run has no version to test`;
}

/** The control client the suite adds to every case's PKI (issued by the company root, built when first needed). */
export const CONTROL = 'control';

/**
 * Learns which TLS versions the server serves a valid client on: one start with a plain PKI and the
 * control client under TLS 1.2 and 1.3. Undefined when the server did not start (the cases report that).
 */
export async function learnServer(opts: RunOptions, starts?: StartTally): Promise<ServerProfile | undefined> {
  const seen: Partial<Record<TlsVersion, Observation>> = {};
  let answer: string | undefined;
  const def: CaseDefinition = {
    id: 'suite::tls-versions', title: 'serves a valid client (which TLS versions the server speaks)', family: 'protocol', severity: 'critical',
    tls: '1.2+1.3', expected: 'accept', control: 'same', why: 'Learnt before the cases run.',
    pki: (b, { root }) => { b.leaf(CONTROL, { issuer: root, cn: 'conformance-control' }); },
    run: async (t) => {
      await Promise.all((['1.2', '1.3'] as const).map(async (tls) => {
        let obs = await t.probe(CONTROL, undefined, { tls });
        // A probe that failed on our side (a timeout of a slow first handshake) says nothing about the version: once more.
        if (obs.outcome === 'error' && !/^not TLS|chose a TLS version/.test(obs.error ?? '')) obs = await t.probe(CONTROL, undefined, { tls });
        seen[tls] = obs;
      }));
      const v12 = seen['1.2'];
      const v13 = seen['1.3'];
      if (v12?.outcome !== 'accepted' && v13?.outcome !== 'accepted') {
        const raw = await sendRaw({ port: t.server.port, chunks: [await captureClientHello('1.3')], timeoutMs: opts.probeTimeoutMs ?? PROBE_TIMEOUT_MS });
        answer = describeAnswer(raw.received, raw.ending);
      }
    },
  };
  const { profile: _, ...rest } = opts;
  const result = await runCase(def, '1.2+1.3', { ...rest, expectations: NO_EXPECTATIONS, ...(starts ? { starts } : {}) });
  if (seen['1.2'] === undefined && seen['1.3'] === undefined) return undefined;
  const profile: ServerProfile = { versions: [], refused: {} };
  for (const v of ['1.2', '1.3'] as const) {
    const obs = seen[v];
    // Only a refusal (or a version error) rules a version out; a probe that kept failing on our side leaves it to the cases.
    const unknown = obs?.outcome === 'error' && !/^not TLS|chose a TLS version/.test(obs.error ?? '');
    if (obs?.outcome === 'accepted' || unknown) profile.versions.push(v);
    else profile.refused[v] = obs ? describeObservation(obs) : result.message;
  }
  if (profile.versions.length === 0) {
    profile.notTls = answer?.startsWith('answered') === true;
    profile.cause = profile.notTls
      ? `the port does not answer TLS: to a ClientHello it ${answer ?? ''}`
      : `${opts.adapter.name} serves a valid client under neither TLS 1.2 (${profile.refused['1.2'] ?? '?'}) nor TLS 1.3 (${profile.refused['1.3'] ?? '?'}), so no refusal of it proves anything`;
  }
  return profile;
}

/** What a peer sent back to a ClientHello, in words. */
function describeAnswer(bytes: Buffer, ending: string): string {
  if (bytes.length === 0) return ending === 'open' ? 'said nothing and kept the connection open' : `said nothing and ${ending === 'reset' ? 'reset' : 'closed'} the connection`;
  const type = bytes[0];
  if ((type === 0x16 || type === 0x15) && bytes[1] === 0x03) return `a TLS ${type === 0x16 ? 'handshake' : 'alert'} record`;
  const text = bytes.subarray(0, 60).toString('latin1').replace(/[^\x20-\x7e]/g, '.');
  return `answered ${bytes.length} bytes that are not a TLS record: ${JSON.stringify(text)}`;
}

/** Thrown inside a case when the run is aborted; the case yields no result. */
class Interrupted extends Error {}

/** Settles with `promise`, or rejects when `signal` aborts (with its reason, or an Interrupted). */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(abortReason(signal)); };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
      (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error instanceof Error ? error : new Error(messageOf(error))); },
    );
  });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof CaseTimeout ? reason : new Interrupted('interrupted');
}

/** Waits for `promise` to settle, at most `ms`; never rejects. */
async function settle(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!promise) return;
  await within(promise, ms, () => new Error('unsettled')).catch(() => undefined);
}

/** Bounds a promise; on timeout rejects with `what`, on `signal` at once (its timer goes either way). */
async function within<T>(promise: Promise<T>, ms: number, what: () => Error, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => {
      timer = setTimeout(() => { reject(what()); }, ms);
      if (signal) {
        onAbort = () => { reject(abortReason(signal)); };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      }
    })]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

class CaseTimeout extends Error {}

/** The two names of a vhost server (docs/contract.md, the `vhosts` capability). */
export const VHOSTS = { protected: 'protected.localhost', public: 'public.localhost' } as const;

/** The declared PKI of a case, with the company root and server leaf every case gets. */
export function declarePki(def: CaseDefinition): PkiBuilder {
  const b = new PkiBuilder();
  const root = b.ca('root', { cn: 'Acme Root CA' });
  // A vhost server has one certificate for both of its names.
  const vhostNames = def.setup?.vhosts === true ? { san: ['DNS:localhost', 'IP:127.0.0.1', `DNS:${VHOSTS.protected}`, `DNS:${VHOSTS.public}`] } : {};
  const server = b.leaf('server', { issuer: root, cn: 'localhost', role: 'server', ...vhostNames });
  def.pki?.(b, { root, server });
  // Issued by the first CA the server trusts for clients, named as the allow-list (if any) allows.
  const anchor = def.setup?.clientCa?.[0];
  if (!b.names().includes(CONTROL)) b.leaf(CONTROL, { issuer: anchor === undefined ? root : b.entity(anchor), cn: def.setup?.allowedClients?.[0] ?? 'conformance-control', deferred: true });
  if (def.run === undefined && !b.names().includes('client')) {
    throw new HarnessError('ERR_MTLS_PKI_SPEC', `case ${def.id} has no run function and declares no entity named 'client'`, 'declare a client or write a run function');
  }
  return b;
}

async function resolveSetup(pki: BuiltPki, serverDir: string, overrides: SetupOverrides | undefined, base?: ServerSetup): Promise<ServerSetup> {
  const clientCa = overrides?.clientCa ?? ['root'];
  const setup: ServerSetup = {
    dir: serverDir,
    host: '127.0.0.1',
    port: 0,
    tls: {
      cert: overrides?.serverChain ? await pki.bundle('server.chain.pem', ['server', ...overrides.serverChain]) : pki.cert('server').cert,
      key: pki.cert('server').key,
      clientCa: await pki.bundle('client-ca.pem', clientCa),
      ...(overrides?.crl ? { crl: await pki.bundle('crl-bundle.pem', overrides.crl) } : {}),
    },
    clientAuth: overrides?.clientAuth ?? base?.clientAuth ?? 'required',
    paths: overrides?.paths ?? base?.paths ?? { protected: '/' },
    canary: base?.canary ?? `canary-${randomBytes(12).toString('hex')}`,
  };
  if (setup.clientAuth !== 'required' || overrides?.vhosts === true) setup.publicCanary = base?.publicCanary ?? `public-${randomBytes(12).toString('hex')}`;
  if (overrides?.vhosts === true) setup.vhosts = { ...VHOSTS };
  if (base?.upstream) setup.upstream = base.upstream;
  const allowed = overrides?.allowedClients ?? base?.allowedClients;
  if (allowed) setup.allowedClients = allowed;
  const postHandshake = overrides?.postHandshakeAuth ?? base?.postHandshakeAuth;
  if (postHandshake !== undefined) setup.postHandshakeAuth = postHandshake;
  if (base?.ocsp) setup.ocsp = base.ocsp;
  return setup;
}

/** The curl command that reproduces a probe, paths relative to the case directory. */
export function curlCommand(client: string | null, tls: TlsVersion | 'legacy', request: ProbeRequest, pki: BuiltPki): string {
  const argv = ['curl', '--silent', '--show-error', '--include', '--cacert', 'root.pem'];
  if (client !== null) argv.push('--cert', path.basename(pki.cert(client).chain), '--key', `${client}.key`);
  if (tls === 'legacy') argv.push('--tlsv1.0', '--tls-max', '1.1');
  else argv.push(`--tlsv${tls}`, '--tls-max', tls);
  for (const [k, v] of Object.entries(request.headers ?? {})) argv.push('-H', `${k}: ${v}`);
  if (request.method && request.method !== 'GET') argv.push('-X', request.method);
  argv.push('--path-as-is');
  // $PORT stays outside single quotes so the shell expands it.
  return argv.map(shellQuote).join(' ') + ` --resolve "localhost:$PORT:127.0.0.1" "https://localhost:$PORT${request.path ?? '/'}"`;
}

/** A PKI built once for all TLS versions of one case. */
export interface SharedPki {
  dir: string;
  pki: BuiltPki;
  /** Whether this run is the one that reports the openssl work. */
  countOpenssl: boolean;
  /** The OCSP responder whose URL the PKI carries. */
  responder?: OcspResponder | undefined;
  /** The probes' client contexts, kept across the case's versions (same identities, same CA). */
  contexts: SecureContexts;
}

/** Runs one case under each TLS version in turn, on one PKI (a fresh one per version where the case asks for it). */
export async function runCaseVersions(def: CaseDefinition, all: readonly TlsLabel[], opts: CaseRunOptions, each: (index: number, result: CaseResult) => void): Promise<void> {
  const missing = (def.requires ?? []).some((c) => !opts.adapter.capabilities.includes(c));
  // Runs this server cannot be judged on (no TLS at all, a version it does not speak) are settled without a start.
  const runs: TlsLabel[] = [];
  const slots: number[] = [];
  for (const [i, tls] of all.entries()) {
    // A server that refuses a valid client under every version still runs its cases: accepting ones fail, refusing ones lack a control.
    const why = missing ? undefined : opts.profile?.notTls === true ? `error: ${opts.profile.cause ?? 'the port does not answer TLS'}`
      : opts.profile?.cause !== undefined ? undefined : versionGap(tls, opts.profile, opts.adapter.name);
    if (why === undefined) {
      runs.push(tls);
      slots.push(i);
    } else {
      each(i, unrunResult(def, tls, why.startsWith('error: ') ? 'error' : 'not-applicable', why));
    }
  }
  const eachRun = (i: number, result: CaseResult): void => { each(slots[i] ?? i, result); };
  if (runs.length < 2 || missing) {
    for (const [i, tls] of runs.entries()) eachRun(i, await runCase(def, tls, opts));
    return;
  }
  const dir = await tmp.dir({ prefix: 'mtls-case-', unsafeCleanup: true });
  let responder: OcspResponder | undefined;
  try {
    let pki: BuiltPki;
    try {
      const builder = declarePki(def);
      responder = await startResponderFor(builder, opts.signal);
      pki = await buildWithin(builder, dir.path, opts.signal, responder?.buildOptions);
      responder?.serve(pki);
    } catch {
      // Whatever went wrong, each run meets it again on its own and reports it as usual.
      for (const [i, tls] of runs.entries()) eachRun(i, await runCase(def, tls, opts));
      return;
    }
    const contexts = new SecureContexts();
    for (const [i, tls] of runs.entries()) eachRun(i, await runCase(def, tls, opts, { dir: dir.path, pki, countOpenssl: i === 0, responder, contexts }));
  } finally {
    await responder?.close();
    await dir.cleanup();
  }
}

/** A run settled without starting anything (a missing capability or TLS version, a server that is not TLS). */
function unrunResult(def: CaseDefinition, tls: TlsLabel, verdict: 'not-applicable' | 'error', message: string): CaseResult {
  return {
    id: def.id, title: def.title, family: def.family, severity: def.severity, core: def.core === true, about: aboutOf(def), tls, level: def.level ?? 'requirement', expected: def.expected,
    startedAt: new Date().toISOString(), outcome: verdict === 'error' ? 'error' : null, verdict, message, checks: [], evidence: verdict === 'error' ? { error: message.replace(/^error: /, '') } : {},
    pki: [], replay: '', openssl: { processes: 0, ms: 0 }, ms: 0,
  };
}

/** Builds a PKI within its own bound: harness time, never counted against the case. */
function buildWithin(builder: PkiBuilder, dir: string, signal: AbortSignal | undefined, options?: BuildOptions): Promise<BuiltPki> {
  const bound = AbortSignal.timeout(PKI_TIMEOUT_MS);
  const both = signal ? AbortSignal.any([signal, bound]) : bound;
  return within(builder.build(dir, both, options), PKI_TIMEOUT_MS, () => new HarnessError('ERR_MTLS_OVERLOADED',
    `building the PKI took more than ${PKI_TIMEOUT_MS / 1000} s: the machine is overloaded (harness time, not the server's)`, 'run again when the machine is less busy, or with a lower --concurrency'));
}

/** One case under one TLS version while it runs: what its stages read and add to. */
interface CaseRun {
  def: CaseDefinition;
  label: TlsLabel;
  /** The TLS version its probes use by default. */
  tls: TlsVersion;
  opts: CaseRunOptions;
  adapter: ServerAdapter;
  /** Bounds of this run: a server's start and stop, and the case itself. */
  bounds: { start: number; stop: number; case: number };
  builder: PkiBuilder;
  checks: Check[];
  notes: { label: string; observed: string }[];
  /** Cleanups, run in reverse order by teardownCase. */
  cleanups: (() => Promise<void>)[];
  /** Set once the PKI is built (or given). */
  pki?: BuiltPki;
  /** Set once the server has started. */
  server?: RunningServer;
  /** When the case's last probe came back: late log lines are waited for from there. */
  lastResponseAt: number;
  /** The case's own clock: aborts with a CaseTimeout once armed and run out, or with Interrupted when the run aborts. */
  clock: AbortController;
  /** How long teardown waits for a late start or an abandoned step; short once the run is being torn down. */
  grace: number;
  /** The latest step of the case; an abandoned step is given a moment to settle before its directory goes. */
  work?: Promise<unknown>;
  /** What the case is doing now, so a timeout can say what hung and for how long. */
  phase: { what: string; since: number };
  /** The clock's timer, once armed. */
  timer?: NodeJS.Timeout;
  /** Undoes the link from the run's signal to the clock. */
  unlink: () => void;
}

/** What prepareCase hands on: the case's directory, PKI, responder and upstream, and the server's setup. */
interface Prepared {
  dir: string;
  /** The server's own directory inside it. */
  serverDir: string;
  pki: BuiltPki;
  responder: OcspResponder | undefined;
  upstream: Upstream | undefined;
  setup: ServerSetup;
  /** The company root, PEM: what probes trust the server certificate with. */
  serverCa: string;
  /** The probes' client contexts: one per identity, CA and ciphers, for every version of the case. */
  contexts: SecureContexts;
}

/** What observeCase saw after the case body: the log excerpt, and an error that makes the observations no verdict. */
interface Observed {
  logLines: string[];
  failure: string | undefined;
}

/** Runs one case under one TLS version (or label). Throws only HarnessErrors that must end the run. */
export async function runCase(def: CaseDefinition, label: TlsLabel, opts: CaseRunOptions, shared?: SharedPki): Promise<CaseResult> {
  const started = performance.now();
  const base: ResultBase = {
    id: def.id, title: def.title, family: def.family, severity: def.severity, core: def.core === true, about: aboutOf(def), tls: label, level: def.level ?? 'requirement', expected: def.expected,
    startedAt: new Date().toISOString(),
  };
  const missing = (def.requires ?? []).filter((c) => !opts.adapter.capabilities.includes(c));
  if (missing.length > 0) return unrunResult(def, label, 'not-applicable', `not applicable: ${opts.adapter.name} does not declare ${missing.join(', ')}`);
  const run = openRun(def, label, opts);
  let failure: string | undefined;
  let fatal: HarnessError | Interrupted | undefined;
  try {
    const prepared = await prepareCase(run, shared);
    const server = await startServer(run, prepared);
    failure = await exerciseCase(run, prepared, server);
  } catch (error) {
    if (error instanceof Interrupted) fatal = error;
    else if (isHarnessError(error) && error.code !== 'ERR_MTLS_PKI_CHECK' && error.code !== 'ERR_MTLS_OVERLOADED') fatal = error;
    else failure = messageOf(error);
  } finally {
    clearTimeout(run.timer);
    run.unlink();
  }
  if (fatal !== undefined) {
    run.grace = ABORT_GRACE_MS;
    await teardownCase(run);
    throw fatal;
  }
  const observed = await observeCase(run, failure);
  const teardownError = await teardownCase(run);
  const result = judge(def, opts, base, run.checks, run.notes, observed.failure ?? teardownError, observed.logLines, run.pki, Math.round(performance.now() - started));
  // A shared PKI's openssl work is counted once, on the run that reports it.
  if (shared && !shared.countOpenssl) result.openssl = { processes: 0, ms: 0 };
  return result;
}

/** The state of a case run about to begin: its bounds, its clock linked to the run's signal, nothing acquired yet. */
function openRun(def: CaseDefinition, label: TlsLabel, opts: CaseRunOptions): CaseRun {
  const clock = new AbortController();
  const onRunAbort = (): void => { clock.abort(new Interrupted('interrupted')); };
  const run: CaseRun = {
    def, label, tls: contextVersion(label, opts.profile), opts, adapter: opts.adapter,
    bounds: { start: opts.startTimeoutMs ?? START_TIMEOUT_MS, stop: opts.stopTimeoutMs ?? STOP_TIMEOUT_MS, case: def.timeoutMs ?? opts.caseTimeoutMs ?? CASE_TIMEOUT_MS },
    builder: declarePki(def),
    checks: [], notes: [], cleanups: [], lastResponseAt: 0, clock, grace: SETTLE_MS,
    phase: { what: 'building the PKI', since: performance.now() },
    unlink: () => { opts.signal?.removeEventListener('abort', onRunAbort); },
  };
  if (opts.signal?.aborted) onRunAbort();
  opts.signal?.addEventListener('abort', onRunAbort, { once: true });
  return run;
}

/** Records what the case is doing now. */
function enter(run: CaseRun, what: string): void {
  run.phase = { what, since: performance.now() };
}

/** Awaits one step of the case, unless its clock runs out or the run aborts first. */
function step<T>(run: CaseRun, promise: Promise<T>): Promise<T> {
  run.work = promise;
  return unlessAborted(promise, run.clock.signal);
}

/** Starts the case's own clock: from here on the case's bound runs. */
function armClock(run: CaseRun): void {
  run.timer = setTimeout(() => {
    run.clock.abort(new CaseTimeout(`the case did not finish within ${run.bounds.case} ms: it hung while ${run.phase.what} (for ${Math.round(performance.now() - run.phase.since)} ms)`));
  }, run.bounds.case);
}

/** Stage 1: the temp dir, the OCSP responder and PKI (harness time), then — on the case's clock — the server's setup and upstream. */
async function prepareCase(run: CaseRun, shared: SharedPki | undefined): Promise<Prepared> {
  const { def, builder, clock } = run;
  if (clock.signal.aborted) throw abortReason(clock.signal);
  const tmpDir = shared ? { path: shared.dir, cleanup: () => Promise.resolve() } : await tmp.dir({ prefix: 'mtls-case-', unsafeCleanup: true });
  run.cleanups.push(async () => { await settle(run.work, run.grace); await tmpDir.cleanup(); });
  const responder = shared ? shared.responder : await step(run, startResponderFor(builder, clock.signal));
  if (responder && !shared) run.cleanups.push(() => responder.close());
  const pki = shared ? shared.pki : await step(run, buildWithin(builder, tmpDir.path, clock.signal, responder?.buildOptions));
  run.pki = pki;
  if (shared) responder?.reset();
  else responder?.serve(pki);
  armClock(run);
  const serverDir = path.join(tmpDir.path, shared ? `server-tls${run.tls}` : 'server');
  makeOwnDir(serverDir);
  let setup = await step(run, resolveSetup(pki, serverDir, def.setup));
  if (responder) setup.ocsp = { url: responderUrl(responder, def.setup?.ocsp) };
  let upstream: Upstream | undefined;
  if (def.setup?.upstream === true) {
    const starting = startUpstream(setup);
    // An upstream that starts after the case gave up is stopped too.
    run.cleanups.push(async () => { await (await starting.catch(() => undefined))?.stop(); });
    upstream = await step(run, starting);
    setup = { ...setup, upstream: { host: upstream.host, port: upstream.port } };
  }
  const serverCa = readOwnFile(pki.cert('root').cert);
  return { dir: tmpDir.path, serverDir, pki, responder, upstream, setup, serverCa, contexts: shared?.contexts ?? new SecureContexts() };
}

/**
 * A signal for one adapter start: aborted when the start is abandoned — its bound passed (the caller calls
 * `abandon`), the case timed out, or the run was aborted — so the adapter stops waiting and kills what it spawned.
 */
function startSignal(run: CaseRun): { signal: AbortSignal; abandon: () => void } {
  const abort = new AbortController();
  const abandon = (): void => {
    run.clock.signal.removeEventListener('abort', abandon);
    abort.abort();
  };
  if (run.clock.signal.aborted) abandon();
  else run.clock.signal.addEventListener('abort', abandon, { once: true });
  return { signal: abort.signal, abandon };
}

/** Calls adapter.start with a start signal; the signal stops following the case once the start settled. */
function startAdapter(run: CaseRun, setup: ServerSetup): { starting: Promise<RunningServer>; abandon: () => void } {
  const { signal, abandon } = startSignal(run);
  const starting = Promise.resolve().then(() => run.adapter.start(setup, { signal }));
  const unfollow = (): void => { run.clock.signal.removeEventListener('abort', abandon); };
  starting.then(unfollow, unfollow);
  return { starting, abandon };
}

/** Stage 2: the server under test, started within its bound; stopped at teardown however the start ends. */
async function startServer(run: CaseRun, prepared: Prepared): Promise<RunningServer> {
  const { adapter, bounds } = run;
  enter(run, `starting server ${adapter.name}`);
  const { starting, abandon } = startAdapter(run, prepared.setup);
  // A start that finishes after its timeout still gets stopped.
  run.cleanups.push(async () => {
    const late = await within(starting, run.grace, () => new Error('start never resolved')).catch(() => undefined);
    if (late && late !== run.server && typeof late.stop === 'function') await stopWithin(late, adapter.name, bounds.stop);
  });
  const server = await startWithin(starting, adapter.name, bounds.start, run.clock.signal, run.opts.starts).catch((error: unknown) => {
    abandon();
    throw error;
  });
  run.server = server;
  run.cleanups.push(() => stopWithin(server, adapter.name, bounds.stop));
  return server;
}

/** Stage 3: the case body's probes and checks, then the control client where a refusal needs one; returns an error that voids the run. */
async function exerciseCase(run: CaseRun, prepared: Prepared, running: RunningServer): Promise<string | undefined> {
  const { def, opts, adapter, checks, notes } = run;
  const served: Served = { here: false, onPeer: false, elsewhere: new WeakSet() };
  const ctx = caseContext(run, prepared, running, served);
  const body = def.run ?? (async (t: CaseContext) => {
    const obs = await t.probe('client');
    const what = `client 'client' requesting ${t.setup.paths.protected}`;
    if (def.expected === 'accept') t.expectServed(obs, what);
    else t.expectRefused(obs, what);
  });
  enter(run, 'running the case');
  await step(run, Promise.resolve().then(() => body(ctx)));
  // A refusal proves something only when this server, under this version, serves a valid client in this case run.
  if (!served.here && !(def.control === 'peer' && served.onPeer) && checks.some((c) => c.expected === 'reject' && c.ok)) {
    enter(run, 'probing the control client');
    const control = await step(run, controlProbe(def, ctx, prepared.pki, opts.profile?.cause));
    if (control.served) notes.push({ label: 'control', observed: control.text });
    else if (await isListening(running.port)) return control.text;
    else if (checks.some((c) => c.expected === 'alive')) checks.push({ label: 'the server keeps serving valid clients', expected: 'alive', ok: false, observed: `it stopped listening: ${control.text}` });
    else return `server ${adapter.name} stopped listening on 127.0.0.1:${running.port} during the case (it crashed or closed its listener); its observations are not a verdict`;
  }
  return undefined;
}

/** Whether a valid client was served in a case run: what makes its refusals mean something. */
interface Served {
  /** By this server instance under this run's version. */
  here: boolean;
  /** By a second instance of the server (startPeer) under this run's version: the control of fail-closed cases. */
  onPeer: boolean;
  /** Observations made against another server or under another version (a peer, a probe pinned to the other version). */
  elsewhere: WeakSet<Observation>;
}

/** The CaseContext a case body runs with: probes, checks, reloads and peers of this run, recorded in `run` and `served`. */
function caseContext(run: CaseRun, prepared: Prepared, running: RunningServer, served: Served): CaseContext {
  const { def, opts, adapter, tls, checks, notes, bounds } = run;
  const { pki: builtPki, responder, upstream, serverDir, serverCa, contexts } = prepared;
  const { elsewhere } = served;
  let setup = prepared.setup;

  const connect = (client: string | null, extra: Partial<ProbeOptions> = {}) => {
    const identity = client === null ? undefined : { cert: builtPki.cert(client).pem, key: '' };
    return (async () => {
      if (identity && client !== null) {
        identity.cert = readOwnFile(builtPki.cert(client).chain);
        identity.key = readOwnFile(builtPki.cert(client).key);
      }
      enter(run, `waiting for ${client === null ? 'a probe without a certificate' : `a probe with client '${client}'`} against 127.0.0.1:${running.port} (TLS ${extra.tls ?? tls})`);
      const result = await probe({ port: running.port, tls, serverCa, canary: setup.canary, timeoutMs: opts.probeTimeoutMs ?? PROBE_TIMEOUT_MS, contexts, ...(identity ? { identity } : {}), ...extra });
      run.lastResponseAt = performance.now();
      const here = (extra.port === undefined || extra.port === running.port) && (extra.tls ?? tls) === tls;
      if (here && result.observations.some((o) => o.outcome === 'accepted')) served.here = true;
      if (!here) for (const o of result.observations) elsewhere.add(o);
      if (!here && (extra.tls ?? tls) === tls && result.observations.some((o) => o.outcome === 'accepted')) served.onPeer = true;
      enter(run, 'judging the case');
      return result;
    })();
  };
  const commands = new Map<Observation, string>();
  let peers = 0;
  /** A second server's setup: its own directory and client-CA bundle, the case's responder, and any trust material broken on purpose. */
  const peerSetupFor = async (overrides: SetupOverrides): Promise<ServerSetup> => {
    const peerDir = path.join(prepared.dir, `peer-tls${tls}-${++peers}`);
    makeOwnDir(peerDir);
    const peerSetup = await resolveSetup(builtPki, peerDir, overrides, setup);
    peerSetup.tls.clientCa = await builtPki.bundle(`peer-tls${tls}-${peers}-client-ca.pem`, overrides.clientCa ?? ['root']);
    if (responder) peerSetup.ocsp = { url: responderUrl(responder, overrides.ocsp) };
    if (overrides.brokenMaterial) await breakTrustMaterial(peerSetup, overrides.brokenMaterial, builtPki.session);
    return peerSetup;
  };
  return {
    tls, versions: opts.profile?.versions ?? ['1.2', '1.3'], pki: builtPki, get setup() { return setup; }, server: running,
    connect,
    probe: async (client, request, extra = {}) => {
      const req = { path: setup.paths.protected, ...request };
      const result = await connect(client, { ...extra, requests: [req] });
      const obs = result.observations[0] ?? { outcome: 'error', error: 'no observation', canarySeen: false, ms: 0 };
      commands.set(obs, curlCommand(client, extra.tls ?? tls, req, builtPki));
      return obs;
    },
    expectServed: (obs, what) => {
      const ok = obs.outcome === 'accepted';
      // A served observation made by the case's own client (the wire-level one) counts as the control too, unless it was made elsewhere.
      if (ok && !elsewhere.has(obs) && (obs.protocol === undefined || obs.protocol === `TLSv${tls}`)) served.here = true;
      checks.push({ label: what, expected: 'accept', ok, observed: describeObservation(obs), observation: obs, ...cmd(commands, obs) });
    },
    expectRefused: (obs, what, preferred = def.preferredAlert) => {
      const ok = obs.outcome === 'rejected-handshake' || obs.outcome === 'rejected-http';
      const leaked = obs.canarySeen;
      const shown: Observation = leaked && obs.outcome === 'accepted' ? { ...obs, outcome: 'leaked' } : obs;
      const note = ok && preferred !== undefined && obs.alert !== preferred ? `a TLS server would ideally send alert ${preferred}` : undefined;
      checks.push({ label: what, expected: 'reject', ok: ok && !leaked, observed: describeObservation(shown), observation: shown, ...(note ? { note } : {}), ...cmd(commands, obs) });
    },
    expectLog: async (match, what, describe) => {
      enter(run, `waiting for a log line ${describe}`);
      const found = await waitForLog(running, match);
      enter(run, 'judging the case');
      checks.push({ label: what, expected: 'log', ok: found.line !== undefined, observed: found.line !== undefined ? `logged: ${found.line}` : `no log line ${describe} among ${found.lines.length} line${found.lines.length === 1 ? '' : 's'}` });
      return found.line;
    },
    check: (c) => { checks.push(c); },
    note: (what, observed) => { notes.push({ label: what, observed }); },
    issue: async (name) => {
      enter(run, `issuing the certificate of ${name}`);
      await builtPki.issue(name);
      enter(run, 'running the case');
    },
    revokeAtResponder: (name) => new Promise<void>((resolve) => {
      if (!responder) throw new HarnessError('ERR_MTLS_PKI_SPEC', `case ${def.id} revokes ${name} at the OCSP responder but declares none`, 'declare one with b.ocsp()');
      responder.revoke(name);
      resolve();
    }),
    reload: async (overrides) => {
      if (!running.reload) throw new HarnessError('ERR_MTLS_ADAPTER_START', `case ${def.id} reloads but ${adapter.name} has no reload()`, "declare 'crl-reload' only with a reload function");
      // A mode change a server cannot make would pass for one it made: refused before anything is reloaded.
      if (overrides.clientAuth !== undefined && !adapter.capabilities.includes('auth-reload')) {
        throw new HarnessError('ERR_MTLS_ADAPTER_START', `case ${def.id} reloads the client-auth mode but ${adapter.name} does not declare 'auth-reload'`, "declare 'auth-reload' only when reload() applies change.clientAuth, or require it in the case");
      }
      setup = await resolveSetup(builtPki, serverDir, overrides, setup);
      enter(run, `reloading server ${adapter.name}`);
      if (overrides.clientAuth !== undefined) await running.reload(setup.tls, { clientAuth: setup.clientAuth });
      else await running.reload(setup.tls);
      enter(run, 'judging the case');
    },
    bundle: (file, names) => builtPki.bundle(file, names),
    startPeer: async (overrides) => {
      const peerSetup = await peerSetupFor(overrides);
      const { starting, abandon } = startAdapter(run, peerSetup);
      const peer = await within(starting, bounds.start, () => new HarnessError('ERR_MTLS_ADAPTER_START', `a second ${adapter.name} server did not start within ${bounds.start} ms (case ${def.id})`, 'check that two instances can run at once'))
        .catch((error: unknown) => { abandon(); throw error; });
      run.cleanups.push(() => within(peer.stop(), bounds.stop, () => new Error(`the second ${adapter.name} server did not stop within ${bounds.stop} ms`)));
      return peer;
    },
    ...(upstream ? { upstream } : {}),
    ...(adapter.forwarding ? { forwarding: adapter.forwarding } : {}),
    defer: (cleanup) => { run.cleanups.push(cleanup); },
    sampleResources: () => sampleServer(running),
    tryStartPeer: async (overrides) => {
      const peerSetup = await peerSetupFor(overrides);
      enter(run, `starting a second ${adapter.name} server that may refuse to start`);
      const { starting, abandon } = startAdapter(run, peerSetup);
      // Whenever it starts, even after the bound, it is stopped with the case.
      run.cleanups.push(async () => {
        const late = await within(starting, run.grace, () => new Error('start never resolved')).catch(() => undefined);
        if (late && typeof late.stop === 'function') await stopWithin(late, adapter.name, bounds.stop);
      });
      try {
        const peer = await within(starting, bounds.start, () => new StartFailure(`a second ${adapter.name} server neither started nor failed within ${bounds.start} ms`));
        enter(run, 'judging the case');
        return { server: peer };
      } catch (error) {
        abandon();
        enter(run, 'judging the case');
        return { startError: isHarnessError(error) ? error.message : messageOf(error).split('\n')[0] ?? '', hung: error instanceof StartFailure };
      }
    },
  };

}

/** Stage 4: what the server left behind — its settled log lines, and whether it died under a failed case (then no verdict). */
async function observeCase(run: CaseRun, failure: string | undefined): Promise<Observed> {
  const { server, checks, adapter } = run;
  let logLines: string[] = [];
  try {
    // Lines a server writes just after its response (an access log, a pipe) are waited for, briefly.
    if (server) logLines = await within(readSettledLogs(server, run.lastResponseAt), LOG_READ_MS, () => new Error(`logs() did not answer within ${LOG_READ_MS} ms`));
  } catch (error) {
    failure ??= messageOf(error);
  }
  // A failed case may have failed because the server died under it: that is an error, not a verdict on its TLS,
  // unless the case checks survival itself (robustness): then dying is the failure it looks for.
  const judgesSurvival = checks.some((c) => c.expected === 'alive');
  if (server && !judgesSurvival && (failure !== undefined || checks.some((c) => !c.ok)) && !(await isListening(server.port))) {
    failure ??= `server ${adapter.name} stopped listening on 127.0.0.1:${server.port} during the case (it crashed or closed its listener); its observations are not a verdict`;
  }
  return { logLines, failure };
}

/** Stage 6: every cleanup in reverse order, each even after one failed; the first error's message. */
function teardownCase(run: CaseRun): Promise<string | undefined> {
  return runTeardown(run.cleanups);
}

/**
 * True when a server listens on 127.0.0.1:port: it accepts a connection and keeps it open for `holdMs`
 * (a dying process's backlog accepts in the kernel and then resets).
 */
function isListening(port: number, holdMs = LISTENING_HOLD_MS, connectMs = LISTENING_CONNECT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let timer = setTimeout(() => { done(true); }, connectMs);
    function done(up: boolean): void { clearTimeout(timer); socket.destroy(); resolve(up); }
    socket.once('connect', () => { clearTimeout(timer); timer = setTimeout(() => { done(true); }, holdMs); });
    socket.once('error', (error: NodeJS.ErrnoException) => { done(error.code !== 'ECONNREFUSED' && error.code !== 'ECONNRESET'); });
    socket.once('end', () => { done(false); });
    socket.once('close', () => { done(false); });
  });
}

/** A start that failed or hung: the case's error, or the end of the run when the server has never started. */
class StartFailure extends Error {}
/** A start that did not resolve within its bound. */
class StartTimeout extends StartFailure {}

/** The advice that fits a failed start: a bound to raise only when the start ran out of time. */
function startHint(error: unknown, ms: number): string {
  if (error instanceof StartTimeout) return `check that it starts and listens on 127.0.0.1 (try it with --grep valid-client --debug), or raise --start-timeout (now ${ms} ms)`;
  if (isHarnessError(error) && error.hint !== undefined) return error.hint;
  if (error instanceof StartFailure) return 'resolve start(setup) to { port, logs(), stop() } once the server listens';
  return 'fix the adapter\'s start() (rerun with --debug to see where it threw)';
}

/** Waits for a server to start, bounded; checks what start() resolved to. */
async function startWithin(starting: Promise<RunningServer>, name: string, ms: number, signal: AbortSignal, starts: StartTally | undefined): Promise<RunningServer> {
  const begun = performance.now();
  try {
    const running = await within(starting, ms, () => new StartTimeout(`server ${name} did not start within ${ms} ms: start() never resolved`), signal);
    const shape = running as Partial<RunningServer> | null | undefined;
    if (typeof shape !== 'object' || shape === null || typeof shape.port !== 'number' || !Number.isInteger(shape.port) || shape.port <= 0 || shape.port > 65535
      || typeof shape.stop !== 'function' || typeof shape.logs !== 'function') {
      if (typeof shape?.stop === 'function') await stopWithin(running, name, STOP_TIMEOUT_MS).catch(() => undefined);
      throw new StartFailure(`server ${name}: start() resolved to ${describeValue(running)}, not a RunningServer with a port, logs() and stop()`);
    }
    if (starts) starts.ok += 1;
    return running;
  } catch (error) {
    if (error instanceof Interrupted || error instanceof CaseTimeout) throw error;
    const why = error instanceof StartFailure ? error.message
      : isHarnessError(error) ? error.message
        : `server ${name} failed to start after ${Math.round(performance.now() - begun)} ms: ${messageOf(error).split('\n')[0] ?? ''}`;
    if (starts) {
      starts.failed += 1;
      if (starts.first === undefined) {
        starts.first = why;
        starts.firstCause = error;
        starts.firstHint = startHint(error, ms);
      }
      // A start that ran out its bound before any start succeeded ends the run now: another try would double the wait.
      if (starts.ok === 0 && (starts.failed >= starts.limit || isHarnessError(error) || error instanceof StartTimeout)) {
        throw new HarnessError('ERR_MTLS_ADAPTER_START', `server ${name} never started: ${starts.first}`, starts.firstHint, { cause: starts.firstCause });
      }
    }
    throw new StartFailure(isHarnessError(error) ? error.oneLine() : why);
  }
}

/** Stops a server, bounded; the error says what hung and for how long. */
async function stopWithin(running: RunningServer, name: string, ms: number): Promise<void> {
  await within(Promise.resolve().then(() => running.stop()), ms, () => new Error(`server ${name} did not stop within ${ms} ms: stop() never resolved`));
}

function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== 'object') return typeof value;
  return `an object with ${Object.keys(value).join(', ') || 'no fields'}`;
}

function cmd(commands: Map<Observation, string>, obs: Observation): { command?: string } {
  const c = commands.get(obs);
  return c === undefined ? {} : { command: c };
}

/** Runs every teardown in reverse order; returns the first error's message. */
async function runTeardown(teardown: (() => Promise<void>)[]): Promise<string | undefined> {
  let first: string | undefined;
  for (const step of teardown.reverse()) {
    try {
      await step();
    } catch (error) {
      first ??= messageOf(error);
    }
  }
  teardown.length = 0;
  return first;
}

/** Probes the control client (issuing it first): on this server instance, or on a peer for fail-closed cases. */
async function controlProbe(def: CaseDefinition, ctx: CaseContext, pki: BuiltPki, cause: string | undefined): Promise<{ served: boolean; text: string }> {
  if (!pki.certs.has(CONTROL)) await pki.issue(CONTROL);
  let port = ctx.server.port;
  let where = 'the same server instance';
  if (def.control === 'peer') {
    port = (await ctx.startPeer(def.controlSetup ?? {})).port;
    where = 'a second instance of the server given sound trust material (this case makes the first refuse everyone by design)';
  }
  const obs = await ctx.probe(CONTROL, undefined, { port });
  if (obs.outcome === 'accepted') return { served: true, text: `a valid client ('${CONTROL}') was served by ${where} under TLS ${ctx.tls}, so the refusals are the server's judgement` };
  return { served: false, text: `the server refuses a valid client under TLS ${ctx.tls} as well (control client '${CONTROL}' on ${where}: ${describeObservation(obs)}), so the refusals of this case prove nothing${cause === undefined ? '' : ` (before the cases: ${cause})`}` };
}

type ResultBase = Pick<CaseResult, 'id' | 'title' | 'family' | 'severity' | 'core' | 'about' | 'tls' | 'level' | 'expected' | 'startedAt'>;

/** Stage 5: the verdict, from the checks, the case's level (--strict), the expectations file and any error that voids the run. */
export function judge(def: CaseDefinition, opts: CaseRunOptions, base: ResultBase, checks: Check[], notes: CaseResult['notes'] & object,
  failure: string | undefined, logLines: string[], pki: BuiltPki | undefined, ms: number): CaseResult {
  const failed = checks.find((c) => !c.ok);
  // A check of the case's own expectation made without a probe (a server that refused to start) speaks for the case.
  const unprobed = failed ? undefined : checks.find((c) => !c.observation && c.expected === def.expected);
  const deciding = failed ?? unprobed ?? checks.find((c) => c.observation) ?? checks[0];
  // Every result carries the outcome of the observation that decided it: the failed check's, else the first observed one.
  const obs = unprobed ? undefined : (failed?.observation ?? checks.find((c) => c.observation)?.observation);
  // A probe that failed on our side is an error, unless the check is about survival: a server that died under a robustness case failed it.
  const erred = failure !== undefined || (failed?.observation?.outcome === 'error' && failed.expected !== 'alive');
  let verdict: Verdict = erred ? 'error' : failed || checks.length === 0 ? 'fail' : 'pass';
  let message: string;
  if (failure !== undefined) message = `error: ${failure}`;
  else if (checks.length === 0) message = 'the case made no check';
  else if (failed) message = `${failed.label}: expected ${expectation(failed)}; ${failed.observation ? observationSentence(failed.observation, base.tls) : failed.observed}`;
  else message = `${deciding?.label ?? def.title}: ${deciding?.observed ?? 'ok'}${deciding?.note ? ` — note: ${deciding.note}` : ''}`;
  // A policy of the suite that the server does not follow is a warning, unless the run is strict.
  if (verdict === 'fail' && base.level === 'policy' && opts.strict !== true) verdict = 'warning';
  const reason = expectedFailure(opts.expectations ?? NO_EXPECTATIONS, def.id);
  if (reason !== undefined) {
    if (verdict === 'pass') {
      verdict = 'unexpected-pass';
      message = `passed, but the expectations file lists it as a known deviation ("${reason}"): remove the stale entry`;
    } else if (verdict === 'fail' || verdict === 'error' || verdict === 'warning') {
      verdict = 'expected-fail';
    }
  }
  const evidence: CaseResult['evidence'] = {};
  if (obs?.alert !== undefined) evidence.alert = obs.alert;
  if (obs?.status !== undefined) evidence.status = obs.status;
  if (obs?.error !== undefined) evidence.error = obs.error;
  if (failure !== undefined) evidence.error = failure;
  if (logLines.length > 0) evidence.logExcerpt = logLines.slice(-20);
  return {
    ...base,
    outcome: obs ? (obs.canarySeen && obs.outcome === 'accepted' && failed?.expected === 'reject' ? 'leaked' : obs.outcome) : failure !== undefined ? 'error' : null,
    verdict, message,
    ...(reason !== undefined ? { reason } : {}),
    checks: checks.map((c) => ({ ...c })),
    ...(notes.length > 0 ? { notes: notes.map((n) => ({ ...n })) } : {}),
    evidence,
    pki: pki ? [...pki.certs.values()].map((c) => ({ name: c.name, subject: c.subject, issuer: c.issuer, summary: c.summary }))
      .concat([...pki.crls.values()].map((c) => ({ name: c.name, subject: `CRL (${c.entries} entries)`, issuer: c.issuer, summary: `CRL of ${c.issuer}` }))) : [],
    replay: pki ? replayScript(pki.session.steps) : '',
    openssl: { processes: pki?.session.processes ?? 0, ms: Math.round(pki?.session.ms ?? 0) },
    ms,
  };
}

function expectation(check: Check): string {
  switch (check.expected) {
    case 'accept': return 'the client to be served the protected resource';
    case 'reject': return 'the client to be refused';
    case 'log': return 'a log line for the accepted request';
    case 'no-log': return 'no such log line';
    case 'alive': return 'the server to keep serving valid clients';
  }
}
