// The package entry: the adapter contract for server authors, and the harness
// pieces that specs and scripts use.
export type { Capability, Observation, Outcome, RunningServer, ServerAdapter, ServerSetup, TlsVersion } from './types.ts';
export { CAPABILITIES } from './types.ts';
export { defineCase, FAMILIES, SEVERITIES } from './case.ts';
export type { BasePki, BrokenMaterial, CaseContext, CaseDefinition, Check, Family, PeerStart, Reference, ResourceSample, SetupOverrides, Severity } from './case.ts';
export { PkiBuilder } from './pki.ts';
export type { BuiltCert, BuiltCrl, BuiltPki, CertRef, CrlRef, KeySpec, Digest } from './pki.ts';
export { probe, describeObservation, sendRaw, holdStalled, captureClientHello } from './probe.ts';
export type { Identity, ProbeOptions, ProbeRequest, ProbeResult, RawOptions, RawResult, StalledConnections } from './probe.ts';
export { escapeLogValue, hasRawControl, namesToken, physicalLines, recordsAcceptance, waitForLines, waitForLog } from './logs.ts';
export { runCases, runCase } from './runner.ts';
export type { CaseResult, RunOptions, Verdict } from './runner.ts';
export { HarnessError } from './errors.ts';
export { runBounded } from './pool.ts';
