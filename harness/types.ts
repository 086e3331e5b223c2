// The public contract (DESIGN.md §2 and §4): what an adapter implements and
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
  | 'optional-auth'; // supports clientAuth: 'optional'

/** Every capability, in a fixed order. */
export const CAPABILITIES: readonly Capability[] = ['crl', 'crl-reload', 'path-authz', 'allowlist', 'log-identity', 'proxy', 'vhosts', 'optional-auth'];

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
  /** CNs allowed to see the protected resource; absent = any verified client. */
  allowedClients?: string[];
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
  /** With 'proxy': the header and format that carry the client identity to the upstream. */
  forwarding?: Forwarding;
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
