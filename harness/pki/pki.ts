// Declarative throwaway PKIs: describe certificates and CRLs with defaults,
// refuse contradictions before openssl runs, then build them with one openssl
// process per certificate (two when exact dates are asked) and check the result.
import { X509Certificate, randomBytes } from 'node:crypto';
import { HarnessError } from '../errors.ts';
import { CLIENT_KEY_PRIMES, genpkeyArgs, isPooled, pooledKey, type PoolKey, type PooledKey } from './key-pool.ts';
import { OpensslSession, shellQuote } from './openssl.ts';
import { readOwnFile, writeOwnFile } from '../run/own-files.ts';

/** Key algorithms the builder can generate. */
export type KeySpec = 'ec-p256' | 'ec-p384' | 'rsa-1024' | 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ed25519';
/** Signature digests the builder can sign with. */
export type Digest = 'sha256' | 'sha384' | 'sha512' | 'sha1' | 'md5';

/** Options shared by every certificate. */
export interface CertOptions {
  /** Subject CN; default: the entity name. */
  cn?: string;
  /** Whole subject in openssl -subj form (`/O=x/CN=y`, `+` joins a multi-valued RDN); overrides cn. */
  subject?: string;
  /** Key algorithm; default EC P-256. A client's RSA-3072 or RSA-4096 key is multi-prime (3 or 4 primes): a server sees only its public key. */
  key?: KeySpec;
  /** Digest the issuer signs with; default sha256 (none for Ed25519 issuers). */
  digest?: Digest;
  /** notBefore, seconds from now (negative = past); default now. */
  notBefore?: number;
  /** notAfter, seconds from now; default one day. */
  notAfter?: number;
  /** keyUsage values; null omits the extension. */
  keyUsage?: string[] | null;
  /** extendedKeyUsage values; null omits the extension. */
  eku?: string[] | null;
  /** subjectAltName entries (`DNS:x`, `IP:1.2.3.4`, `email:a@b`, `URI:spiffe://td/x`); null omits it. Entries with control characters (an embedded NUL) are encoded as raw DER (DNS, email and URI only). */
  san?: string[] | null;
  /** basicConstraints pathlen (CAs only). */
  pathLen?: number;
  /** nameConstraints value, e.g. `permitted;DNS:good.example` (CAs only). */
  nameConstraints?: string;
  /** Extra lines for the extension section, e.g. `1.2.3.4.5 = critical,ASN1:UTF8String:x`. */
  extraExtensions?: string[];
  /** Deliberate breakage applied after signing. */
  tamper?: 'signature';
  /** false omits authorityKeyIdentifier, so verifiers find the issuer by name alone (impostor chains). */
  authorityKeyId?: boolean;
}

/** Options of a CA (root when it has no issuer). */
export interface CaOptions extends CertOptions {
  /** Issuing CA; absent = self-signed root. */
  issuer?: CertRef;
  /** Take this CA's exact subject DN with a key of its own (an impostor of that CA). */
  impersonate?: CertRef;
}

/** Options of an end-entity certificate. */
export interface LeafOptions extends CertOptions {
  /** Issuing CA; absent = self-signed leaf. */
  issuer?: CertRef;
  /** Issue a CA:TRUE certificate with keyCertSign as if it were a leaf (client minting identities). */
  caFlag?: boolean;
  /** Role sets the default EKU and SAN: client (clientAuth) or server (serverAuth, localhost/127.0.0.1). */
  role?: 'client' | 'server';
  /** false: the client sends its leaf alone, without the intermediates above it. */
  sendIntermediates?: boolean;
  /** Not built by build(): issued later by BuiltPki.issue() (a certificate whose life must begin after the server is up). */
  deferred?: boolean;
}

/** Options of a CRL. */
export interface CrlOptions {
  /** Certificates listed as revoked. */
  revoked?: CertRef[];
  /** Extra random serials listed as revoked (large CRLs). */
  extraEntries?: number;
  /** lastUpdate, seconds from now; default now - 60. */
  lastUpdate?: number;
  /** nextUpdate, seconds from now; default one day. */
  nextUpdate?: number;
  /** Sign with this CA's key instead of the issuer's (a forged CRL, without authorityKeyIdentifier so it is matched by name). */
  signer?: CertRef;
}

/** Options of an OCSP responder answering for the certificates one CA issued; every certificate not listed is answered good. */
export interface OcspOptions {
  /** Answered revoked. */
  revoked?: CertRef[];
  /** Left out of the responder's index, so answered unknown. */
  unknown?: CertRef[];
  /** Answered with bytes that are no OCSP response at all. */
  garbage?: CertRef[];
  /** Answered good but dated in the past: thisUpdate two hours ago, nextUpdate one hour ago. */
  stale?: CertRef[];
  /** Answered good, signed by `forger` instead of the responder. */
  forged?: CertRef[];
  /** The key that signs forged answers: a CA other than the issuer (an impostor with the issuer's name is the sharpest test). */
  forger?: CertRef;
  /** Signs every honest answer; default a delegated responder `<name>-signer` that the issuer certifies with EKU OCSPSigning. */
  signer?: CertRef;
}

/** A declared OCSP responder. */
export interface OcspRef {
  readonly name: string;
  readonly kind: 'ocsp';
}

/** What a responder answers for one certificate beyond its index entry. */
export type OcspAnswer = 'good' | 'revoked' | 'unknown' | 'garbage' | 'stale' | 'forged';

