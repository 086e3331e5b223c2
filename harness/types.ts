// The public contract (docs/contract.md: the server adapter, outcomes): what an adapter implements and
// what a probe observes. Exported from the package entry point.

/** What a server under test can do beyond required client authentication. */
export type Capability =
  | 'crl' // honours setup.tls.crl
  | 'crl-reload' // RunningServer.reload() swaps the CRL (and CA) without restart
  | 'path-authz' // supports clientAuth: 'per-path'
  | 'allowlist' // honours setup.allowedClients
  | 'log-identity' // logs the client identity of each accepted request
  | 'proxy' // forwards accepted requests to setup.upstream and says how in ServerAdapter.forwarding
  | 'vhosts' // serves setup.vhosts: a protected name (client certificate required) and a public one
  | 'optional-auth' // supports clientAuth: 'optional'
  | 'ocsp' // checks client certificates with the OCSP responder setup.ocsp names, and refuses when it cannot
  | 'spiffe' // allowedClients entries may be SPIFFE IDs (URI SAN of an X509-SVID) and dns:/email: SAN rules
  | 'auth-reload'; // RunningServer.reload(tls, change) also switches clientAuth (e.g. optional to required) without restart


/** Every capability, in a fixed order. */
export const CAPABILITIES: readonly Capability[] = ['crl', 'crl-reload', 'path-authz', 'allowlist', 'log-identity', 'proxy', 'vhosts', 'optional-auth', 'ocsp', 'spiffe', 'auth-reload'];

/**
 * How a proxy passes the verified client's identity to its upstream, so the suite can decode it:
 * - 'rfc9440': RFC 9440 `Client-Cert`, the DER certificate as a structured-field byte sequence (`:base64:`);
 * - 'pem-urlencoded': the PEM certificate, URL-encoded (nginx `$ssl_client_escaped_cert`, Apache `%{escape:%{SSL_CLIENT_CERT}}`);
 * - 'cn': the subject CN, raw or as an HTTP quoted-string;
 * - 'dn': the subject DN in RFC 4514 form (nginx `$ssl_client_s_dn`);
 * - 'xfcc': Envoy's `X-Forwarded-Client-Cert` element list (`Hash=...;Cert="<url-encoded PEM>";Subject="..."`).
 */
export type ForwardingFormat = 'rfc9440' | 'pem-urlencoded' | 'cn' | 'dn' | 'xfcc';

/** What a server with 'proxy' sends upstream about the client. */
export interface Forwarding {
  /** The request header that carries the identity (case-insensitive), e.g. 'client-cert'. */
  header: string;
  /** How its value encodes the identity. */
  format: ForwardingFormat;
}

/** Everything a server needs to start for one case. */
export interface ServerSetup {
  /** Fresh temporary directory for this server; removed after the case. */
  dir: string;
  /** Loopback only. */
  host: '127.0.0.1';
  /** 0 = pick any; the adapter reports the real port in RunningServer.port. */
  port: number;
  tls: {
    /** Server certificate chain, PEM file path. */
    cert: string;
    /** Server private key, PEM file path. */
    key: string;
    /** Trust anchors for client certificates, PEM bundle path. */
    clientCa: string;
    /** CRL bundle (one or more PEM CRLs), present in revocation cases. */
    crl?: string;
  };
  /**
   * 'required': every request needs a verified certificate; 'per-path': only paths.protected does;
   * 'optional': a certificate is asked for, not required — no certificate gets the anonymous response
   * (body with publicCanary), a verified one the protected response, any other certificate is refused.
   */
  clientAuth: 'required' | 'per-path' | 'optional';
  /** '/' and none by default. */
  paths: { protected: string; public?: string };
  /** Random token; the protected response body MUST contain it. */
  canary: string;
  /** In per-path mode the public response body contains this instead (and the anonymous response in optional mode, the public name's in vhost mode). */
  publicCanary?: string;
  /**
   * Clients allowed to see the protected resource; absent = any verified client. A plain entry is a CN;
   * with 'spiffe': `spiffe://trust-domain/path` is a SPIFFE ID matched against the single URI SAN of an
   * X509-SVID, `dns:name` a DNS SAN and `email:address` an rfc822Name SAN, each compared byte for byte.
   */
  allowedClients?: string[];
  /** Per-path mode: ask for the certificate only when the protected path is requested (TLS 1.3 post-handshake authentication); adapters that cannot ask during the handshake instead. */
  postHandshakeAuth?: boolean;
  /**
   * With 'proxy': an HTTP/1.1 server the suite runs on loopback. Forward every accepted request to it
   * (same method, path and Host), with the client's identity in ServerAdapter.forwarding and no
   * identity header the client sent itself; relay its response. It serves the canary on paths.protected
   * and publicCanary on paths.public. A refused request must never reach it.
   */
  upstream?: { host: '127.0.0.1'; port: number };
  /**
   * With 'vhosts': two names on this one port and certificate (its SAN carries both). `protected`
   * (and `localhost`, which probes send by default) requires a verified client certificate and serves
   * the canary; `public` requires none and serves publicCanary. A request whose Host names another
   * host than the SNI must not get the protected resource (421 Misdirected Request).
   */
  vhosts?: { protected: string; public: string };
  /**
   * With 'ocsp': the suite's OCSP responder (HTTP, POST or GET per RFC 6960 appendix A). Client certificates
   * carry the same URL in authorityInfoAccess; a server may use either, and must refuse a client whose
   * status it cannot establish as good (revoked, unknown, unreachable responder, untrusted or stale answer).
   */
  ocsp?: {
    /** e.g. `http://127.0.0.1:41234/ocsp` */
    url: string;
  };
}

