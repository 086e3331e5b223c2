// Runs cases against a server adapter: for every case and TLS version a fresh
// temp dir, PKI and server; probes; verdicts; cleanup in reverse order even when
// a step fails or hangs. Independent runs overlap in a bounded pool.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import tmp from 'tmp-promise';
import type { CaseContext, CaseDefinition, Check, SetupOverrides } from './case.ts';
import { HarnessError, isHarnessError, messageOf } from './errors.ts';
import { expectedFailure, type Expectations, NO_EXPECTATIONS } from './expectations.ts';
import { waitForLog } from './logs.ts';
import { replayScript, shellQuote } from './openssl.ts';
import { PkiBuilder, type BuiltPki } from './pki.ts';
import { describeObservation, observationSentence, probe, type ProbeOptions, type ProbeRequest } from './probe.ts';
import { responderUrl, startResponderFor, type OcspResponder } from './ocsp-responder.ts';
import { breakTrustMaterial } from './trust-material.ts';
import type { Observation, Outcome, RunningServer, ServerAdapter, ServerSetup, TlsVersion } from './types.ts';

/** How one run of a case ended. */
export type Verdict = 'pass' | 'fail' | 'not-applicable' | 'expected-fail' | 'unexpected-pass' | 'error';

/** One case under one TLS version, judged; the unit of every report. */
export interface CaseResult {
  id: string;
  title: string;
  family: CaseDefinition['family'];
  severity: CaseDefinition['severity'];
  core: boolean;
  tls: TlsVersion;
  expected: 'accept' | 'reject';
  /** The outcome of the deciding probe. */
  outcome: Outcome | null;
  verdict: Verdict;
  /** One sentence for the console and JUnit: what was expected and what was observed. */
  message: string;
  /** The expectations-file reason when this is a known deviation. */
  reason?: string;
  checks: Check[];
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
  /** Bound on one case under one TLS version, PKI to verdict (a case's own timeoutMs wins); default 30 s. */
  caseTimeoutMs?: number;
}

/** Default bound on starting a server. */
export const START_TIMEOUT_MS = 15_000;
/** Default bound on stopping a server. */
export const STOP_TIMEOUT_MS = 10_000;
/** Default bound on one case. */
export const CASE_TIMEOUT_MS = 30_000;
/** How long teardown waits for an abandoned case body to settle before removing its directory. */
const SETTLE_MS = 1_000;
/** The same wait when the run is interrupted or has failed: the process reaper ends what is still starting. */
const ABORT_GRACE_MS = 250;
/** Failed starts, with none succeeded, after which the server is taken as unable to start at all. */
const NEVER_STARTED_AFTER = 3;