/** A built OCSP responder: the openssl index it serves and who signs. */
export interface BuiltOcsp {
  name: string;
  /** Entity name of the CA it answers for. */
  issuer: string;
  /** openssl `ca`-style index file, path relative to the PKI directory. */
  index: string;
  /** The index as built (a case may revoke at run time; the responder restores this between runs). */
  indexText: string;
  /** Entity that signs honest answers. */
  signer: string;
  /** Entity that signs forged answers. */
  forger?: string;
  /** Every certificate the CA issued, by upper-case hex serial: entity name and declared answer. */
  certs: ReadonlyMap<string, { name: string; answer: OcspAnswer }>;
}

/** Options of a build. */
export interface BuildOptions {
  /** URL written into the authorityInfoAccess OCSP entry of every certificate issued by a CA with a declared responder; required when one is declared. */
  ocspUrl?: string;
}

/** A declared certificate; pass it as an issuer or look it up after the build. */
export interface CertRef {
  readonly name: string;
  readonly kind: 'ca' | 'leaf';
}

/** A declared CRL. */
export interface CrlRef {
  readonly name: string;
  readonly kind: 'crl';
}

interface CertDecl extends CertRef {
  opts: LeafOptions & CaOptions;
  serial: string;
}

interface CrlDecl extends CrlRef {
  issuer: CertRef;
  opts: CrlOptions;
}

interface OcspDecl extends OcspRef {
  issuer: CertRef;
  signer: CertRef;
  opts: OcspOptions;
}

/** A built certificate: absolute paths and the parsed result. */
export interface BuiltCert {
  name: string;
  /** Certificate PEM path. */
  cert: string;
  /** Private key PEM path (stays in the case directory). */
  key: string;
  /** What the client sends: leaf plus every intermediate up to (not including) the root, or the leaf alone with sendIntermediates: false; PEM path. */
  chain: string;
  /** Subject as openssl -subj text. */
  subject: string;
  /** The subject CN as declared (multi-valued subjects: the whole -subj text). */
  cn: string;
  /** Serial as upper-case hex. */
  serial: string;
  /** Issuer entity name, or its own name when self-signed. */
  issuer: string;
  /** The certificate PEM text. */
  pem: string;
  x509: X509Certificate;
  /** Human summary for reports: key, validity, extensions. */
  summary: string;
}

/** A built CRL. */
export interface BuiltCrl {
  name: string;
  path: string;
  issuer: string;
  pem: string;
  /** How many serials it lists. */
  entries: number;
}

/** Everything a PKI build produced. */
export interface BuiltPki {
  dir: string;
  certs: ReadonlyMap<string, BuiltCert>;
  crls: ReadonlyMap<string, BuiltCrl>;
  /** OCSP responders, by name (empty unless the PKI declares one). */
  ocsp: ReadonlyMap<string, BuiltOcsp>;
  session: OpensslSession;
  /** A built certificate by name (throws on typos). */
  cert(name: string): BuiltCert;
  /** A built CRL by name. */
  crl(name: string): BuiltCrl;
  /** Writes the named certificates (or CRLs) into one PEM bundle and returns its path. */
  bundle(file: string, names: readonly string[]): Promise<string>;
  /** Builds a certificate declared `deferred` now; once only (later calls return the same certificate). */
  issue(name: string): Promise<BuiltCert>;
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const DAY = 86_400;

/** Declares a PKI; `build()` turns the declaration into files. */
export class PkiBuilder {
  private readonly certs: CertDecl[] = [];
  private readonly crls: CrlDecl[] = [];
  private readonly responders: OcspDecl[] = [];

  /** A CA: self-signed root without `issuer`, intermediate with one. */
  ca(name: string, opts: CaOptions = {}): CertRef {
    return this.add(name, 'ca', opts);
  }

  /** An end-entity certificate; default role client (EKU clientAuth). */
  leaf(name: string, opts: LeafOptions = {}): CertRef {
    return this.add(name, 'leaf', opts);
  }

  /** A CRL issued by `issuer`. */
  crl(name: string, issuer: CertRef, opts: CrlOptions = {}): CrlRef {
    this.checkName(name);
    this.known(issuer, `crl ${name}`);
    if (issuer.kind !== 'ca') throw specError(`crl ${name}: issuer ${issuer.name} is not a CA`);
    for (const r of opts.revoked ?? []) this.known(r, `crl ${name}`);
    if (opts.signer) {
      this.known(opts.signer, `crl ${name}`);
      if (opts.signer.kind !== 'ca') throw specError(`crl ${name}: signer ${opts.signer.name} is not a CA`);
    }
    if (opts.lastUpdate !== undefined && opts.nextUpdate !== undefined && opts.nextUpdate <= opts.lastUpdate) {
      throw specError(`crl ${name}: nextUpdate (${opts.nextUpdate}s) must come after lastUpdate (${opts.lastUpdate}s)`);
    }
    if (opts.nextUpdate !== undefined && opts.lastUpdate === undefined && opts.nextUpdate <= -60) {
      throw specError(`crl ${name}: nextUpdate (${opts.nextUpdate}s) and the default lastUpdate (-60s) contradict; give lastUpdate too`);
    }
    if (opts.lastUpdate !== undefined && opts.nextUpdate === undefined && opts.lastUpdate >= DAY) {
      throw specError(`crl ${name}: lastUpdate (${opts.lastUpdate}s) and the default nextUpdate (${DAY}s) contradict; give nextUpdate too`);
    }
    if (opts.extraEntries !== undefined && (!Number.isInteger(opts.extraEntries) || opts.extraEntries < 0)) {
      throw specError(`crl ${name}: extraEntries must be a non-negative integer, got ${opts.extraEntries}`);
    }
    if (opts.signer && opts.signer.name === issuer.name) {
      throw specError(`crl ${name}: signer ${opts.signer.name} and issuer ${issuer.name} are the same CA; a forged CRL needs another key`);
    }
    const decl: CrlDecl = { name, kind: 'crl', issuer, opts };
    this.crls.push(decl);
    return decl;
  }

