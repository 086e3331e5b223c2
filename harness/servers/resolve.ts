// Resolving `--server`: a built-in adapter by name or a module by path, checked
// against the ServerAdapter contract before any case runs.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { tsImport } from 'tsx/esm/api';
import { HarnessError, messageOf } from '../errors.ts';
import { BUILT_INS, BUILT_IN_NAMES } from './index.ts';
import { CAPABILITIES, type Forwarding, type ForwardingFormat, type RunningServer, type ServerAdapter } from '../types.ts';

const ADAPTER_NAME = /^[a-z0-9-]+$/;

/** True when `--server` names a file rather than a built-in. */
export function looksLikePath(spec: string): boolean {
  return spec.includes('/') || spec.includes(path.sep) || /\.(?:[cm]?[jt]s)$/.test(spec);
}

/** Loads the adapter `--server` names. */
export async function resolveAdapter(spec: string, cwd = process.cwd()): Promise<ServerAdapter> {
  if (!looksLikePath(spec)) {
    const load = BUILT_INS[spec];
    if (!load) {
      throw new HarnessError('ERR_MTLS_ADAPTER_LOAD', `unknown server ${JSON.stringify(spec)}`, `use one of ${BUILT_IN_NAMES.join(', ')}, all, or a path to an adapter module (./my-adapter.ts)`);
    }
    return validateAdapter(await load(), `built-in ${spec}`);
  }
  const file = path.resolve(cwd, spec);
  try {
    await access(file);
  } catch {
    throw new HarnessError('ERR_MTLS_ADAPTER_LOAD', `adapter module ${file} not found`, 'check the path given to --server');
  }
  let mod: { default?: unknown };
  try {
    // tsImport compiles TypeScript wherever the file lives, also beside no package.json (where .ts means CommonJS).
    mod = unwrapCommonJs((await tsImport(file, import.meta.url)) as { default?: unknown });
  } catch (error) {
    throw new HarnessError('ERR_MTLS_ADAPTER_LOAD', `adapter module ${file} failed to load: ${loadErrorText(error)}`, 'fix the module so that it imports cleanly');
  }
  if (mod.default === undefined) {
    throw new HarnessError('ERR_MTLS_ADAPTER_LOAD', `adapter module ${file} has no default export`, 'export the adapter: export default { name, capabilities, start } satisfies ServerAdapter');
  }
  return validateAdapter(mod.default, file);
}

/** A module compiled to CommonJS arrives as { default: exports }; its own default export is exports.default. */
function unwrapCommonJs(ns: { default?: unknown }): { default?: unknown } {
  const exported = ns.default;
  if (typeof exported === 'object' && exported !== null && (exported as { __esModule?: unknown }).__esModule === true) {
    return { default: (exported as { default?: unknown }).default };
  }
  return ns;
}

/** Checks a loaded value against the ServerAdapter contract. */
export function validateAdapter(value: unknown, source: string): ServerAdapter {
  const bad = (what: string, fix: string): never => {
    throw new HarnessError('ERR_MTLS_ADAPTER_LOAD', `adapter ${source}: ${what}`, fix);
  };
  if (typeof value !== 'object' || value === null) return bad(`default export is ${value === null ? 'null' : typeof value}, not an object`, 'export an object with name, capabilities and start');
  const a = value as Partial<Record<keyof ServerAdapter, unknown>>;
  if (typeof a.name !== 'string' || !ADAPTER_NAME.test(a.name)) {
    return bad(`name ${JSON.stringify(a.name)} is not a string of [a-z0-9-]+`, 'give the adapter a lower-case name such as "my-server"');
  }
  if (typeof a.start !== 'function') return bad('has no start function', 'add start(setup) returning a RunningServer');
  if (!Array.isArray(a.capabilities)) return bad('capabilities is not an array', `declare capabilities as an array of ${CAPABILITIES.join(', ')} (or [])`);
  for (const c of a.capabilities as unknown[]) {
    if (typeof c !== 'string' || !(CAPABILITIES as readonly string[]).includes(c)) {
      return bad(`unknown capability ${JSON.stringify(c)}`, `use only ${CAPABILITIES.join(', ')}`);
    }
  }
  const adapter = value as ServerAdapter;
  const forwarding = checkForwarding(adapter, bad);
  return { name: adapter.name, capabilities: [...adapter.capabilities], ...(forwarding ? { forwarding } : {}), start: async (setup, options) => checkRunning(await adapter.start(setup, options), source) };
}

const FORWARDING_FORMATS: readonly ForwardingFormat[] = ['rfc9440', 'pem-urlencoded', 'cn', 'dn', 'xfcc'];

/** A proxy must say how it forwards the client identity; the declaration is checked like the rest. */
function checkForwarding(adapter: ServerAdapter, bad: (what: string, fix: string) => never): Forwarding | undefined {
  const f = adapter.forwarding as Partial<Record<keyof Forwarding, unknown>> | undefined;
  if (f === undefined) {
    if (adapter.capabilities.includes('proxy')) bad("declares 'proxy' without forwarding", `add forwarding: { header: 'client-cert', format: 'rfc9440' } (formats: ${FORWARDING_FORMATS.join(', ')})`);
    return undefined;
  }
  if (typeof f !== 'object' || typeof f.header !== 'string' || !/^[A-Za-z0-9-]+$/.test(f.header)) bad(`forwarding.header ${JSON.stringify(f.header)} is not a header name`, "name the request header, e.g. 'client-cert'");
  if (typeof f.format !== 'string' || !(FORWARDING_FORMATS as readonly string[]).includes(f.format)) bad(`forwarding.format ${JSON.stringify(f.format)} is unknown`, `use one of ${FORWARDING_FORMATS.join(', ')}`);
  return { header: f.header, format: f.format as ForwardingFormat };
}

/** Checks what start() returned against the RunningServer contract, so a broken adapter is a harness fault (exit 2), not a verdict. */
export function checkRunning(value: unknown, source: string): RunningServer {
  const r = value as Partial<Record<keyof RunningServer, unknown>> | null | undefined;
  const missing = [
    !(typeof r?.port === 'number' && Number.isInteger(r.port) && r.port > 0 && r.port < 65536) && 'a port number',
    typeof r?.logs !== 'function' && 'logs()',
    typeof r?.stop !== 'function' && 'stop()',
    r?.reload !== undefined && typeof r.reload !== 'function' && 'reload as a function',
  ].filter(Boolean);
  if (missing.length > 0) {
    // Whatever did start must not outlive the run.
    if (typeof r?.stop === 'function') void Promise.resolve().then(() => (r.stop as () => Promise<void>)()).catch(() => undefined);
    throw new HarnessError('ERR_MTLS_ADAPTER_START', `adapter ${source}: start() returned ${r === null || typeof r !== 'object' ? String(r) : 'an object'} without ${missing.join(', ')}`, 'resolve start(setup) to { port, logs(), stop() } once the server listens');
  }
  return value as RunningServer;
}

/** The first useful sentence of an import error: a transpiler's "file:line:col: ERROR: text" line, else the message's first line. */
function loadErrorText(error: unknown): string {
  const lines = messageOf(error).split('\n').map((line) => line.trim()).filter((line) => line !== '');
  for (const line of lines) {
    const m = /:(\d+):(\d+): ERROR: (.*)$/.exec(line);
    if (m) return `${m[3] ?? ''} (line ${m[1] ?? '?'}, column ${m[2] ?? '?'})`;
  }
  return lines[0] ?? 'unknown error';
}
