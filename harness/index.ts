// The package entry: the adapter contract for server authors, and the harness
// pieces that specs and scripts use.
export type { Capability, Forwarding, ForwardingFormat, Observation, Outcome, ReloadChange, ResourceSample, RunningServer, ServerAdapter, ServerSetup, StartOptions, TlsVersion } from './types.ts';
export { CAPABILITIES } from './types.ts';
export { defineCase, FAMILIES, SEVERITIES } from './case.ts';
export type { BasePki, BrokenMaterial, CaseContext, CaseDefinition, Check, Family, Level, PeerStart, Reference, SetupOverrides, Severity, TlsLabel } from './case.ts';
export { PkiBuilder } from './pki.ts';
export type { BuiltCert, BuiltCrl, BuiltPki, CertRef, CrlRef, KeySpec, Digest } from './pki.ts';
export { probe, describeObservation, sendRaw, holdStalled, captureClientHello } from './probe.ts';
export type { Identity, ProbeOptions, ProbeRequest, ProbeResult, RawOptions, RawResult, StalledConnections } from './probe.ts';
export { escapeLogValue, hasRawControl, namesToken, physicalLines, recordsAcceptance, waitForLines, waitForLog } from './logs.ts';
export { runCases, runCase } from './runner.ts';
export type { CaseResult, RunOptions, Verdict } from './runner.ts';
export type { CaseAbout } from './results.ts';
export { HarnessError } from './errors.ts';
export { runBounded } from './pool.ts';
export type { ServerSample } from './resources.ts';
export { DEVIATIONS, describeWire, subjectDer, wireConnect, wireObservation, wireProbe } from './wire/index.ts';
export type { CertificateRequestSeen, Deviation, WireOptions, WireResult } from './wire/index.ts';
export { startUpstream, headerValues } from './upstream.ts';
export type { Upstream, UpstreamRequest } from './upstream.ts';
export { startRelay } from './relay.ts';
export type { Relay } from './relay.ts';
export { probeH2 } from './h2probe.ts';
export type { H2Request, H2Result } from './h2probe.ts';
export { decodeForwarded, isClient } from './forwarding.ts';
export type { DecodedForwarding, ForwardedIdentity } from './forwarding.ts';
export { VHOSTS } from './runner.ts';
