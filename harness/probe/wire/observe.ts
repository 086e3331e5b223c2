// A wire-level result as the suite's Observation (docs/contract.md, "Outcomes and verdicts"), so cases judge
// it with expectServed / expectRefused like any probe; and a one-line summary.
import type { Observation } from '../../types.ts';
import type { WireResult } from './client.ts';

/** Classifies a wire result: a response decides; then a received alert; then a local error; then how the connection ended. */
export function wireObservation(r: WireResult): Observation {
  const base = { canarySeen: r.response?.canarySeen ?? false, ms: r.ms, ...(r.handshakeCompleted ? { protocol: `TLSv${r.tls}` } : {}) };
  if (r.response) {
    const { status, bodyExcerpt, canarySeen } = r.response;
    const common = { ...base, status, bodyExcerpt };
    if (canarySeen) return { ...common, outcome: status >= 200 && status < 300 ? 'accepted' : 'leaked' };
    if (status >= 400) return { ...common, outcome: 'rejected-http' };
    return { ...common, outcome: 'error', error: `HTTP ${status || '(no status line)'} without the canary` };
  }
  if (r.alert && r.alert.description !== 0) return { ...base, outcome: 'rejected-handshake', alert: r.alert.name, ...(r.error ? { error: r.error } : {}) };
  if (r.error !== undefined) return { ...base, outcome: 'error', error: r.error };
  if (r.alert || r.ending === 'closed') return { ...base, outcome: 'rejected-handshake', alert: 'closed', error: r.handshakeCompleted ? 'connection closed before any response' : 'connection closed during the handshake' };
  if (r.ending === 'reset') return { ...base, outcome: 'rejected-handshake', alert: 'reset', error: 'ECONNRESET' };
  return { ...base, outcome: 'error', error: 'the connection ended without a response, alert or error' };
}

/** What the client did and saw, in one line for a report: "sent the Certificate and no CertificateVerify; server: alert unexpected_message". */
export function describeWire(r: WireResult): string {
  const parts: string[] = [];
  if (r.deviation.name !== 'none') parts.push(r.deviation.applied ? (r.deviation.detail ?? r.deviation.name) : `deviation ${r.deviation.name} not carried out${r.deviation.detail ? ` (${r.deviation.detail})` : ''}`);
  const requests = r.certificateRequests.map((c) => c.phase).join(', ');
  parts.push(requests ? `CertificateRequest: ${requests}` : 'no CertificateRequest');
  parts.push(`trace: ${r.trace.join(', ')}`);
  return parts.join('; ');
}