  /** An OCSP responder for the certificates `issuer` issued (signer default: a delegated `<name>-signer`, EKU OCSPSigning). */
  ocsp(name: string, issuer: CertRef, opts: OcspOptions = {}): OcspRef {
    this.checkName(name);
    this.known(issuer, `ocsp ${name}`);
    if (issuer.kind !== 'ca') throw specError(`ocsp ${name}: issuer ${issuer.name} is not a CA`);
    if (this.responders.some((r) => r.issuer.name === issuer.name)) throw specError(`ocsp ${name}: ${issuer.name} already has a responder`);
    const listed = [...opts.revoked ?? [], ...opts.unknown ?? [], ...opts.garbage ?? [], ...opts.stale ?? [], ...opts.forged ?? []];
    for (const ref of listed) {
      this.known(ref, `ocsp ${name}`);
      if (this.decl(ref).opts.issuer?.name !== issuer.name) throw specError(`ocsp ${name}: ${ref.name} is not issued by ${issuer.name}, so this responder cannot answer for it`);
    }
    const twice = listed.find((ref, i) => listed.findIndex((r) => r.name === ref.name) !== i);
    if (twice) throw specError(`ocsp ${name}: ${twice.name} is given two answers`);
    if ((opts.forged?.length ?? 0) > 0 && opts.forger === undefined) throw specError(`ocsp ${name}: forged answers need a forger (a CA with another key)`);
    if (opts.forger) {
      this.known(opts.forger, `ocsp ${name}`);
      if (opts.forger.name === issuer.name) throw specError(`ocsp ${name}: forger ${opts.forger.name} and issuer ${issuer.name} are the same CA; a forged answer needs another key`);
    }
    if (opts.signer) this.known(opts.signer, `ocsp ${name}`);
    const signer = opts.signer ?? this.leaf(`${name}-signer`, {
      issuer, cn: `${subjectCn(this.decl(issuer), this.certs)} OCSP responder`, eku: ['OCSPSigning'],
      // RFC 6960 §4.2.2.2.1: a delegated responder's own status is not checked.
      extraExtensions: ['noCheck = ignored'],
    });
    const decl: OcspDecl = { name, kind: 'ocsp', issuer, signer, opts };
    this.responders.push(decl);
    return decl;
  }

  /** Whether the PKI declares an OCSP responder (its URL must then be given to build()). */
  declaresOcsp(): boolean {
    return this.responders.length > 0;
  }

  /** Names of every declared certificate, in declaration order. */
  names(): string[] {
    return this.certs.map((c) => c.name);
  }

  /** The declared certificate of that name (throws when there is none). */
  entity(name: string): CertRef {
    return this.decl({ name, kind: 'ca' });
  }

  /** The slow keys the declared certificates need (to generate them ahead). */
  pooledKeys(): PoolKey[] {
    return this.certs.flatMap((c) => poolKeyOf(c, this.certs) ?? []);
  }

  /** Builds every declared certificate and CRL inside `dir`; `signal` kills a running openssl. */
  async build(dir: string, signal?: AbortSignal, opts: BuildOptions = {}): Promise<BuiltPki> {
    if (this.responders.length > 0 && opts.ocspUrl === undefined) throw specError(`OCSP responder ${this.responders[0]?.name ?? ''} is declared but build() was given no ocspUrl`);
    const session = new OpensslSession(dir, signal);
    const certs = new Map<string, BuiltCert>();
    const checked = new Set(this.responders.map((r) => r.issuer.name));
    const unchecked = new Set(this.responders.flatMap((r) => [r.signer.name, ...(r.opts.forger ? [r.opts.forger.name] : [])]));
    const aiaOf = (decl: CertDecl): string | undefined =>
      (opts.ocspUrl !== undefined && decl.opts.issuer !== undefined && checked.has(decl.opts.issuer.name) && !unchecked.has(decl.name) ? opts.ocspUrl : undefined);
    for (const decl of this.certs) {
      if (decl.opts.deferred === true) continue;
      certs.set(decl.name, await buildCert(session, decl, certs, this.certs, aiaOf(decl)));
    }
    const issuing = new Map<string, Promise<BuiltCert>>();
    const crls = new Map<string, BuiltCrl>();
    for (const decl of this.crls) crls.set(decl.name, await buildCrl(session, decl, certs, this.certs));
    const ocsp = new Map<string, BuiltOcsp>();
    for (const decl of this.responders) ocsp.set(decl.name, buildOcsp(session, decl, this.certs));
    const lookup = <T>(map: ReadonlyMap<string, T>, what: string, name: string): T => {
      const found = map.get(name);
      if (found === undefined) throw specError(`no ${what} named ${name} in this PKI (have: ${[...map.keys()].join(', ')})`);
      return found;
    };
    return {
      dir,
      certs,
      crls,
      ocsp,
      session,
      cert: (name) => lookup(certs, 'certificate', name),
      crl: (name) => lookup(crls, 'CRL', name),
      bundle: (file, names) => {
        const parts = names.map((n) => certs.get(n)?.pem ?? crls.get(n)?.pem ?? lookup(certs, 'certificate or CRL', n).pem);
        const files = names.map((n) => (certs.has(n) ? `${n}.pem` : `${n}.crl.pem`));
        writeOwnFile(session.resolve(file), parts.join(''));
        session.record(`cat ${files.map(shellQuote).join(' ')} > ${shellQuote(file)}`, `bundle ${names.join(' + ')}`);
        return Promise.resolve(session.resolve(file));
      },
      issue: (name) => {
        const decl = this.certs.find((c) => c.name === name);
        if (decl?.opts.deferred !== true) return Promise.reject(specError(`${name} is not a deferred certificate of this PKI`));
        let pending = issuing.get(name);
        if (!pending) {
          pending = buildCert(session, decl, certs, this.certs, aiaOf(decl)).then((cert) => { certs.set(name, cert); return cert; });
          issuing.set(name, pending);
        }
        return pending;
      },
    };
  }

