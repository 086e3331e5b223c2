// Runs cases against a server adapter: for every case and TLS version a fresh
// temp dir, PKI and server; probes; verdicts; cleanup in reverse order even when
// a step fails or hangs. Independent runs overlap in a bounded pool.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import tmp from 'tmp-promise';
import type { CaseContext, CaseDefinition, Check, SetupOverrides } from './case.ts';
import { HarnessError, isHarnessError, messageOf } from './errors.ts';
import { expectedFailure, type Expectations, NO_EXPECTATIONS } from './expectations.ts';
import { waitForLog } from './logs.ts';
import { replayScript, shellQuote } from './openssl.ts';
import { PkiBuilder, type BuiltPki } from './pki.ts';
import { describeObservation, observationSentence, probe, type ProbeOptions, type ProbeRequest } from './probe.ts';
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
}

const CASE_TIMEOUT_MS = 30_000;

/** Runs every case under every asked TLS version; results come back in catalogue order. */
export async function runCases(opts: RunOptions): Promise<CaseResult[]> {
  const versions = opts.tls ?? ['1.2', '1.3'];
  const tasks: { def: CaseDefinition; tls: TlsVersion }[] = [];
  for (const def of opts.cases) {
    const runs: TlsVersion[] = def.tls === 'once' ? [versions.includes('1.3') ? '1.3' : versions[0] ?? '1.3'] : [...versions];
    for (const tls of runs) tasks.push({ def, tls });
  }
  const results: CaseResult[] = new Array<CaseResult>(tasks.length);
  // Longest first, so the slow cases overlap the quick ones instead of trailing them; results keep catalogue order.
  const order = tasks.map((_, i) => i).sort((a, b) => Number(tasks[b]?.def.slow === true) - Number(tasks[a]?.def.slow === true));
  let next = 0;
  let fatal: unknown;
  const worker = async (): Promise<void> => {
    while (fatal === undefined && !opts.signal?.aborted) {
      const index = order[next++];
      const task = index === undefined ? undefined : tasks[index];
      if (!task || index === undefined) return;
      try {
        const result = await runCase(task.def, task.tls, opts);
        results[index] = result;
        opts.onResult?.(result);
      } catch (error) {
        fatal ??= error;
      }
    }
  };
  const width = Math.max(1, Math.min(opts.concurrency ?? 4, tasks.length));
  await Promise.all(Array.from({ length: width }, worker));
  if (fatal !== undefined) throw fatal instanceof Error ? fatal : new Error(messageOf(fatal));
  if (opts.signal?.aborted) throw new HarnessError('ERR_MTLS_INTERRUPTED', 'the run was interrupted', 'run it again');
  return results;
}