/** Runs every case under every asked TLS version; results come back in catalogue order. */
export async function runCases(opts: RunOptions): Promise<CaseResult[]> {
  const versions = opts.tls ?? ['1.2', '1.3'];
  // One task per case: its TLS versions run one after the other on one PKI.
  const tasks: { def: CaseDefinition; runs: TlsVersion[]; first: number }[] = [];
  let slots = 0;
  for (const def of opts.cases) {
    const runs: TlsVersion[] = def.tls === 'once' ? [versions.includes('1.3') ? '1.3' : versions[0] ?? '1.3'] : [...versions];
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
  const starts: StartTally = { ok: 0, failed: 0, first: undefined, limit: Math.min(NEVER_STARTED_AFTER, slots) };
  const caseOpts: CaseRunOptions = { ...opts, signal: stop.signal, starts };
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
  limit: number;
}

/** What runCase needs beyond RunOptions when it runs inside runCases. */
interface CaseRunOptions extends RunOptions {
  starts?: StartTally;
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

/** The declared PKI of a case, with the company root and server leaf every case gets. */
export function declarePki(def: CaseDefinition): PkiBuilder {
  const b = new PkiBuilder();
  const root = b.ca('root', { cn: 'Acme Root CA' });
  const server = b.leaf('server', { issuer: root, cn: 'localhost', role: 'server' });
  def.pki?.(b, { root, server });
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
  if (setup.clientAuth === 'per-path') setup.publicCanary = base?.publicCanary ?? `public-${randomBytes(12).toString('hex')}`;
  const allowed = overrides?.allowedClients ?? base?.allowedClients;
  if (allowed) setup.allowedClients = allowed;
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
}

/** Runs one case under each TLS version in turn, on one PKI (a fresh one per version where the case asks for it). */
export async function runCaseVersions(def: CaseDefinition, runs: readonly TlsVersion[], opts: CaseRunOptions, each: (index: number, result: CaseResult) => void): Promise<void> {
  const missing = (def.requires ?? []).some((c) => !opts.adapter.capabilities.includes(c));
  if (runs.length < 2 || missing) {
    for (const [i, tls] of runs.entries()) each(i, await runCase(def, tls, opts));
    return;
  }
  const dir = await tmp.dir({ prefix: 'mtls-case-', unsafeCleanup: true });
  let responder: OcspResponder | undefined;
  try {
    let pki: BuiltPki;
    try {
      const builder = declarePki(def);
      responder = await startResponderFor(builder, opts.signal);
      pki = await builder.build(dir.path, opts.signal, responder?.buildOptions);
      responder?.serve(pki);
    } catch {
      // Whatever went wrong, each run meets it again on its own and reports it as usual.
      for (const [i, tls] of runs.entries()) each(i, await runCase(def, tls, opts));
      return;
    }
    for (const [i, tls] of runs.entries()) each(i, await runCase(def, tls, opts, { dir: dir.path, pki, countOpenssl: i === 0, responder }));
  } finally {
    await responder?.close();
    await dir.cleanup();
  }
}

/** Runs one case under one TLS version. Throws only HarnessErrors that must end the run. */
export async function runCase(def: CaseDefinition, tls: TlsVersion, opts: CaseRunOptions, shared?: SharedPki): Promise<CaseResult> {
  const started = performance.now();
  const adapter = opts.adapter;
  const base = {
    id: def.id, title: def.title, family: def.family, severity: def.severity, core: def.core === true, tls, expected: def.expected,
    startedAt: new Date().toISOString(),
  };
  const missing = (def.requires ?? []).filter((c) => !adapter.capabilities.includes(c));
  if (missing.length > 0) {
    return { ...base, outcome: null, verdict: 'not-applicable', message: `not applicable: ${adapter.name} does not declare ${missing.join(', ')}`, checks: [], evidence: {}, pki: [], replay: '', openssl: { processes: 0, ms: 0 }, ms: 0 };
  }
  const builder = declarePki(def);
  const checks: Check[] = [];
  const teardown: (() => Promise<void>)[] = [];
  let pki: BuiltPki | undefined;
  let server: RunningServer | undefined;
  let logLines: string[] = [];
  let failure: string | undefined;
  const startTimeout = opts.startTimeoutMs ?? START_TIMEOUT_MS;
  const stopTimeout = opts.stopTimeoutMs ?? STOP_TIMEOUT_MS;
  const caseTimeout = def.timeoutMs ?? opts.caseTimeoutMs ?? CASE_TIMEOUT_MS;
  // What the case is doing now, so a timeout can say what hung and for how long.
  const phase = { what: 'building the PKI', since: performance.now() };
  const enter = (what: string): void => { phase.what = what; phase.since = performance.now(); };
  // The case's own clock: runs out with a CaseTimeout, or stops at once when the run is aborted.
  const clock = new AbortController();
  const timer = setTimeout(() => {
    clock.abort(new CaseTimeout(`the case did not finish within ${caseTimeout} ms: it hung while ${phase.what} (for ${Math.round(performance.now() - phase.since)} ms)`));
  }, caseTimeout);
  const onRunAbort = (): void => { clock.abort(new Interrupted('interrupted')); };
  if (opts.signal?.aborted) onRunAbort();
  opts.signal?.addEventListener('abort', onRunAbort, { once: true });
  // The latest step of the case; an abandoned step is given a moment to settle before its directory goes.
  let work: Promise<unknown> | undefined;
  // How long teardown waits for a late start or an abandoned step; short once the run is being torn down.
  let grace = SETTLE_MS;
  const step = <T>(promise: Promise<T>): Promise<T> => { work = promise; return unlessAborted(promise, clock.signal); };
  let fatal: HarnessError | Interrupted | undefined;
  try {
    if (clock.signal.aborted) throw abortReason(clock.signal);
    const tmpDir = shared ? { path: shared.dir, cleanup: () => Promise.resolve() } : await tmp.dir({ prefix: 'mtls-case-', unsafeCleanup: true });
    teardown.push(async () => { await settle(work, grace); await tmpDir.cleanup(); });
    const responder = shared ? shared.responder : await step(startResponderFor(builder, clock.signal));
    if (responder && !shared) teardown.push(() => responder.close());
    pki = shared ? shared.pki : await step(builder.build(tmpDir.path, clock.signal, responder?.buildOptions));
    if (shared) await responder?.reset();
    else responder?.serve(pki);
    const serverDir = path.join(tmpDir.path, shared ? `server-tls${tls}` : 'server');
    await mkdir(serverDir, { mode: 0o700 });
    let setup = await step(resolveSetup(pki, serverDir, def.setup));
    if (responder) setup.ocsp = { url: responderUrl(responder, def.setup?.ocsp) };
    const serverCa = await readFile(pki.cert('root').cert, 'utf8');
    enter(`starting server ${adapter.name}`);
    const starting = Promise.resolve().then(() => adapter.start(setup));
    // A start that finishes after its timeout still gets stopped.
    teardown.push(async () => {
      const late = await within(starting, grace, () => new Error('start never resolved')).catch(() => undefined);
      if (late && late !== server && typeof late.stop === 'function') await stopWithin(late, adapter.name, stopTimeout);
    });
    server = await startWithin(starting, adapter.name, startTimeout, clock.signal, opts.starts);
    const running = server;
    teardown.push(() => stopWithin(running, adapter.name, stopTimeout));
    const builtPki = pki;

    const connect = (client: string | null, extra: Partial<ProbeOptions> = {}) => {
      const identity = client === null ? undefined : { cert: builtPki.cert(client).pem, key: '' };
      return (async () => {
        if (identity && client !== null) {
          identity.cert = await readFile(builtPki.cert(client).chain, 'utf8');
          identity.key = await readFile(builtPki.cert(client).key, 'utf8');
        }
        enter(`waiting for ${client === null ? 'a probe without a certificate' : `a probe with client '${client}'`} against 127.0.0.1:${running.port} (TLS ${extra.tls ?? tls})`);
        const result = await probe({ port: running.port, tls, serverCa, canary: setup.canary, ...(identity ? { identity } : {}), ...extra });
        enter('judging the case');
        return result;
      })();
    };
    const label = (client: string | null, request: ProbeRequest | undefined): string =>
      `${client === null ? 'a client without a certificate' : `client '${client}'`} requesting ${request?.path ?? setup.paths.protected}`;
    const commands = new Map<Observation, string>();
    let peers = 0;
    /** A second server's setup: its own directory and client-CA bundle, the case's responder, and any trust material broken on purpose. */
    const peerSetupFor = async (overrides: SetupOverrides): Promise<ServerSetup> => {
      const peerDir = path.join(tmpDir.path, `peer-tls${tls}-${++peers}`);
      await mkdir(peerDir, { mode: 0o700 });
      const peerSetup = await resolveSetup(builtPki, peerDir, overrides, setup);
      peerSetup.tls.clientCa = await builtPki.bundle(`peer-tls${tls}-${peers}-client-ca.pem`, overrides.clientCa ?? ['root']);
      if (responder) peerSetup.ocsp = { url: responderUrl(responder, overrides.ocsp) };
      if (overrides.brokenMaterial) await breakTrustMaterial(peerSetup, overrides.brokenMaterial, builtPki.session);
      return peerSetup;
    };
    const ctx: CaseContext = {
      tls, pki: builtPki, get setup() { return setup; }, server: running,
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
        enter(`waiting for a log line ${describe}`);
        const found = await waitForLog(running, match);
        enter('judging the case');
        checks.push({ label: what, expected: 'log', ok: found.line !== undefined, observed: found.line !== undefined ? `logged: ${found.line}` : `no log line ${describe} among ${found.lines.length} lines` });
        return found.line;
      },
      check: (c) => { checks.push(c); },
      revokeAtResponder: async (name) => {
        if (!responder) throw new HarnessError('ERR_MTLS_PKI_SPEC', `case ${def.id} revokes ${name} at the OCSP responder but declares none`, 'declare one with b.ocsp()');
        await responder.revoke(name);
      },
      reload: async (overrides) => {
        if (!running.reload) throw new HarnessError('ERR_MTLS_ADAPTER_START', `case ${def.id} reloads but ${adapter.name} has no reload()`, "declare 'crl-reload' only with a reload function");
        setup = await resolveSetup(builtPki, serverDir, overrides, setup);
        enter(`reloading server ${adapter.name}`);
        await running.reload(setup.tls);
        enter('judging the case');
      },
      bundle: (file, names) => builtPki.bundle(file, names),
      startPeer: async (overrides) => {
        const peerSetup = await peerSetupFor(overrides);
        const peer = await within(adapter.start(peerSetup), startTimeout, () => new HarnessError('ERR_MTLS_ADAPTER_START', `a second ${adapter.name} server did not start within ${startTimeout} ms (case ${def.id})`, 'check that two instances can run at once'));
        teardown.push(() => within(peer.stop(), stopTimeout, () => new Error(`the second ${adapter.name} server did not stop within ${stopTimeout} ms`)));
        return peer;
      },
      tryStartPeer: async (overrides) => {
        const peerSetup = await peerSetupFor(overrides);
        enter(`starting a second ${adapter.name} server that may refuse to start`);
        const starting = Promise.resolve().then(() => adapter.start(peerSetup));
        // Whenever it starts, even after the bound, it is stopped with the case.
        teardown.push(async () => {
          const late = await within(starting, grace, () => new Error('start never resolved')).catch(() => undefined);
          if (late && typeof late.stop === 'function') await stopWithin(late, adapter.name, stopTimeout);
        });
        try {
          const peer = await within(starting, startTimeout, () => new StartFailure(`a second ${adapter.name} server neither started nor failed within ${startTimeout} ms`));
          enter('judging the case');
          return { server: peer };
        } catch (error) {
          enter('judging the case');
          return { startError: isHarnessError(error) ? error.message : messageOf(error).split('\n')[0] ?? '', hung: error instanceof StartFailure };
        }
      },
      sampleResources: async () => {
        const fds = await readdir('/proc/self/fd').then((entries) => entries.length, () => -1);
        const memory = process.memoryUsage();
        return { fds, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed };
      },
    };

    const body = def.run ?? (async (t: CaseContext) => {
      const obs = await t.probe('client');
      if (def.expected === 'accept') t.expectServed(obs, label('client', undefined));
      else t.expectRefused(obs, label('client', undefined));
    });
    enter('running the case');
    await step(Promise.resolve().then(() => body(ctx)));
  } catch (error) {
    if (error instanceof Interrupted) fatal = error;
    else if (isHarnessError(error) && error.code !== 'ERR_MTLS_PKI_CHECK') fatal = error;
    else failure = messageOf(error);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onRunAbort);
  }
  if (fatal !== undefined) {
    grace = ABORT_GRACE_MS;
    await runTeardown(teardown);
    throw fatal;
  }
  try {
    if (server) logLines = await within(server.logs(), 2_000, () => new Error('logs() did not answer within 2000 ms'));
  } catch (error) {
    failure ??= messageOf(error);
  }
  // A failed case may have failed because the server died under it: that is an error, not a verdict on its TLS,
  // unless the case checks survival itself (robustness): then dying is the failure it looks for.
  const judgesSurvival = checks.some((c) => c.expected === 'alive');
  if (server && !judgesSurvival && (failure !== undefined || checks.some((c) => !c.ok)) && !(await isListening(server.port))) {
    failure ??= `server ${adapter.name} stopped listening on 127.0.0.1:${server.port} during the case (it crashed or closed its listener); its observations are not a verdict`;
  }
  const teardownError = await runTeardown(teardown);
  if (teardownError !== undefined) failure ??= teardownError;
  const result = judge(def, tls, opts.expectations ?? NO_EXPECTATIONS, base, checks, failure, logLines, pki, Math.round(performance.now() - started));
  // A shared PKI's openssl work is counted once, on the run that reports it.
  if (shared && !shared.countOpenssl) result.openssl = { processes: 0, ms: 0 };
  return result;
}