  private add(name: string, kind: 'ca' | 'leaf', opts: LeafOptions & CaOptions): CertRef {
    this.checkName(name);
    if (opts.issuer) this.known(opts.issuer, name);
    if (opts.issuer && this.decl(opts.issuer).opts.deferred === true) throw specError(`${name}: its issuer ${opts.issuer.name} is deferred (issued later), so it cannot sign at build time`);
    if (opts.cn !== undefined && opts.subject !== undefined) throw specError(`${name}: cn and subject both given; use one`);
    if (kind === 'leaf' && (opts.pathLen !== undefined || opts.nameConstraints !== undefined) && !opts.caFlag) {
      throw specError(`${name}: pathLen/nameConstraints apply to CAs, not to a leaf without caFlag`);
    }
    if (opts.notBefore !== undefined && opts.notAfter !== undefined && opts.notAfter <= opts.notBefore) {
      throw specError(`${name}: notAfter (${opts.notAfter}s) must come after notBefore (${opts.notBefore}s)`);
    }
    if (opts.notBefore !== undefined && opts.notAfter === undefined && opts.notBefore >= DAY) {
      throw specError(`${name}: notBefore (${opts.notBefore}s) and the default notAfter (${DAY}s) contradict; give notAfter too`);
    }
    if (opts.notAfter !== undefined && opts.notBefore === undefined && opts.notAfter <= 0) {
      throw specError(`${name}: notAfter (${opts.notAfter}s) and the default notBefore (now) contradict; give notBefore too`);
    }
    if (opts.impersonate !== undefined) {
      this.known(opts.impersonate, name);
      if (kind !== 'ca') throw specError(`${name}: impersonate applies to CAs`);
      if (opts.cn !== undefined || opts.subject !== undefined) throw specError(`${name}: impersonate and ${opts.cn !== undefined ? 'cn' : 'subject'} both set the subject; use one`);
    }
    if (opts.sendIntermediates === false && kind === 'ca') throw specError(`${name}: sendIntermediates applies to a leaf a client presents, not to a CA`);
    if (opts.sendIntermediates === false && opts.issuer === undefined) throw specError(`${name}: sendIntermediates: false and a self-signed leaf contradict (there is nothing above it)`);
    if (opts.authorityKeyId === false && opts.issuer === undefined) throw specError(`${name}: authorityKeyId: false and a self-signed certificate contradict (it carries none)`);
    if (opts.pathLen !== undefined && (!Number.isInteger(opts.pathLen) || opts.pathLen < 0)) throw specError(`${name}: pathLen must be a non-negative integer, got ${opts.pathLen}`);
    if (opts.tamper !== undefined && opts.issuer !== undefined && this.decl(opts.issuer).opts.tamper !== undefined) {
      throw specError(`${name}: tamper and an issuer (${opts.issuer.name}) that is itself tampered contradict (the issuer's own check would fail first)`);
    }
    if (opts.key !== undefined && opts.key !== 'ed25519' && opts.key.startsWith('ec') === false && opts.keyUsage?.includes('keyAgreement') === true) {
      throw specError(`${name}: keyUsage keyAgreement and a ${opts.key} key contradict (RSA keys do not agree keys)`);
    }
    const issuerKey = opts.issuer ? this.decl(opts.issuer).opts.key ?? 'ec-p256' : opts.key ?? 'ec-p256';
    if (opts.digest === 'md5' && !issuerKey.startsWith('rsa')) {
      throw specError(`${name}: digest md5 and an ${issuerKey} issuer key contradict (MD5 signatures exist only for RSA); give the issuer key: 'rsa-2048'`);
    }
    if (opts.digest !== undefined && issuerKey === 'ed25519') {
      throw specError(`${name}: digest ${opts.digest} and an ed25519 issuer key contradict (Ed25519 has no separate digest)`);
    }
    const decl: CertDecl = { name, kind, opts, serial: randomBytes(8).toString('hex').toUpperCase().replace(/^[89A-F]/, '1') };
    this.certs.push(decl);
    return decl;
  }

  private decl(ref: CertRef): CertDecl {
    const found = this.certs.find((c) => c.name === ref.name);
    if (!found) throw specError(`${ref.name} is not declared in this PKI`);
    return found;
  }

  private known(ref: CertRef, by: string): void {
    if (!this.certs.some((c) => c.name === ref.name)) throw specError(`${by}: ${ref.name} must be declared before it is used`);
  }