/** A started server. */
export interface RunningServer {
  /** The port it listens on. */
  port: number;
  /**
   * The process that serves, when it is not the suite's own (a child process): the suite samples its
   * descriptors and memory (with its descendants) for the resource cases. Absent = in-process.
   */
  pid?: number;
  /** A sample of the server's own resources, for servers that can measure themselves better than /proc can. */
  resources?(): Promise<ResourceSample>;
  /** Every line the server has logged since start, in order. */
  logs(): Promise<string[]>;
  /** With 'crl-reload': swap the CRL (and CA) without restart; with 'auth-reload' also apply `change` (absent: the mode stays). */
  reload?(tls: Partial<ServerSetup['tls']>, change?: ReloadChange): Promise<void>;
  /** Idempotent; frees the port and every child process. */
  stop(): Promise<void>;
}

/** What a reload changes beside the TLS material (with 'auth-reload'). */
export interface ReloadChange {
  /** The client-authentication mode from now on; sessions made under the old mode must not resume into what the new one protects. */
  clientAuth?: ServerSetup['clientAuth'];
}

/** A server implementation plugged into the suite. */
export interface ServerAdapter {
  /** Shown in reports; [a-z0-9-]+. */
  name: string;
  /** What it honours beyond required client authentication. */
  capabilities: readonly Capability[];
  /** With 'proxy': the header and format that carry the client identity to the upstream. */
  forwarding?: Forwarding;
  /** Start a server for one case; `signal` aborts a start that is still under way (the start bound passed, the case timed out or the run was interrupted). */
  start(setup: ServerSetup, options?: StartOptions): Promise<RunningServer>;
}

/** What the suite passes to `start()` beside the setup. */
export interface StartOptions {
  /** Aborted when the start is abandoned: stop waiting, kill what was spawned, reject. */
  signal?: AbortSignal;
}

/** Open descriptors and memory of the process that serves, at one moment. */
export interface ResourceSample {
  /** Open file descriptors (of the process and its descendants); -1 where they cannot be read. */
  fds: number;
  /** Resident memory in bytes (of the process and its descendants). */
  rssBytes: number;
  /** Whose resources these are, in words: "process 1234 and 2 descendants", "the suite's own process (in-process server)". */
  source: string;
  /** True when the sample is of the server itself, false when only the suite's own process could be seen. */
  ofServer: boolean;
}

/** TLS protocol versions a case runs under. */
export type TlsVersion = '1.2' | '1.3';

/**
 * The classified result of one probe (docs/contract.md, "Outcomes and verdicts"). 'dropped': the handshake completed and the request was
 * sent, then the server ended the connection without any response — nobody refused the client at the TLS or
 * HTTP layer (a request handler that died, typically); it is neither a refusal nor a service.
 */
export type Outcome = 'accepted' | 'rejected-handshake' | 'rejected-http' | 'leaked' | 'dropped' | 'error';

/** What a probe saw, raw and classified. */
export interface Observation {
  outcome: Outcome;
  /** Name of a TLS alert the server sent (received by the probe), or 'reset' / 'closed' when the TLS layer refused without one. Never the probe's own TLS error. */
  alert?: string;
  /** HTTP status of the response. */
  status?: number;
  /** Low-level error code or message (e.g. ECONNRESET, ERR_SSL_TLSV1_ALERT_UNKNOWN_CA, a timeout). */
  error?: string;
  /** Negotiated protocol, e.g. 'TLSv1.3', when the handshake completed. */
  protocol?: string;
  /** The first bytes of the response body (never key material). */
  bodyExcerpt?: string;
  /** Whether the canary reached the client. */
  canarySeen: boolean;
  /** Whether the TLS session was resumed. */
  resumed?: boolean;
  /** Milliseconds from connect to the classified result. */
  ms: number;
  /** Whether the probe saw the handshake complete (under TLS 1.3 the server may still refuse after this). */
  handshake?: boolean;
  /** Whether an HTTP request was written. */
  requestSent?: boolean;
  /** Bytes of HTTP response received. */
  responseBytes?: number;
  /** Whether the server issued a session (a TLS 1.3 NewSessionTicket proves it finished the handshake). */
  sessionIssued?: boolean;
  /** How the classification was reached when the bytes alone do not tell (e.g. the TLS 1.3 hold test). */
  evidence?: string;
}
