// handshake: the client-authentication messages themselves, sent right and
// wrong on purpose by the wire-level client — proof of possession
// (CertificateVerify), empty and malformed Certificates, and what the
// server's CertificateRequest asks for.
import { defineCase, describeObservation, describeWire, subjectDer, wireProbe, type CaseContext, type Deviation, type Observation, type Reference, type WireResult, describeCases, type CaseDefinition } from '../harness/index.ts';

const RFC8446_CV: Reference = { title: 'RFC 8446 §4.4.3 Certificate Verify', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.3' };
const RFC5246_CV: Reference = { title: 'RFC 5246 §7.4.8 Certificate Verify', url: 'https://www.rfc-editor.org/rfc/rfc5246#section-7.4.8' };
const RFC8446_CERT: Reference = { title: 'RFC 8446 §4.4.2 Certificate', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2' };
const RFC8446_CR: Reference = { title: 'RFC 8446 §4.3.2 Certificate Request', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.3.2' };
const RFC5246_CR: Reference = { title: 'RFC 5246 §7.4.4 Certificate Request', url: 'https://www.rfc-editor.org/rfc/rfc5246#section-7.4.4' };
const BOGO = (test: string): Reference => ({ title: `BoringSSL runner: ${test} (ssl/test/runner)`, url: 'https://boringssl.googlesource.com/boringssl/+/refs/heads/master/ssl/test/runner/runner.go' });
const TLSFUZZER = (script: string): Reference => ({ title: `tlsfuzzer ${script}`, url: `https://github.com/tlsfuzzer/tlsfuzzer/blob/master/scripts/${script}` });

/** The control: the valid client's correct wire-level handshake must be served, else no refusal in this run proves anything (an error, not a pass). Returns the check to record. */
async function runControl(t: CaseContext, when: string, client = 'client'): Promise<() => void> {
  const { result, observation } = await wireProbe(t, client);
  if (observation.outcome !== 'accepted') {
    throw new Error(`control ${when}: the valid client's correct wire-level handshake was not served (${describeObservation(observation)}; ${describeWire(result)}), so a refusal would prove nothing`);
  }
  const asked = result.certificateRequests.map((c) => c.phase).join(' and ') || 'no';
  return () => { t.expectServed(observation, `control ${when}: client '${client}' with a correct wire-level handshake (${asked} CertificateRequest, ${result.signatureScheme ?? 'no CertificateVerify'})`); };
}

/** The valid client is served again after the deviation: the server kept serving (a dead or wedged server fails). */
async function expectStillServing(t: CaseContext, after: string): Promise<void> {
  const { result, observation } = await wireProbe(t, 'client');
  const ok = observation.outcome === 'accepted';
  t.check({ label: `valid client after ${after}`, expected: 'alive', ok, observed: ok ? describeObservation(observation) : `not served: ${describeObservation(observation)} (${describeWire(result)})` });
}

/** Probes with a deviation and judges the refusal; a deviation that could not be carried out is an error unless the server served anyway. */
async function expectDeviationRefused(t: CaseContext, client: string, deviation: Deviation, preferred?: string, extra: Parameters<typeof wireProbe>[2] = {}): Promise<{ result: WireResult; observation: Observation }> {
  const probe = await wireProbe(t, client, { deviation, ...extra });
  const { result, observation } = probe;
  if (!result.deviation.applied && !observation.canarySeen) {
    const why = result.certificateRequests.length === 0 ? 'the server sent no CertificateRequest' : result.deviation.detail ?? result.error ?? 'unknown';
    throw new Error(`the deviation ${deviation} could not be carried out (${why}); observed ${describeObservation(observation)}`);
  }
  const what = result.deviation.applied ? result.deviation.detail ?? deviation : `${deviation} (not carried out: no CertificateRequest)`;
  t.expectRefused(observation, `client '${client}' that ${what}`, preferred);
  return probe;
}

/** The same case under both versions with one deviation: control, deviation refused. */
function deviationRun(client: string, deviation: Deviation, preferred?: (tls: string) => string | undefined, opts: { otherKeyOf?: string; alive?: string } = {}) {
  return async (t: CaseContext): Promise<void> => {
    const control = await runControl(t, 'before the deviation');
    await expectDeviationRefused(t, client, deviation, preferred?.(t.tls), opts.otherKeyOf !== undefined ? { otherKeyOf: opts.otherKeyOf } : {});
    control();
    if (opts.alive !== undefined) await expectStillServing(t, opts.alive);
  };
}

/** Signature schemes of the catalogue's client keys (EC P-256, EC P-384, RSA 2048, Ed25519) under each version. */
const CATALOGUE_SCHEMES: Readonly<Record<'1.2' | '1.3', readonly (readonly string[])[]>> = {
  '1.3': [['ecdsa_secp256r1_sha256'], ['ecdsa_secp384r1_sha384'], ['rsa_pss_rsae_sha256'], ['ed25519']],
  '1.2': [['ecdsa_secp256r1_sha256'], ['ecdsa_secp384r1_sha384'], ['rsa_pss_rsae_sha256', 'rsa_pkcs1_sha256'], ['ed25519']],
};

const PER_PATH = { clientAuth: 'per-path' as const, paths: { protected: '/invoices/42', public: '/status' }, postHandshakeAuth: true };

const cases: CaseDefinition[] = [
  defineCase({
    id: 'handshake::certificate-verify-omitted',
    title: 'refuses a client that sends a certificate without a CertificateVerify',
    family: 'handshake', severity: 'critical',
    expected: 'reject', preferredAlert: 'unexpected_message',
    why: 'Certificates are public: they sit in logs, in CT-like inventories, in every server the client ever talked to. CertificateVerify is the only proof that the client holds the key. A server that accepts a Certificate followed straight by Finished lets anyone who has seen a client certificate be that client.',
    references: [RFC8446_CV, RFC5246_CV, BOGO('SkipCertificateVerify'), TLSFUZZER('test-certificate-verify.py')],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    run: deviationRun('client', 'omit-certificate-verify'),
  }),
  defineCase({
    id: 'handshake::certificate-verify-wrong-key',
    title: 'refuses a CertificateVerify signed by a key other than the certificate\'s',
    family: 'handshake', severity: 'critical',
    expected: 'reject', preferredAlert: 'decrypt_error',
    why: 'An attacker holding a copy of a client certificate but not its key signs the handshake with a key of their own. Only a server that verifies the signature against the certificate\'s public key notices.',
    references: [RFC8446_CV, RFC5246_CV, BOGO('ClientAuth-*-BadSignature'), TLSFUZZER('test-certificate-verify-malformed.py')],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('attacker', { issuer: root, cn: 'attacker' });
    },
    run: deviationRun('client', 'wrong-key', undefined, { otherKeyOf: 'attacker' }),
  }),
  defineCase({
    id: 'handshake::certificate-verify-bit-flip',
    title: 'refuses a CertificateVerify whose signature has one bit flipped',
    family: 'handshake', severity: 'critical',
    expected: 'reject', preferredAlert: 'decrypt_error',
    why: 'A signature check that only parses the signature, or compares a prefix, passes a signature with one wrong bit. That is the check a forged proof of possession has to get past.',
    references: [RFC8446_CV, RFC5246_CV, TLSFUZZER('test-certificate-verify-malformed-sig.py')],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    run: deviationRun('client', 'flip-signature-bit'),
  }),
  defineCase({
    id: 'handshake::certificate-verify-unoffered-scheme',
    title: 'refuses a CertificateVerify signed with a scheme its CertificateRequest did not offer',
    family: 'handshake', severity: 'high',
    expected: 'reject', preferredAlert: 'illegal_parameter',
    why: 'The server names the signature schemes it accepts; a client that signs with another (here ECDSA with SHA-1 or SHA-224) downgrades the proof of possession to a hash the server refused. A server that verifies whatever scheme the client names has no signature policy at all.',
    references: [
      RFC8446_CV,
      { title: 'RFC 5246 §7.4.8 (the hash and signature algorithm MUST be one of those in supported_signature_algorithms)', url: 'https://www.rfc-editor.org/rfc/rfc5246#section-7.4.8' },
      TLSFUZZER('test-tls13-signature-algorithms.py'),
    ],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    run: deviationRun('client', 'unoffered-scheme'),
  }),
  defineCase({
    id: 'handshake::rsa-pkcs1-in-tls13',
    title: 'refuses an RSA PKCS#1 v1.5 CertificateVerify under TLS 1.3',
    family: 'handshake', severity: 'high',
    tls: 'once',
    expected: 'reject', preferredAlert: 'illegal_parameter',
    why: 'TLS 1.3 allows RSA only with PSS in handshake signatures; rsa_pkcs1_* names signatures in certificates. A server that accepts PKCS#1 v1.5 here keeps the padding that Bleichenbacher-style attacks feed on alive in the one place TLS 1.3 removed it.',
    references: [
      { title: 'RFC 8446 §4.2.3 Signature Algorithms (RSASSA-PKCS1-v1_5 only in certificates)', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.2.3' },
      RFC8446_CV, TLSFUZZER('test-tls13-pkcs-signature.py'),
    ],
    pki: (b, { root }) => {
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('rsa-client', { issuer: root, cn: 'mail-server-rsa', key: 'rsa-2048' });
    },
    run: async (t) => {
      const control = await runControl(t, 'with an RSA key signing RSA-PSS', 'rsa-client');
      await expectDeviationRefused(t, 'rsa-client', 'rsa-pkcs1-in-tls13');
      control();
    },
  }),
  defineCase({
    id: 'handshake::empty-certificate',
    title: 'treats an empty Certificate as no certificate and keeps serving',
    family: 'handshake', severity: 'high',
    expected: 'reject',
    why: 'An empty Certificate message is how a client without a certificate answers a CertificateRequest; code that assumes a first certificate exists dereferences nothing. The server must refuse it as "no certificate" (certificate_required in TLS 1.3, handshake_failure in TLS 1.2) and go on serving everyone else.',
    references: [
      { title: 'RFC 8446 §4.4.2.4 Receiving a Certificate Message (empty: MAY abort with certificate_required)', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.4.2.4' },
      { title: 'RFC 5246 §7.4.6 Client Certificate (empty: MAY respond with handshake_failure)', url: 'https://www.rfc-editor.org/rfc/rfc5246#section-7.4.6' },
      BOGO('RequireAnyClientCertificate'), TLSFUZZER('test-tls13-certificate-request.py'),
    ],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    run: deviationRun('client', 'empty-certificate', (tls) => (tls === '1.3' ? 'certificate_required' : 'handshake_failure'), { alive: 'an empty Certificate' }),
  }),
  defineCase({
    id: 'handshake::malformed-certificate',
    title: 'refuses a Certificate message with inconsistent lengths as a decode error and keeps serving',
    family: 'handshake', severity: 'high',
    expected: 'reject', preferredAlert: 'decode_error',
    why: 'The Certificate message nests three length fields; a parser that trusts the outer one reads past the message. Whatever it does, the server must refuse the handshake (decode_error) and stay up for the next client.',
    references: [RFC8446_CERT, { title: 'RFC 8446 §6.2 Error Alerts (decode_error)', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-6.2' }, TLSFUZZER('test-certificate-malformed.py')],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    run: deviationRun('client', 'malformed-certificate', undefined, { alive: 'a malformed Certificate' }),
  }),
  defineCase({
    id: 'handshake::certificate-request-authorities',
    title: 'names exactly the configured client CAs in its CertificateRequest',
    family: 'handshake', severity: 'medium',
    expected: 'accept',
    level: 'policy',
    policy: 'RFC 8446 and RFC 5246 let a server send an empty CA list; the suite asks for the configured client CAs and no others, because clients with several certificates pick by this list and an extra name sends them to the wrong one or reveals other trust.',
    why: 'A client with several certificates (a laptop with a VPN and a company certificate, a service with one per partner) chooses the certificate to send from the CA names in the CertificateRequest. A list that misses a configured CA makes valid clients send nothing; a list that names CAs the server does not trust makes them send a certificate that will be refused, and tells anyone which other parties this server deals with.',
    references: [
      { title: 'RFC 8446 §4.2.4 Certificate Authorities', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.2.4' },
      RFC5246_CR, BOGO('CertificateRequest CA list (ClientCAs)'), TLSFUZZER('test-tls13-certificate-request.py'),
    ],
    pki: (b, { root }) => {
      const partner = b.ca('partner-ca', { cn: 'Initech Partner CA' });
      b.ca('unconfigured-ca', { cn: 'Globex Root CA' });
      b.leaf('client', { issuer: root, cn: 'mail-server' });
      b.leaf('partner-client', { issuer: partner, cn: 'partner-gateway' });
    },
    setup: { clientCa: ['root', 'partner-ca'] },
    run: async (t) => {
      const { result, observation } = await wireProbe(t, 'client');
      if (observation.outcome !== 'accepted') throw new Error(`control: the valid client's wire-level handshake was not served (${describeObservation(observation)}; ${describeWire(result)})`);
      t.expectServed(observation, "client 'client' with a correct wire-level handshake");
      const request = result.certificateRequests[0];
      const configured = ['root', 'partner-ca'].map((n) => ({ name: n, der: subjectDer(t.pki.cert(n).x509.raw).toString('hex'), subject: t.pki.cert(n).subject }));
      const listed = request?.certificateAuthoritiesDer ?? [];
      const missing = configured.filter((c) => !listed.includes(c.der));
      const extra = listed.filter((der) => !configured.some((c) => c.der === der)).map((der) => request?.certificateAuthorities[listed.indexOf(der)] ?? der);
      t.check({
        label: 'certificate_authorities of the CertificateRequest', expected: 'accept', ok: request !== undefined && missing.length === 0 && extra.length === 0,
        observed: request === undefined ? 'no CertificateRequest' : `lists ${request.certificateAuthorities.length === 0 ? 'no CA' : request.certificateAuthorities.join('; ')}${missing.length ? `; missing ${missing.map((m) => m.subject).join(', ')}` : ''}${extra.length ? `; not configured: ${extra.join(', ')}` : ''}`,
      });
    },
  }),
  defineCase({
    id: 'handshake::certificate-request-signature-algorithms',
    title: 'offers in its CertificateRequest the signature schemes of the catalogue\'s client keys',
    family: 'handshake', severity: 'medium',
    expected: 'accept',
    level: 'policy',
    policy: 'The suite expects ECDSA P-256 and P-384, RSA-PSS (or, in TLS 1.2, RSA PKCS#1 v1.5) with SHA-256, and Ed25519 — the keys the catalogue issues to clients; a narrower list is a deployment choice that locks those clients out.',
    why: 'The CertificateRequest\'s signature_algorithms decide which client keys can authenticate at all. A list narrowed by a hardening guide or an old default silently locks out clients with P-384 or Ed25519 keys: they send no certificate, or one the server then refuses.',
    references: [RFC8446_CR, RFC5246_CR, { title: 'RFC 8446 §4.2.3 Signature Algorithms', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.2.3' }, TLSFUZZER('test-tls13-certificate-request.py')],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    run: async (t) => {
      const { result, observation } = await wireProbe(t, 'client');
      if (observation.outcome !== 'accepted') throw new Error(`control: the valid client's wire-level handshake was not served (${describeObservation(observation)}; ${describeWire(result)})`);
      t.expectServed(observation, "client 'client' with a correct wire-level handshake");
      const offered = result.certificateRequests[0]?.signatureAlgorithms ?? [];
      const wanted = CATALOGUE_SCHEMES[t.tls];
      const missing = wanted.filter((any) => !any.some((s) => offered.includes(s))).map((any) => any.join(' or '));
      t.check({
        label: 'signature_algorithms of the CertificateRequest', expected: 'accept', ok: offered.length > 0 && missing.length === 0,
        observed: `offers ${offered.join(', ') || 'nothing'}${missing.length ? `; missing ${missing.join(', ')}` : ''}`,
      });
    },
  }),
  defineCase({
    id: 'handshake::post-handshake-auth-per-path',
    title: 'in per-path mode asks for the certificate only where needed and still demands proof of possession',
    family: 'handshake', severity: 'high',
    tls: 'once',
    expected: 'reject',
    requires: ['path-authz'],
    policy: 'The setup asks the server to request the certificate on the protected path only (post-handshake authentication); servers that cannot (Node, nginx) ask during the handshake, which this case accepts. Either way: a client that does not offer post_handshake_auth is never sent a post-handshake CertificateRequest (RFC 8446 §4.6.2) and never served without a certificate, and a forged or empty answer is refused.',
    why: 'With per-location client authentication (Apache\'s SSLVerifyClient in a <Location>), TLS 1.3 servers ask for the certificate after the handshake, when the protected path is requested. That second, rarely exercised code path must check the CertificateVerify as strictly as the handshake does, and must fail closed for clients that cannot answer.',
    references: [
      { title: 'RFC 8446 §4.6.2 Post-Handshake Authentication', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.6.2' },
      { title: 'RFC 8446 §4.2.6 Post-Handshake Client Authentication extension', url: 'https://www.rfc-editor.org/rfc/rfc8446#section-4.2.6' },
      { title: 'Apache mod_ssl SSLVerifyClient (per-directory, TLS 1.3 post-handshake)', url: 'https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslverifyclient' },
      TLSFUZZER('test-tls13-post-handshake-auth.py'),
    ],
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'mail-server' }); },
    setup: PER_PATH,
    run: async (t) => {
      const publicPath = t.setup.paths.public ?? '/status';
      const pub = await wireProbe(t, null, { postHandshakeAuth: false, request: { path: publicPath }, canary: t.setup.publicCanary ?? '' });
      t.expectServed(pub.observation, `a client without a certificate or post_handshake_auth requesting the public path ${publicPath}`);
      const control = await runControl(t, 'on the protected path');
      const phases = (r: WireResult): string => r.certificateRequests.map((c) => c.phase).join(' and ') || 'no';
      await expectDeviationRefused(t, 'client', 'flip-signature-bit');
      await expectDeviationRefused(t, 'client', 'empty-certificate');
      const noPha = await wireProbe(t, 'client', { postHandshakeAuth: false });
      const r = noPha.result;
      const served = noPha.observation.canarySeen;
      const ok = r.unsolicitedPostHandshakeRequest !== true && (!served || r.certificateRequests.some((c) => c.phase === 'handshake' && r.certificateSent));
      t.check({
        label: "client 'client' that does not offer post_handshake_auth", expected: 'reject', ok,
        observed: `${phases(r)} CertificateRequest${r.unsolicitedPostHandshakeRequest ? ' — a post-handshake one although the client did not offer post_handshake_auth' : ''}; ${describeObservation(noPha.observation)}`,
        observation: noPha.observation,
      });
      control();
    },
  }),
];

export default cases;

// Under mocha: a describe for the family, an it per case and TLS version (docs/specs.md).
describeCases('handshake', cases, import.meta.url);