  private checkName(name: string): void {
    if (!NAME.test(name)) throw specError(`entity name ${JSON.stringify(name)} must match ${NAME.source}`);
    if (this.certs.some((c) => c.name === name) || this.crls.some((c) => c.name === name) || this.responders.some((c) => c.name === name)) {
      throw specError(`entity name ${name} is declared twice`);
    }
  }
}

function specError(message: string): HarnessError {
  return new HarnessError('ERR_MTLS_PKI_SPEC', `PKI description: ${message}`, 'fix the case definition');
}

function keyArgs(key: KeySpec): string[] {
  switch (key) {
    case 'ec-p256': return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    case 'ec-p384': return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'];
    case 'ed25519': return ['-newkey', 'ed25519'];
    default: return ['-newkey', `rsa:${key.slice(4)}`];
  }
}

/** The CN a declaration ends up with (for names derived from it). */
function subjectCn(decl: CertDecl, decls: readonly CertDecl[]): string {
  return /CN=([^/]*)/.exec(subjectOf(decl, decls))?.[1]?.replace(/\\(.)/g, '$1') ?? decl.name;
}

/** Escapes a CN for openssl -subj. */
function subjectOf(decl: CertDecl, decls: readonly CertDecl[]): string {
  if (decl.opts.impersonate !== undefined) {
    const target = decls.find((c) => c.name === decl.opts.impersonate?.name);
    if (target) return subjectOf(target, decls);
  }
  if (decl.opts.subject !== undefined) return decl.opts.subject;
  const cn = decl.opts.cn ?? decl.name;
  return `/CN=${cn.replace(/[\\/+]/g, (ch) => `\\${ch}`)}`;
}

/** GeneralName tags of the SAN types that can be written as raw DER. */
const RAW_SAN_TAGS: Readonly<Record<string, number>> = { email: 1, DNS: 2, URI: 6 };

/** A subjectAltName whose entries openssl's config syntax cannot carry (control characters, an embedded NUL): generated DER. */
function rawSan(entries: readonly string[]): { line: string; section: string[] } | undefined {
  // eslint-disable-next-line no-control-regex
  if (!entries.some((e) => /[\x00-\x1f\x7f]/.test(e))) return undefined;
  const section = entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    const type = entry.slice(0, colon);
    const tag = RAW_SAN_TAGS[type];
    if (colon < 0 || tag === undefined) throw specError(`SAN entry ${JSON.stringify(entry)}: raw encoding supports DNS, email and URI only`);
    // IMPLICIT retags the OCTET STRING as the GeneralName choice: the same bytes an IA5String would carry.
    return `name.${i} = IMPLICIT:${tag},FORMAT:HEX,OCTETSTRING:${Buffer.from(entry.slice(colon + 1), 'latin1').toString('hex')}`;
  });
  return { line: 'subjectAltName = ASN1:SEQUENCE:san_raw', section: ['[san_raw]', ...section] };
}

function extensionLines(decl: CertDecl, ocspUrl?: string): string[] {
  const o = decl.opts;
  const isCa = decl.kind === 'ca' || o.caFlag === true;
  const selfSigned = o.issuer === undefined;
  const lines: string[] = [];
  lines.push(isCa ? `basicConstraints = critical,CA:TRUE${o.pathLen === undefined ? '' : `,pathlen:${o.pathLen}`}` : 'basicConstraints = critical,CA:FALSE');
  const ku = o.keyUsage === undefined ? (isCa ? ['keyCertSign', 'cRLSign', ...(o.caFlag ? ['digitalSignature'] : [])] : ['digitalSignature']) : o.keyUsage;
  if (ku !== null) lines.push(`keyUsage = critical,${ku.join(',')}`);
  const role = o.role ?? 'client';
  const eku = o.eku === undefined ? (decl.kind === 'ca' ? null : [role === 'server' ? 'serverAuth' : 'clientAuth']) : o.eku;
  if (eku !== null) lines.push(`extendedKeyUsage = ${eku.join(',')}`);
  const san = o.san === undefined ? (decl.kind === 'leaf' && role === 'server' ? ['DNS:localhost', 'IP:127.0.0.1'] : null) : o.san;
  if (san !== null) lines.push(rawSan(san)?.line ?? `subjectAltName = ${san.join(',')}`);
  if (o.nameConstraints !== undefined) lines.push(`nameConstraints = critical,${o.nameConstraints}`);
  lines.push('subjectKeyIdentifier = hash');
  if (!selfSigned && o.authorityKeyId !== false) lines.push('authorityKeyIdentifier = keyid:always');
  if (ocspUrl !== undefined) lines.push(`authorityInfoAccess = OCSP;URI:${ocspUrl}`);
  lines.push(...(o.extraExtensions ?? []));
  return lines;
}

