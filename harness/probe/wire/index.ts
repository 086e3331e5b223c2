// The wire-level client as cases use it: one probe as a named PKI entity,
// judged as an Observation; and the pieces tests and fixtures build on.
import type { CaseContext } from '../../run/case.ts';
import type { Observation } from '../../types.ts';
import { wireConnect, type WireOptions, type WireResult } from './client.ts';
import { wireObservation } from './observe.ts';
import { readOwnFile } from '../../run/own-files.ts';

export { wireConnect, DEVIATIONS } from './client.ts';
export type { CertificateRequestSeen, Deviation, WireOptions, WireResult } from './client.ts';
export { describeWire, wireObservation } from './observe.ts';
export { describeName, subjectDer } from './x509.ts';

/** A wire-level connection to the case's server as entity `client` (null: no certificate), requesting the protected path by default. */
export async function wireProbe(t: CaseContext, client: string | null, opts: Partial<Omit<WireOptions, 'identity' | 'otherKey'>> & { otherKeyOf?: string } = {}): Promise<{ result: WireResult; observation: Observation }> {
  const { otherKeyOf, ...rest } = opts;
  const identity = client === null ? undefined : {
    cert: readOwnFile(t.pki.cert(client).chain),
    key: readOwnFile(t.pki.cert(client).key),
  };
  const result = await wireConnect({
    port: t.server.port, tls: t.tls, serverCa: t.pki.cert('root').pem, canary: t.setup.canary,
    request: { path: t.setup.paths.protected },
    ...(identity ? { identity } : {}),
    ...(otherKeyOf !== undefined ? { otherKey: readOwnFile(t.pki.cert(otherKeyOf).key) } : {}),
    ...rest,
  });
  return { result, observation: wireObservation(result) };
}