/** Bounds a promise; on timeout rejects with `what`. */
async function within<T>(promise: Promise<T>, ms: number, what: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(what()), ms); })]);
  } finally {
    clearTimeout(timer);
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

/** Runs one case under one TLS version. Throws only HarnessErrors that must end the run. */
export async function runCase(def: CaseDefinition, tls: TlsVersion, opts: RunOptions): Promise<CaseResult> {
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
  try {
    const tmpDir = await tmp.dir({ prefix: 'mtls-case-', unsafeCleanup: true });
    teardown.push(() => tmpDir.cleanup());
    pki = await builder.build(tmpDir.path);
    const serverDir = path.join(tmpDir.path, 'server');
    await mkdir(serverDir, { mode: 0o700 });
    let setup = await resolveSetup(pki, serverDir, def.setup);
    const serverCa = await readFile(pki.cert('root').cert, 'utf8');
    const startTimeout = opts.startTimeoutMs ?? 15_000;
    const starting = adapter.start(setup);
    // A start that finishes after its timeout still gets stopped.
    teardown.push(async () => { const late = await starting.catch(() => undefined); if (late && late !== server) await late.stop(); });
    server = await within(starting, startTimeout, () => new HarnessError('ERR_MTLS_ADAPTER_START', `server ${adapter.name} did not start within ${startTimeout} ms (case ${def.id})`, 'check that it can start and listen on 127.0.0.1, or raise --ready-timeout'))
      .catch((error: unknown) => {
        if (isHarnessError(error)) throw error;
        throw new HarnessError('ERR_MTLS_ADAPTER_START', `server ${adapter.name} failed to start (case ${def.id}): ${messageOf(error)}`, 'fix the adapter or the server it starts; --debug shows more');
      });
    const running = server;
    const stopTimeout = opts.stopTimeoutMs ?? 10_000;
    teardown.push(() => within(running.stop(), stopTimeout, () => new Error(`server ${adapter.name} did not stop within ${stopTimeout} ms`)));
    const builtPki = pki;

    const connect = (client: string | null, extra: Partial<ProbeOptions> = {}) => {
      const identity = client === null ? undefined : { cert: builtPki.cert(client).pem, key: '' };
      return (async () => {
        if (identity && client !== null) {
          identity.cert = await readFile(builtPki.cert(client).chain, 'utf8');
          identity.key = await readFile(builtPki.cert(client).key, 'utf8');
        }
        return probe({ port: running.port, tls, serverCa, canary: setup.canary, ...(identity ? { identity } : {}), ...extra });
      })();
    };
    const label = (client: string | null, request: ProbeRequest | undefined): string =>
      `${client === null ? 'a client without a certificate' : `client '${client}'`} requesting ${request?.path ?? setup.paths.protected}`;
    const commands = new Map<Observation, string>();
    let peers = 0;
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
        const found = await waitForLog(running, match);
        checks.push({ label: what, expected: 'log', ok: found.line !== undefined, observed: found.line !== undefined ? `logged: ${found.line}` : `no log line ${describe} among ${found.lines.length} lines` });
        return found.line;
      },
      check: (c) => { checks.push(c); },
      reload: async (overrides) => {
        if (!running.reload) throw new HarnessError('ERR_MTLS_ADAPTER_START', `case ${def.id} reloads but ${adapter.name} has no reload()`, "declare 'crl-reload' only with a reload function");
        setup = await resolveSetup(builtPki, serverDir, overrides, setup);
        await running.reload(setup.tls);
      },
      bundle: (file, names) => builtPki.bundle(file, names),
      startPeer: async (overrides) => {
        const peerDir = path.join(tmpDir.path, `peer-${++peers}`);
        await mkdir(peerDir, { mode: 0o700 });
        const peerSetup = await resolveSetup(builtPki, peerDir, overrides, setup);
        peerSetup.tls.clientCa = await builtPki.bundle(`peer-${peers}-client-ca.pem`, overrides.clientCa ?? ['root']);
        const peer = await within(adapter.start(peerSetup), startTimeout, () => new HarnessError('ERR_MTLS_ADAPTER_START', `a second ${adapter.name} server did not start within ${startTimeout} ms (case ${def.id})`, 'check that two instances can run at once'));
        teardown.push(() => within(peer.stop(), stopTimeout, () => new Error(`the second ${adapter.name} server did not stop within ${stopTimeout} ms`)));
        return peer;
      },
      sampleResources: async () => {
        const fds = await readdir('/proc/self/fd').then((entries) => entries.length, () => -1);
        const memory = process.memoryUsage();
        return { fds, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed };
      },
    };

    const timeoutMs = def.timeoutMs ?? CASE_TIMEOUT_MS;
    const body = def.run ?? (async (t: CaseContext) => {
      const obs = await t.probe('client');
      if (def.expected === 'accept') t.expectServed(obs, label('client', undefined));
      else t.expectRefused(obs, label('client', undefined));
    });
    await within(body(ctx), timeoutMs, () => new CaseTimeout(`the case did not finish within ${timeoutMs} ms`));
  } catch (error) {
    if (isHarnessError(error) && error.code !== 'ERR_MTLS_PKI_CHECK') {
      await runTeardown(teardown);
      throw error;
    }
    failure = messageOf(error);
  }
  try {
    if (server) logLines = await within(server.logs(), 2_000, () => new Error('logs() did not answer within 2000 ms'));
  } catch (error) {
    failure ??= messageOf(error);
  }
  const teardownError = await runTeardown(teardown);
  if (teardownError !== undefined) failure ??= teardownError;
  return judge(def, tls, opts.expectations ?? NO_EXPECTATIONS, base, checks, failure, logLines, pki, Math.round(performance.now() - started));
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
  const deciding = failed ?? checks.find((c) => c.observation) ?? checks[0];
  const obs = (failed?.observation ?? checks.find((c) => c.observation)?.observation);
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