/** openssl time format for `now + seconds`. */
function asn1Time(secondsFromNow: number): string {
  const d = new Date(Date.now() + secondsFromNow * 1000);
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * The pool key a certificate takes, if its key type is a slow one: multi-prime for a leaf that is no server (a client,
 * a delegated OCSP signer), two primes for keys a server or CA holds; a slot of its own among the PKI's keys of that kind.
 */
function poolKeyOf(decl: CertDecl, decls: readonly CertDecl[]): PoolKey | undefined {
  const kind = (d: CertDecl): { spec: PooledKey; primes: number } | undefined => {
    const spec = d.opts.key ?? 'ec-p256';
    if (!isPooled(spec)) return undefined;
    const client = d.kind === 'leaf' && d.opts.role !== 'server' && d.opts.caFlag !== true;
    return { spec, primes: client ? CLIENT_KEY_PRIMES[spec] : 2 };
  };
  const own = kind(decl);
  if (!own) return undefined;
  const before = decls.slice(0, Math.max(0, decls.indexOf(decl)));
  const slot = before.filter((d) => { const k = kind(d); return k?.spec === own.spec && k.primes === own.primes; }).length;
  return { ...own, slot };
}

async function buildCert(session: OpensslSession, decl: CertDecl, built: ReadonlyMap<string, BuiltCert>, decls: readonly CertDecl[], ocspUrl?: string): Promise<BuiltCert> {
  const o = decl.opts;
  const name = decl.name;
  const issuer = o.issuer ? built.get(o.issuer.name) : undefined;
  if (o.issuer && !issuer) throw specError(`${name}: issuer ${o.issuer.name} is declared after it`);
  const subject = subjectOf(decl, decls);
  const key = o.key ?? 'ec-p256';
  const exts = extensionLines(decl, ocspUrl);
  const config = ['[req]', 'distinguished_name = req_dn', 'string_mask = utf8only', 'utf8 = yes', '[req_dn]', '[ext]', ...exts, ...(rawSan(o.san ?? [])?.section ?? [])];
  const exact = o.notBefore !== undefined || (o.notAfter !== undefined && o.notAfter % DAY !== 0);
  const issuerKeyIsEd = issuer !== undefined ? issuer.x509.publicKey.asymmetricKeyType === 'ed25519' : key === 'ed25519';
  const digestArgs = issuerKeyIsEd ? [] : [`-${o.digest ?? 'sha256'}`];
  const subjArgs = ['-subj', subject, '-utf8', ...(subject.includes('+') ? ['-multivalue-rdn'] : [])];
  // A slow key comes from the pool, generated ahead; the replay script generates its own.
  let newKey = [...keyArgs(key), '-nodes', '-keyout', `${name}.key`];
  const pooled = poolKeyOf(decl, decls);
  if (pooled) {
    writeOwnFile(session.resolve(`${name}.key`), await pooledKey(pooled));
    const primes = pooled.primes > 2 ? `, ${pooled.primes} primes: no server under test holds it` : '';
    session.record(['openssl', ...genpkeyArgs(pooled, `${name}.key`)].map(shellQuote).join(' '), `${name}: ${key.toUpperCase()} key (generated ahead of the case${primes})`);
    newKey = ['-key', `${name}.key`];
  }
  if (!exact) {
    const days = String(Math.max(1, Math.round((o.notAfter ?? DAY) / DAY)));
    session.write(`${name}.cnf`, config.join('\n') + '\n', `extensions of ${name}`);
    const signer = issuer ? ['-CA', `${issuer.name}.pem`, '-CAkey', `${issuer.name}.key`] : [];
    await session.run(['req', '-x509', '-new', ...newKey, '-out', `${name}.pem`,
      ...subjArgs, '-days', days, '-set_serial', `0x${decl.serial}`, ...digestArgs, ...signer,
      '-config', `${name}.cnf`, '-extensions', 'ext'], `${name}: ${decl.kind === 'ca' ? 'CA' : 'leaf'} signed by ${issuer?.name ?? 'itself'}`);
  } else {
    // `openssl ca` is the only 3.0 command that takes exact notBefore/notAfter.
    const signerName = issuer?.name ?? name;
    config.push('[ca]', 'default_ca = this_ca', '[this_ca]', `database = ${name}.db`, 'new_certs_dir = .', `serial = ${name}.srl`,
      'policy = policy_any', 'unique_subject = no', 'email_in_dn = no', 'copy_extensions = none', '[policy_any]');
    session.write(`${name}.cnf`, config.join('\n') + '\n', `extensions and signing settings of ${name}`);
    session.write(`${name}.db`, '');
    session.write(`${name}.srl`, `${decl.serial}\n`);
    await session.run(['req', '-new', ...newKey, '-out', `${name}.csr`, ...subjArgs,
      '-config', `${name}.cnf`], `${name}: key and request`);
    await session.run(['ca', '-batch', '-notext', '-preserveDN', '-config', `${name}.cnf`, '-extensions', 'ext', '-in', `${name}.csr`,
      '-out', `${name}.pem`, ...(issuer ? ['-cert', `${signerName}.pem`, '-keyfile', `${signerName}.key`] : ['-selfsign', '-keyfile', `${name}.key`]),
      '-startdate', asn1Time(o.notBefore ?? 0), '-enddate', asn1Time(o.notAfter ?? DAY), '-md', issuerKeyIsEd ? 'default' : o.digest ?? 'sha256', ...subjArgs.slice(2)],
    `${name}: signed by ${signerName} with exact validity`);
  }
  if (o.tamper === 'signature') tamperSignature(session, name);
  const pem = readOwnFile(session.resolve(`${name}.pem`));
  const x509 = new X509Certificate(pem);
  checkCert(decl, x509, issuer, ocspUrl);
  const chainParts = [pem];
  for (let up = o.sendIntermediates === false ? undefined : issuer; up && up.issuer !== up.name; up = built.get(up.issuer)) {
    if (up.x509.issuer === up.x509.subject) break;
    chainParts.push(up.pem);
  }
  writeOwnFile(session.resolve(`${name}.chain.pem`), chainParts.join(''));
  return {
    name, cert: session.resolve(`${name}.pem`), key: session.resolve(`${name}.key`), chain: session.resolve(`${name}.chain.pem`),
    subject, cn: o.cn ?? (o.subject === undefined ? name : o.subject), serial: decl.serial, issuer: issuer?.name ?? name, pem, x509,
    summary: `${key}, ${exts.filter((l) => !/KeyIdentifier/.test(l)).map((l) => l.replace(/ = /, ': ')).join('; ')}${o.digest ? `; signed with ${o.digest}` : ''}${o.tamper ? `; ${o.tamper} tampered` : ''}`,
  };
}

/** Flips one bit in the last byte of the signature (the DER stays parseable). */
function tamperSignature(session: OpensslSession, name: string): void {
  const pem = readOwnFile(session.resolve(`${name}.pem`));
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(b64, 'base64');
  const last = der.length - 1;
  der[last] = (der[last] ?? 0) ^ 0x01;
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  writeOwnFile(session.resolve(`${name}.pem`), `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`);
  session.record(
    `openssl x509 -in ${name}.pem -outform DER -out ${name}.der && b=$(tail -c1 ${name}.der | od -An -tu1) && head -c -1 ${name}.der > ${name}.tmp && printf "\\\\$(printf %03o $((b ^ 1)))" >> ${name}.tmp && openssl x509 -inform DER -in ${name}.tmp -out ${name}.pem`,
    `${name}: flip one bit of the signature`,
  );
}

/** The cA flag of a DER certificate's basicConstraints (false when absent). */
export function basicConstraintsCa(der: Buffer): boolean {
  const oid = der.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x13]));
  if (oid < 0) return false;
  // OID, optional critical BOOLEAN, OCTET STRING { SEQUENCE { cA BOOLEAN TRUE ... } }.
  const window = der.subarray(oid + 5, oid + 5 + 12);
  return window.indexOf(Buffer.from([0x30, 0x03, 0x01, 0x01, 0xff])) >= 0 || window.indexOf(Buffer.from([0x01, 0x01, 0xff, 0x02])) >= 0;
}

