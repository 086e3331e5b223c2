// What a conformance case is: data (id, title, family, severity, why,
// references, PKI, expected outcome) plus, where needed, a small run function.
import type { BuiltPki, CertRef, PkiBuilder } from '../pki/pki.ts';
import type { ProbeOptions, ProbeRequest, ProbeResult } from '../probe/probe.ts';
import type { ServerSample } from './resources.ts';
import type { Capability, Forwarding, Observation, RunningServer, ServerSetup, TlsVersion } from '../types.ts';
import type { Upstream } from '../probe/upstream.ts';

/** The catalogue's families, in report order. */
export const FAMILIES = ['trust', 'validity', 'usage', 'algorithms', 'revocation', 'ocsp', 'identity', 'authorization', 'protocol', 'robustness', 'handshake', 'proxy', 'vhost', 'optional'] as const;
export type Family = (typeof FAMILIES)[number];

/** Where a family sorts in reports: the built-in families in catalogue order, then a team's own. */
export function familyRank(family: string): number {
  const i = (FAMILIES as readonly string[]).indexOf(family);
  return i === -1 ? FAMILIES.length : i;
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * What a case checks: a 'requirement' (an RFC MUST or a security property: failing it fails the run) or a
 * 'policy' of the suite (a hardening choice stock servers may not make: failing it is a warning unless --strict).
 */
export type Level = 'requirement' | 'policy';

/**
 * The TLS versions one run of a case stands for, as reports label it: '1.2' and '1.3' are single versions
 * ('both' cases run once under each); '1.0-1.1' probes the legacy versions; '1.2+1.3' probes both inside one run.
 */
export type TlsLabel = TlsVersion | '1.0-1.1' | '1.2+1.3';

/** A citation shown in reports. */
export interface Reference {
  title: string;
  url?: string;
}

/** The two entities every case gets: the company root CA and the server leaf it issued. */
export interface BasePki {
  root: CertRef;
  server: CertRef;
}

/** How a case changes the default server setup; names refer to PKI entities. */
export interface SetupOverrides {
  /** Entities whose certificates form the client trust bundle; default [root]. */
  clientCa?: string[];
  /** CRLs bundled into setup.tls.crl, in order. */
  crl?: string[];
  clientAuth?: ServerSetup['clientAuth'];
  paths?: ServerSetup['paths'];
  allowedClients?: string[];
  /** Entities appended to the server certificate chain (intermediates). */
  serverChain?: string[];
  /** Per-path mode: ask for the certificate after the handshake, on the protected path only (ServerSetup.postHandshakeAuth). */
  postHandshakeAuth?: boolean;
  /** Start the suite's upstream and name it in setup.upstream (proxy cases). */
  upstream?: boolean;
  /** Serve setup.vhosts; the server certificate then carries both names. */
  vhosts?: boolean;
  /** With an OCSP responder in the PKI: setup.ocsp names it ('responder', the default) or an address where every connection is reset ('down'). */
  ocsp?: 'responder' | 'down';
  /** Trust material replaced on purpose in a second server (tryStartPeer): the client-CA file missing, empty or garbage, the CRL file garbage. */
  brokenMaterial?: BrokenMaterial;
}

/** Deliberately broken trust files. */
export interface BrokenMaterial {
  clientCa?: 'missing' | 'empty' | 'garbage';
  crl?: 'garbage';
}

/** What happened when a second server was started with material that may make it refuse to start. */
export type PeerStart =
  | { server: RunningServer }
  /** start() failed (`hung`: it neither started nor failed within the start bound). */
  | { startError: string; hung: boolean };

/** A conformance case as data. */
export interface CaseDefinition {
  /** Stable `family::kebab-name`. */
  id: string;
  /** A sentence of the report: "refuses a client signed by another CA". */
  title: string;
  /** A built-in family, or a team's own (its spec file declares it with describeCases). */
  family: Family | (string & Record<never, never>);
  severity: Severity;
  /** One of the five core cases. */
  core?: boolean;
  /** What goes wrong in a deployment when a server fails this. */
  why: string;
  references?: Reference[];
  /** Capabilities the adapter must declare, else the case is not-applicable. */
  requires?: Capability[];
  /**
   * 'both' (default) runs under TLS 1.2 and under TLS 1.3; 'once' runs once, under the best version the server
   * speaks (labelled with it); any other label runs once and is reported with that label.
   */
  tls?: 'both' | 'once' | TlsLabel;
  /** Default 'requirement'; 'policy' for a choice of the suite (see Level). */
  level?: Level;
  /**
   * The control that proves a refusal means something: by default a valid client ('control', issued by the
   * company root) must be served by the same server instance under the same TLS version in the same case run,
   * else the case is an error. 'peer': the server refuses every client by design here (fail-closed cases), so
   * the control runs against a second instance started with `controlSetup`.
   */
  control?: 'same' | 'peer';
  /** With control 'peer': how the peer's setup differs from the default. */
  controlSetup?: SetupOverrides;
  /** What the main probe expects. */
  expected: 'accept' | 'reject';
  /** The refusal a well-behaved TLS server sends (a different refusal passes with a note). */
  preferredAlert?: string;
  /** A policy decision the suite takes, stated in the report. */
  policy?: string;
  /** Declares the entities beyond root and server; the client to probe with is named 'client' by convention. */
  pki?: (b: PkiBuilder, base: BasePki) => void;
  /** Changes to the default setup. */
  setup?: SetupOverrides;
  /** Custom steps; default: probe 'client' once and judge it against `expected`. */
  run?: (t: CaseContext) => Promise<void>;
  /** Takes seconds (it waits for a clock boundary, generates large keys or sends a burst): the runner starts it first so it overlaps the quick cases. */
  slow?: boolean;
  /** Build a fresh PKI for each TLS version instead of one for the case (time-bound certificates). */
  pkiPerRun?: boolean;
  /** Bound on the whole run of this case; default 30 s. */
  timeoutMs?: number;
}

/** One judged expectation inside a case run. */
export interface Check {
  /** What was checked, e.g. "client 'client' on /". */
  label: string;
  expected: 'accept' | 'reject' | 'log' | 'no-log' | 'alive';
  ok: boolean;
  /** One sentence: what was observed. */
  observed: string;
  /** A note that does not fail the check (e.g. a refusal other than the preferred alert). */
  note?: string;
  observation?: Observation;
  /** A command that reproduces the probe. */
  command?: string;
}

/** What a case's run function works with. */
export interface CaseContext {
  readonly tls: TlsVersion;
  /** The TLS versions this server serves a valid client on (learnt before its cases ran). */
  readonly versions: readonly TlsVersion[];
  readonly pki: BuiltPki;
  readonly setup: ServerSetup;
  readonly server: RunningServer;
  /** Connects as the named entity (null: no certificate) and sends the requests. */
  connect(client: string | null, opts?: Partial<ProbeOptions>): Promise<ProbeResult>;
  /** One request as the named entity (null: no certificate). */
  probe(client: string | null, request?: ProbeRequest, opts?: Partial<ProbeOptions>): Promise<Observation>;
  /** Judges an observation: the protected resource must have been served. */
  expectServed(obs: Observation, label: string): void;
  /** Judges an observation: the client must have been refused, ideally with `preferredAlert`. */
  expectRefused(obs: Observation, label: string, preferredAlert?: string): void;
  /** Polls the server's log for a line; records a 'log' check; returns the line. */
  expectLog(match: (line: string) => boolean, label: string, describe: string): Promise<string | undefined>;
  /** Records a check judged by the case itself. */
  check(check: Check): void;
  /** Records what was seen without judging it (shown in the report beside the checks). */
  note(label: string, observed: string): void;
  /** Issues a certificate declared with `deferred: true` now (time-bound certificates whose life must start after the server is up). */
  issue(name: string): Promise<void>;
  /** Answers the named certificate revoked at the case's OCSP responder from now on (the PKI must declare one for its issuer). */
  revokeAtResponder(name: string): Promise<void>;
  /** Reloads the server's TLS material (needs 'crl-reload'); with `clientAuth` also its client-auth mode (needs 'auth-reload'). */
  reload(tls: SetupOverrides): Promise<void>;
  /** Writes a file into the case directory and returns its path. */
  bundle(file: string, names: readonly string[]): Promise<string>;
  /** Starts a second instance of the server under test (same canary, its own trust), stopped with the case; probe it with `{ port }`. */
  startPeer(overrides: SetupOverrides): Promise<RunningServer>;
  /** Starts a second instance like startPeer, but reports a failed start instead of ending the run (trust material that must make a server refuse to start). */
  tryStartPeer(overrides: SetupOverrides): Promise<PeerStart>;
  /** Open descriptors and memory of the server: its own process (RunningServer.pid or resources()), else the suite's process where in-process adapters run. */
  sampleResources(): Promise<ServerSample>;
  /** With setup.upstream: the upstream the server under test forwards to, and what it received. */
  readonly upstream?: Upstream;
  /** The adapter's declared forwarding of the client identity (proxy cases). */
  readonly forwarding?: Forwarding;
  /** Registers a cleanup that runs when the case ends, in reverse order with the others (relays, extra servers). */
  defer(cleanup: () => Promise<void>): void;
}

/** Identity for a type-checked case list. */
export function defineCase(def: CaseDefinition): CaseDefinition {
  return def;
}
