// Byte vectors of the TLS presentation language (RFC 8446 §3): a bounds-checked
// reader that fails with a DecodeError, and writers for length-prefixed vectors.

/** A message that does not parse; a local error, never a received alert. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** Reads big-endian integers and length-prefixed vectors; every read is bounds-checked. */
export class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer, private readonly what = 'message') {}

  get remaining(): number { return this.buf.length - this.at; }

  bytes(n: number): Buffer {
    if (n > this.remaining) throw new DecodeError(`${this.what}: needs ${n} bytes at offset ${this.at}, has ${this.remaining}`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u8(): number { return this.bytes(1).readUInt8(0); }
  u16(): number { return this.bytes(2).readUInt16BE(0); }
  u24(): number { return this.bytes(3).readUIntBE(0, 3); }

  vec8(): Buffer { return this.bytes(this.u8()); }
  vec16(): Buffer { return this.bytes(this.u16()); }
  vec24(): Buffer { return this.bytes(this.u24()); }

  /** The rest of the buffer. */
  rest(): Buffer { return this.bytes(this.remaining); }

  /** Fails unless everything was read. */
  end(): void {
    if (this.remaining !== 0) throw new DecodeError(`${this.what}: ${this.remaining} trailing bytes`);
  }
}

export function u8(n: number): Buffer { return Buffer.from([n & 0xff]); }
export function u16(n: number): Buffer { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; }
export function u24(n: number): Buffer { const b = Buffer.alloc(3); b.writeUIntBE(n, 0, 3); return b; }

/** A vector with a 1-, 2- or 3-byte length prefix. */
export function vec8(body: Buffer): Buffer { return Buffer.concat([u8(body.length), body]); }
export function vec16(body: Buffer): Buffer { return Buffer.concat([u16(body.length), body]); }
export function vec24(body: Buffer): Buffer { return Buffer.concat([u24(body.length), body]); }

/** A list of 16-bit values as a vector with a 2-byte length. */
export function u16List(values: readonly number[]): Buffer { return vec16(Buffer.concat(values.map(u16))); }
