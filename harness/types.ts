// The public contract (DESIGN.md §2 and §4): what an adapter implements and
// what a probe observes. Exported from the package entry point.

/** What a server under test can do beyond required client authentication. */
export type Capability =
  | 'crl' // honours setup.tls.crl
  | 'crl-reload' // RunningServer.reload() swaps the CRL (and CA) without restart
  | 'path-authz' // supports clientAuth: 'per-path'
  | 'allowlist' // honours setup.allowedClients
  | 'log-identity' // logs the client identity of each accepted request
  | 'ocsp' // checks client certificates with the OCSP responder setup.ocsp names, and refuses when it cannot
  | 'spiffe'; // allowedClients entries may be SPIFFE IDs (URI SAN of an X509-SVID) and dns:/email: SAN rules

/** Every capability, in a fixed order. */
export const CAPABILITIES: readonly Capability[] = ['crl', 'crl-reload', 'path-authz', 'allowlist', 'log-identity', 'ocsp', 'spiffe'];

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
  /** 'required': every request needs a verified certificate; 'per-path': only paths.protected does. */
  clientAuth: 'required' | 'per-path';
  /** '/' and none by default. */
  paths: { protected: string; public?: string };
  /** Random token; the protected response body MUST contain it. */
  canary: string;
  /** In per-path mode the public response body contains this instead. */
  publicCanary?: string;
  /**
   * Clients allowed to see the protected resource; absent = any verified client. A plain entry is a CN;
   * with 'spiffe': `spiffe://trust-domain/path` is a SPIFFE ID matched against the single URI SAN of an
   * X509-SVID, `dns:name` a DNS SAN and `email:address` an rfc822Name SAN, each compared byte for byte.
   */
  allowedClients?: string[];
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
  /** Every line the server has logged since start, in order. */
  logs(): Promise<string[]>;
  /** With 'crl-reload': swap the CRL (and CA) without restart. */
  reload?(tls: Partial<ServerSetup['tls']>): Promise<void>;
  /** Idempotent; frees the port and every child process. */
  stop(): Promise<void>;
}

/** A server implementation plugged into the suite. */
export interface ServerAdapter {
  /** Shown in reports; [a-z0-9-]+. */
  name: string;
  /** What it honours beyond required client authentication. */
  capabilities: readonly Capability[];
  /** Start a server for one case. */
  start(setup: ServerSetup): Promise<RunningServer>;
}

/** TLS protocol versions a case runs under. */
export type TlsVersion = '1.2' | '1.3';

/** The classified result of one probe (DESIGN.md §4). */
export type Outcome = 'accepted' | 'rejected-handshake' | 'rejected-http' | 'leaked' | 'error';

/** What a probe saw, raw and classified. */
export interface Observation {
  outcome: Outcome;
  /** TLS alert name, or 'reset' / 'closed' when the TLS layer refused without one. */
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
}
