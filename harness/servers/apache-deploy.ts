// The deployment parts of the generated httpd.conf: mod_proxy (through a
// per-directory RewriteRule [P], so authorization runs first) with the
// verified certificate forwarded by RequestHeader and every client-sent
// identity header unset, name-based virtual hosts with SSLStrictSNIVHostCheck
// and HTTP/2, and `SSLVerifyClient optional` with an anonymous branch.
import path from 'node:path';
import type { Forwarding, ServerSetup } from '../types.ts';
import { checkToken, quoteConfig } from './process.ts';

const TOKEN = /^[A-Za-z0-9._~-]+$/;
const URL_PATH = /^\/[A-Za-z0-9._~/-]*$/;

/** How the generated config forwards the client identity: the URL-encoded PEM of the verified certificate. */
export const APACHE_FORWARDING: Forwarding = { header: 'x-ssl-client-cert', format: 'pem-urlencoded' };

/** Identity headers a client might send; each is unset before the proxy's own are set. */
export const UNSET_IDENTITY_HEADERS = [
  'Client-Cert', 'Client-Cert-Chain', 'X-Forwarded-Client-Cert', 'X-Client-Cert',
  'X-SSL-Client-CN', 'X-SSL-Client-S-DN', 'X-SSL-Client-I-DN', 'X-SSL-Client-DN', 'X-SSL-Client-Serial', 'X-SSL-Client-Fingerprint', 'X-SSL-Client-Escaped-Cert',
  'ssl-client-cert', 'ssl-client-subject-dn', 'ssl-client-issuer-dn', 'ssl-client-verify', 'ssl-client-serial',
];

/** The modules a deployment needs beyond the base config. */
export function apacheDeployModules(setup: ServerSetup, modulesDir: string): string[] {
  const mod = (name: string, file: string): string => `LoadModule ${name} ${quoteConfig(path.join(modulesDir, file))}`;
  return [
    ...(setup.upstream ? [mod('proxy_module', 'mod_proxy.so'), mod('proxy_http_module', 'mod_proxy_http.so'), mod('headers_module', 'mod_headers.so')] : []),
    ...(setup.vhosts ? [mod('http2_module', 'mod_http2.so')] : []),
  ];
}

/** Server-level proxy settings: the client's identity headers unset, the verified certificate set. */
export function apacheProxyHeaders(setup: ServerSetup): string[] {
  if (!setup.upstream) return [];
  return [
    'ProxyRequests off',
    'ProxyPreserveHost on',
    'ProxyTimeout 10',
    ...UNSET_IDENTITY_HEADERS.map((h) => `RequestHeader unset ${h}`),
    // Empty (and so dropped by the upstream's reading) when no certificate was verified.
    'RequestHeader set X-SSL-Client-Cert "expr=%{escape:%{SSL_CLIENT_CERT}}"',
    'RequestHeader set X-SSL-Client-Verify "expr=%{SSL_CLIENT_VERIFY}"',
  ];
}

/** The directives that answer a location in proxy mode: the upstream does (apache.ts answers with the body otherwise). */
export function apacheServe(setup: ServerSetup): string[] | undefined {
  if (!setup.upstream) return undefined;
  return ['  RewriteEngine on', `  RewriteRule ^ http://${setup.upstream.host}:${setup.upstream.port}%{REQUEST_URI} [P]`];
}

/** Optional mode: no certificate gets the anonymous response, a verified one the protected one, anything else is refused. */
export function apacheOptionalServe(setup: ServerSetup, body: string): string[] | undefined {
  if (setup.clientAuth !== 'optional') return undefined;
  const publicCanary = checkToken('public canary', setup.publicCanary ?? '', TOKEN);
  return [
    // mod_ssl already fails the handshake for a certificate it cannot verify; this holds if that ever changes.
    `  Require expr "%{SSL_CLIENT_VERIFY} in { 'SUCCESS', 'NONE' }"`,
    '  RewriteEngine on',
    '  RewriteRule ^ - [R=200]',
    `  <If "%{SSL_CLIENT_VERIFY} == 'NONE'">`,
    `    ErrorDocument 200 ${quoteConfig(`{"status":"anonymous","canary":"${publicCanary}"}`)}`,
    '  </If>',
    '  <Else>',
    `    ErrorDocument 200 ${quoteConfig(body)}`,
    '  </Else>',
  ];
}

/** The name-based virtual hosts: the protected name (and localhost) first, so it is the default; strict SNI. */
export function apacheVhosts(setup: ServerSetup, port: number, canary: string, serve: (body: string) => string[]): string[] {
  const vhosts = setup.vhosts;
  if (!vhosts) return [];
  const protectedName = checkToken('protected name', vhosts.protected, TOKEN);
  const publicName = checkToken('public name', vhosts.public, TOKEN);
  const protectedPath = checkToken('protected path', setup.paths.protected, URL_PATH);
  const publicCanary = checkToken('public canary', setup.publicCanary ?? '', TOKEN);
  return [
    // A client without SNI, or whose SNI names no virtual host, is refused rather than given the default host.
    'SSLStrictSNIVHostCheck on',
    'Protocols h2 http/1.1',
    `<VirtualHost 127.0.0.1:${port}>`,
    `  ServerName ${protectedName}`,
    '  ServerAlias localhost',
    '  SSLEngine on',
    '  SSLVerifyClient require',
    '  SSLVerifyDepth 3',
    '  <Location "/">',
    '    RewriteEngine on',
    '    RewriteRule ^ - [R=404]',
    '  </Location>',
    `  <LocationMatch ${quoteConfig(`^${protectedPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)}>`,
    ...serve(`{"invoice":"INV-2026-0042","canary":"${canary}"}`).map((l) => `  ${l}`),
    '  </LocationMatch>',
    '</VirtualHost>',
    `<VirtualHost 127.0.0.1:${port}>`,
    `  ServerName ${publicName}`,
    '  SSLEngine on',
    '  SSLVerifyClient none',
    '  <Location "/">',
    ...serve(`{"status":"public","canary":"${publicCanary}"}`).map((l) => `  ${l}`),
    '  </Location>',
    '</VirtualHost>',
  ];
}
