// The deployment parts of the generated nginx.conf: proxy_pass to the suite's
// upstream with the verified certificate forwarded and every client-sent
// identity header cleared, one server block per virtual host, and
// `ssl_verify_client optional` with an anonymous branch.
import type { Forwarding, ServerSetup } from '../types.ts';
import { checkToken, quoteConfig } from './process.ts';

const TOKEN = /^[A-Za-z0-9._~-]+$/;
const URL_PATH = /^\/[A-Za-z0-9._~/-]*$/;

/** How the generated config forwards the client identity: the URL-encoded PEM of the verified certificate. */
export const NGINX_FORWARDING: Forwarding = { header: 'x-ssl-client-cert', format: 'pem-urlencoded' };

/** Identity headers a client might send; each is cleared (an empty proxy_set_header value drops the header). */
export const CLEARED_IDENTITY_HEADERS = [
  'Client-Cert', 'Client-Cert-Chain', 'X-Forwarded-Client-Cert', 'X-Client-Cert',
  'X-SSL-Client-CN', 'X-SSL-Client-S-DN', 'X-SSL-Client-I-DN', 'X-SSL-Client-DN', 'X-SSL-Client-Serial', 'X-SSL-Client-Fingerprint', 'X-SSL-Client-Escaped-Cert',
  'ssl-client-cert', 'ssl-client-subject-dn', 'ssl-client-issuer-dn', 'ssl-client-verify', 'ssl-client-serial',
];

/** Server-level proxy settings: the verified identity set, the client's copies cleared. */
export function nginxProxyHeaders(setup: ServerSetup): string[] {
  if (!setup.upstream) return [];
  return [
    '    proxy_set_header Host $http_host;',
    // Empty when no certificate was verified, which drops the header (and the client's copy with it).
    '    proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;',
    '    proxy_set_header X-SSL-Client-Verify $ssl_client_verify;',
    ...CLEARED_IDENTITY_HEADERS.map((h) => `    proxy_set_header ${h} "";`),
    '    proxy_connect_timeout 5s;',
    '    proxy_read_timeout 10s;',
  ];
}

/** The body of a location that serves `json`: the upstream in proxy mode, else the response itself. */
export function nginxServe(setup: ServerSetup, json: string): string {
  if (setup.upstream) return `      proxy_pass http://${setup.upstream.host}:${setup.upstream.port};`;
  return `      return 200 '${json}\\n';`;
}

/** Optional mode: no certificate gets the anonymous response; anything but a verified one is refused. */
export function nginxOptionalBranch(setup: ServerSetup): string[] {
  if (setup.clientAuth !== 'optional') return [];
  const publicCanary = checkToken('public canary', setup.publicCanary ?? '', TOKEN);
  return [
    `      if ($ssl_client_verify = NONE) { return 200 '{"status":"anonymous","canary":"${publicCanary}"}\\n'; }`,
    // nginx already answers 400 for a certificate that failed verification; this holds if that ever changes.
    '      if ($ssl_client_verify != SUCCESS) { return 403; }',
  ];
}

/** The server blocks of the virtual hosts: the protected name (and localhost) first, so it is the default. */
export function nginxVhostServers(setup: ServerSetup, port: number, tls: ServerSetup['tls'], canary: string): string[] {
  const vhosts = setup.vhosts;
  if (!vhosts) return [];
  const q = quoteConfig;
  const protectedName = checkToken('protected name', vhosts.protected, TOKEN);
  const publicName = checkToken('public name', vhosts.public, TOKEN);
  const publicCanary = checkToken('public canary', setup.publicCanary ?? '', TOKEN);
  const certificate = [`    ssl_certificate ${q(tls.cert)};`, `    ssl_certificate_key ${q(tls.key)};`, '    ssl_protocols TLSv1.2 TLSv1.3;'];
  return [
    '  server {',
    `    listen 127.0.0.1:${port} ssl http2 default_server;`,
    `    server_name localhost ${protectedName};`,
    ...certificate,
    `    ssl_client_certificate ${q(tls.clientCa)};`,
    '    ssl_verify_client on;',
    '    ssl_verify_depth 3;',
    ...(tls.crl ? [`    ssl_crl ${q(tls.crl)};`] : []),
    `    location = ${checkToken('protected path', setup.paths.protected, URL_PATH)} {`,
    `      return 200 '{"invoice":"INV-2026-0042","canary":"${canary}"}\\n';`,
    '    }',
    '    location / { return 404; }',
    '  }',
    '  server {',
    `    listen 127.0.0.1:${port} ssl http2;`,
    `    server_name ${publicName};`,
    ...certificate,
    `    location / { return 200 '{"status":"public","canary":"${publicCanary}"}\\n'; }`,
    '  }',
  ];
}
