// Typed harness faults. A HarnessError means the run could not be carried out
// (exit 2); it is never a conformance verdict.

export type HarnessErrorCode =
  | 'ERR_MTLS_USAGE'
  | 'ERR_MTLS_OPENSSL'
  | 'ERR_MTLS_OPENSSL_MISSING'
  | 'ERR_MTLS_PKI_SPEC'
  | 'ERR_MTLS_PKI_CHECK'
  | 'ERR_MTLS_ADAPTER_LOAD'
  | 'ERR_MTLS_ADAPTER_START'
  | 'ERR_MTLS_SERVER_MISSING'
  | 'ERR_MTLS_EXPECTATIONS'
  | 'ERR_MTLS_REPORT_DIR'
  | 'ERR_MTLS_REPORT'
  | 'ERR_MTLS_MERGE'
  | 'ERR_MTLS_NO_CASES'
  | 'ERR_MTLS_INTERRUPTED'
  | 'ERR_MTLS_RUN_TIMEOUT'
  | 'ERR_MTLS_OVERLOADED'
  | 'ERR_MTLS_OCSP';

/** A fault of the harness or of its inputs, told in one line: what, why, how to fix. */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
  /** Stable machine-readable code. */
  readonly code: HarnessErrorCode;
  /** One sentence on how to fix it, appended to the message. */
  readonly hint: string | undefined;

  constructor(code: HarnessErrorCode, message: string, hint?: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.hint = hint;
  }

  /** The single line the CLI prints. */
  oneLine(): string {
    const text = this.hint === undefined ? this.message : `${this.message}; ${this.hint}`;
    return text.replace(/\s*\n\s*/g, ' | ');
  }
}

/** True when `error` is a HarnessError (also across module copies). */
export function isHarnessError(error: unknown): error is HarnessError {
  return error instanceof HarnessError;
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The stack of an error and of every error it was caused by: --debug shows where the adapter itself threw. */
export function debugStack(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const text = e instanceof Error ? e.stack ?? `${e.name}: ${e.message}` : messageOf(e);
    parts.push(depth === 0 ? text : `caused by: ${text}`);
    if (!(e instanceof Error)) break;
  }
  return parts.join('\n');
}