/** Checks what openssl produced against what was asked. */
function checkCert(decl: CertDecl, x509: X509Certificate, issuer: BuiltCert | undefined, ocspUrl?: string): void {
  const fail = (what: string): never => {
    throw new HarnessError('ERR_MTLS_PKI_CHECK', `PKI check: ${decl.name} ${what}`, 'openssl produced something other than what was asked; report this with your openssl version');
  };
  const wantCa = decl.kind === 'ca' || decl.opts.caFlag === true;
  const key = decl.opts.key ?? 'ec-p256';
  // Each read of x509.publicKey makes a new KeyObject.
  const publicKey = x509.publicKey;
  const details = publicKey.asymmetricKeyDetails;
  const gotKey = publicKey.asymmetricKeyType === 'rsa' ? `rsa-${details?.modulusLength ?? '?'}`
    : publicKey.asymmetricKeyType === 'ec' ? (details?.namedCurve === 'secp384r1' ? 'ec-p384' : details?.namedCurve === 'prime256v1' ? 'ec-p256' : `ec-${details?.namedCurve ?? '?'}`)
      : publicKey.asymmetricKeyType ?? '?';
  if (gotKey !== key) fail(`has a ${gotKey} key, expected ${key}`);
  if (decl.opts.notBefore !== undefined) {
    const wantBefore = Date.now() + decl.opts.notBefore * 1000;
    if (Math.abs(Date.parse(x509.validFrom) - wantBefore) > 120_000) fail(`notBefore ${x509.validFrom} is far from the asked ${new Date(wantBefore).toISOString()}`);
  }
  if (decl.opts.impersonate !== undefined && issuer === undefined && x509.subject !== x509.issuer) fail('is not self-signed under the impersonated subject');
  // x509.ca is false for a CA whose keyUsage lacks keyCertSign, so read basicConstraints itself.
  if (basicConstraintsCa(x509.raw) !== wantCa) fail(`came out CA:${String(x509.ca).toUpperCase()}, expected CA:${String(wantCa).toUpperCase()}`);
  const eku = extensionLines(decl).find((l) => l.startsWith('extendedKeyUsage'));
  const ekuOids = x509.keyUsage ?? [];
  if (eku?.includes('clientAuth') && !ekuOids.includes('1.3.6.1.5.5.7.3.2')) fail('lacks EKU clientAuth');
  if (eku?.includes('serverAuth') && !ekuOids.includes('1.3.6.1.5.5.7.3.1')) fail('lacks EKU serverAuth');
  if (eku?.includes('OCSPSigning') && !ekuOids.includes('1.3.6.1.5.5.7.3.9')) fail('lacks EKU OCSPSigning');
  if (ocspUrl !== undefined && !(x509.infoAccess ?? '').includes(`OCSP - URI:${ocspUrl}`)) fail(`lacks the authorityInfoAccess OCSP URL ${ocspUrl}`);
  if (eku === undefined && x509.keyUsage !== undefined && decl.opts.eku === null) fail('carries an EKU that was not asked for');
  const notAfter = Date.parse(x509.validTo);
  const wantAfter = Date.now() + (decl.opts.notAfter ?? DAY) * 1000;
  const exact = decl.opts.notBefore !== undefined || (decl.opts.notAfter !== undefined && decl.opts.notAfter % DAY !== 0);
  if (Math.abs(notAfter - wantAfter) > (exact ? 120_000 : DAY * 1000)) fail(`notAfter ${x509.validTo} is far from the asked ${new Date(wantAfter).toISOString()}`);
  if (issuer && x509.issuer !== issuer.x509.subject) fail(`does not name ${issuer.name} as its issuer`);
  if (issuer && decl.opts.tamper === undefined && !x509.verify(issuer.x509.publicKey)) fail(`is not signed by ${issuer.name}`);
  if (!issuer && decl.opts.tamper === undefined && !x509.verify(publicKey)) fail('is not self-signed');
}