/**
 * True when a server listens on 127.0.0.1:port: it accepts a connection and keeps it open for `holdMs`
 * (a dying process's backlog accepts in the kernel and then resets).
 */
function isListening(port: number, holdMs = 250, connectMs = 1_000): Promise<boolean> {
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

/** Waits for a server to start, bounded; checks what start() resolved to. */
async function startWithin(starting: Promise<RunningServer>, name: string, ms: number, signal: AbortSignal, starts: StartTally | undefined): Promise<RunningServer> {
  const begun = performance.now();
  try {
    const running = await within(starting, ms, () => new StartFailure(`server ${name} did not start within ${ms} ms: start() never resolved`), signal);
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
      : isHarnessError(error) ? error.oneLine()
        : `server ${name} failed to start after ${Math.round(performance.now() - begun)} ms: ${messageOf(error).split('\n')[0] ?? ''}`;
    if (starts) {
      starts.failed += 1;
      starts.first ??= why;
      if (starts.ok === 0 && (starts.failed >= starts.limit || isHarnessError(error))) {
        throw new HarnessError('ERR_MTLS_ADAPTER_START', `server ${name} never started: ${starts.first}`, 'check that it starts and listens on 127.0.0.1 (try it with --grep valid-client --debug), or raise --start-timeout');
      }
    }
    throw new StartFailure(why);
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

function judge(def: CaseDefinition, tls: TlsVersion, expectations: Expectations, base: Pick<CaseResult, 'id' | 'title' | 'family' | 'severity' | 'core' | 'tls' | 'expected' | 'startedAt'>,
  checks: Check[], failure: string | undefined, logLines: string[], pki: BuiltPki | undefined, ms: number): CaseResult {
  const failed = checks.find((c) => !c.ok);
  // A check of the case's own expectation made without a probe (a server that refused to start) speaks for the case.
  const unprobed = failed ? undefined : checks.find((c) => !c.observation && c.expected === def.expected);
  const deciding = failed ?? unprobed ?? checks.find((c) => c.observation) ?? checks[0];
  const obs = unprobed ? undefined : (failed?.observation ?? checks.find((c) => c.observation)?.observation);
  const erred = failure !== undefined || (failed?.observation?.outcome === 'error');
  let verdict: Verdict = erred ? 'error' : failed || checks.length === 0 ? 'fail' : 'pass';
  let message: string;
  if (failure !== undefined) message = `error: ${failure}`;
  else if (checks.length === 0) message = 'the case made no check';
  else if (failed) message = `${failed.label}: expected ${expectation(failed)}; ${failed.observation ? observationSentence(failed.observation, tls) : failed.observed}`;
  else message = `${deciding?.label ?? def.title}: ${deciding?.observed ?? 'ok'}${deciding?.note ? ` — note: ${deciding.note}` : ''}`;
  const reason = expectedFailure(expectations, def.id);
  if (reason !== undefined) {
    if (verdict === 'pass') {
      verdict = 'unexpected-pass';
      message = `passed, but the expectations file lists it as a known deviation ("${reason}"): remove the stale entry`;
    } else if (verdict === 'fail' || verdict === 'error') {
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
    outcome: obs ? obs.outcome : failure !== undefined ? 'error' : null,
    verdict, message,
    ...(reason !== undefined ? { reason } : {}),
    checks: checks.map((c) => ({ ...c })),
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