async function buildCrl(session: OpensslSession, decl: CrlDecl, certs: ReadonlyMap<string, BuiltCert>, decls: readonly CertDecl[]): Promise<BuiltCrl> {
  const o = decl.opts;
  const signer = certs.get((o.signer ?? decl.issuer).name);
  if (!signer) throw specError(`crl ${decl.name}: signer is not built`);
  // The ca database stores UTCTime (two-digit year).
  const revokedAt = asn1Time(-120).slice(2);
  const expiry = asn1Time(DAY).slice(2);
  const rows = (o.revoked ?? []).map((ref) => {
    const d = decls.find((c) => c.name === ref.name);
    return `R\t${expiry}\t${revokedAt},keyCompromise\t${d?.serial ?? '01'}\tunknown\t/CN=${ref.name}\n`;
  });
  for (let i = 0; i < (o.extraEntries ?? 0); i++) {
    rows.push(`R\t${expiry}\t${revokedAt}\t${(0x10000000 + i).toString(16).toUpperCase()}\tunknown\t/CN=filler\n`);
  }
  const name = decl.name;
  // A forged CRL carries no authorityKeyIdentifier: verifiers then match it to the real issuer by name alone.
  const config = ['[ca]', 'default_ca = this_ca', '[this_ca]', `database = ${name}.crl.db`, 'default_md = sha256',
    ...(o.signer ? [] : ['crl_extensions = crl_ext', '[crl_ext]', 'authorityKeyIdentifier = keyid:always'])];
  session.write(`${name}.crl.cnf`, config.join('\n') + '\n', `CRL settings of ${name}`);
  const extra = o.extraEntries ?? 0;
  if (extra > 1000) {
    // Too large to print: the replay generates the filler rows instead.
    writeOwnFile(session.resolve(`${name}.crl.db`), rows.join(''));
    // Dates stay separate words of printf, so a reader (or a date rewrite) sees them as such.
    const listed = (o.revoked ?? []).map((ref) => [expiry, revokedAt, decls.find((c) => c.name === ref.name)?.serial ?? '01', shellQuote(`/CN=${ref.name}`)].join(' ')).join(' ');
    session.record(`{ ${listed ? `printf 'R\\t%s\\t%s,keyCompromise\\t%s\\tunknown\\t%s\\n' ${listed}; ` : ''}for i in $(seq 0 ${extra - 1}); do printf 'R\\t%s\\t%s\\t%X\\tunknown\\t/CN=filler\\n' ${expiry} ${revokedAt} $((0x10000000 + i)); done; } > ${name}.crl.db`,
      `${name}: revocation database with ${rows.length} entries`);
  } else {
    session.write(`${name}.crl.db`, rows.join(''), `${name}: revocation database (${rows.length} entries)`);
  }
  await session.run(['ca', '-gencrl', '-batch', '-config', `${name}.crl.cnf`, '-cert', `${signer.name}.pem`, '-keyfile', `${signer.name}.key`,
    '-out', `${name}.crl.pem`, '-crl_lastupdate', asn1Time(o.lastUpdate ?? -60), '-crl_nextupdate', asn1Time(o.nextUpdate ?? DAY)],
  `${name}: CRL of ${decl.issuer.name}${o.signer ? ` forged with ${o.signer.name}'s key` : ''}`);
  const pem = readOwnFile(session.resolve(`${name}.crl.pem`));
  if (!/^-----BEGIN X509 CRL-----\n[\s\S]+\n-----END X509 CRL-----\n?$/.test(pem)) {
    throw new HarnessError('ERR_MTLS_PKI_CHECK', `PKI check: ${name} is not one PEM CRL`, 'openssl produced something other than what was asked; report this with your openssl version');
  }
  return { name, path: session.resolve(`${name}.crl.pem`), issuer: decl.issuer.name, pem, entries: rows.length };
}

function buildOcsp(session: OpensslSession, decl: OcspDecl, decls: readonly CertDecl[]): BuiltOcsp {
  const o = decl.opts;
  const answerOf = (name: string): OcspAnswer => {
    const has = (list: CertRef[] | undefined): boolean => (list ?? []).some((r) => r.name === name);
    return has(o.revoked) ? 'revoked' : has(o.unknown) ? 'unknown' : has(o.garbage) ? 'garbage' : has(o.stale) ? 'stale' : has(o.forged) ? 'forged' : 'good';
  };
  const certs = new Map<string, { name: string; answer: OcspAnswer }>();
  for (const c of decls) if (c.opts.issuer?.name === decl.issuer.name) certs.set(c.serial, { name: c.name, answer: answerOf(c.name) });
  // The ca database stores UTCTime (two-digit year); the responder reads only status, serial and revocation time.
  const revokedAt = asn1Time(-120).slice(2);
  const expiry = asn1Time(DAY).slice(2);
  const rows = [...certs].filter(([, c]) => c.answer !== 'unknown').map(([serial, c]) =>
    c.answer === 'revoked' ? `R\t${expiry}\t${revokedAt},keyCompromise\t${serial}\tunknown\t/CN=${c.name}\n` : `V\t${expiry}\t\t${serial}\tunknown\t/CN=${c.name}\n`);
  const index = `${decl.name}.ocsp.idx`;
  const indexText = rows.join('');
  session.write(index, indexText, `${decl.name}: status index of ${decl.issuer.name}'s certificates for the OCSP responder (${rows.length} entries)`);
  const signer = decl.signer.name;
  session.record(`# openssl ocsp -index ${index} -CA ${decl.issuer.name}.pem -rsigner ${signer}.pem -rkey ${signer}.key -ndays 1 -port 8080`,
    `${decl.name}: the responder the suite runs answers each request this way (one openssl ocsp call per request, -reqin/-respout)${o.forger ? `; forged answers are signed with ${o.forger.name}'s key` : ''}`);
  return { name: decl.name, issuer: decl.issuer.name, index, indexText, signer, ...(o.forger ? { forger: o.forger.name } : {}), certs };
}
