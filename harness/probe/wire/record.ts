// The TLS record layer (RFC 8446 §5, RFC 5246 §6.2): framing over a socket with
// bounded reads, AES-GCM protection for TLS 1.3 and TLS 1.2, and the events a
// handshake state machine consumes (handshake messages reassembled, alerts, CCS, data).
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Socket } from 'node:net';
import { DecodeError, u16, u24 } from './bytes.ts';

/** Record content types. */
export const CONTENT = { changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 } as const;

/** The largest plaintext fragment (2^14). */
const MAX_FRAGMENT = 16_384;
/** The largest ciphertext a peer may send (2^14 + 256). */
const MAX_CIPHERTEXT = MAX_FRAGMENT + 256;
/** The largest handshake message this code buffers (a 200 KiB certificate chain fits). */
const MAX_HANDSHAKE = 1 << 20;

/** One record off the wire. */
export interface TlsRecord {
  type: number;
  version: number;
  fragment: Buffer;
}

/** Reading stopped because the peer closed, reset, or the deadline passed; not an alert. */
export class TransportEnded extends Error {
  override readonly name = 'TransportEnded';
  constructor(readonly how: 'closed' | 'reset' | 'timeout', message: string) { super(message); }
}

/** The record could not be decrypted or authenticated (a local error: bad_record_mac on our side). */
export class RecordError extends Error {
  override readonly name = 'RecordError';
}

/** Buffers a socket's bytes and hands out whole records, each read bounded by a deadline. */
export class RecordTransport {
  private buffer = Buffer.alloc(0);
  private ended: TransportEnded | undefined;
  private wake: (() => void) | undefined;
  /** Every byte written, for callers that need to know what went out. */
  bytesWritten = 0;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => { this.buffer = Buffer.concat([this.buffer, chunk]); this.poke(); });
    socket.on('end', () => { this.ended ??= new TransportEnded('closed', 'the peer closed the connection'); this.poke(); });
    socket.on('close', () => { this.ended ??= new TransportEnded('closed', 'the connection closed'); this.poke(); });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const reset = err.code === 'ECONNRESET' || err.code === 'EPIPE';
      this.ended ??= new TransportEnded(reset ? 'reset' : 'closed', `${err.code ?? 'error'}: ${err.message}`);
      this.poke();
    });
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The next record; rejects with TransportEnded when the peer is gone or `deadline` (performance.now() ms) passes. */
  async next(deadline: number): Promise<TlsRecord> {
    for (;;) {
      if (this.buffer.length >= 5) {
        const length = this.buffer.readUInt16BE(3);
        if (length > MAX_CIPHERTEXT) throw new DecodeError(`record of ${length} bytes exceeds 2^14 + 256`);
        if (this.buffer.length >= 5 + length) {
          const record = { type: this.buffer.readUInt8(0), version: this.buffer.readUInt16BE(1), fragment: Buffer.from(this.buffer.subarray(5, 5 + length)) };
          this.buffer = this.buffer.subarray(5 + length);
          return record;
        }
      }
      if (this.ended) {
        if (this.buffer.length > 0 && this.ended.how === 'closed') throw new TransportEnded('closed', `${this.ended.message} in the middle of a record`);
        throw this.ended;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new TransportEnded('timeout', 'no record arrived before the deadline');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  /** Writes raw bytes unless the connection is gone. */
  write(bytes: Buffer): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    this.bytesWritten += bytes.length;
    this.socket.write(bytes);
  }
}

/** Seals and opens protected records. */
export interface RecordCipher {
  seal(type: number, plaintext: Buffer): Buffer;
  open(record: TlsRecord): { type: number; content: Buffer };
}

type Gcm = 'aes-128-gcm' | 'aes-256-gcm';

function header(type: number, length: number): Buffer {
  return Buffer.concat([Buffer.from([type]), u16(0x0303), u16(length)]);
}

/** TLS 1.3 record protection: per-record nonce = iv XOR seq, inner content type, AAD = record header. */
export class Tls13Cipher implements RecordCipher {
  private seq = 0n;
  constructor(private readonly algorithm: Gcm, private readonly key: Buffer, private readonly iv: Buffer) {}

  private nonce(): Buffer {
    const nonce = Buffer.from(this.iv);
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(this.seq++);
    for (let i = 0; i < 8; i++) nonce[nonce.length - 8 + i] = (nonce[nonce.length - 8 + i] ?? 0) ^ (seq[i] ?? 0);
    return nonce;
  }

  seal(type: number, plaintext: Buffer): Buffer {
    const inner = Buffer.concat([plaintext, Buffer.from([type])]);
    const aad = header(CONTENT.applicationData, inner.length + 16);
    const cipher = createCipheriv(this.algorithm, this.key, this.nonce());
    cipher.setAAD(aad);
    const body = Buffer.concat([cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
    return Buffer.concat([aad, body]);
  }

  open(record: TlsRecord): { type: number; content: Buffer } {
    if (record.fragment.length < 17) throw new RecordError('protected record shorter than its tag');
    const aad = header(record.type, record.fragment.length);
    const decipher = createDecipheriv(this.algorithm, this.key, this.nonce());
    decipher.setAAD(aad);
    decipher.setAuthTag(record.fragment.subarray(-16));
    let inner: Buffer;
    try {
      inner = Buffer.concat([decipher.update(record.fragment.subarray(0, -16)), decipher.final()]);
    } catch {
      throw new RecordError('a protected record failed authentication (wrong keys or a corrupted record)');
    }
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--;
    if (end < 0) throw new RecordError('a protected record has no content type');
    return { type: inner[end] ?? 0, content: inner.subarray(0, end) };
  }
}

/** TLS 1.2 AES-GCM (RFC 5288): nonce = 4-byte salt || 8-byte explicit nonce (the sequence number), AAD = seq || type || version || length. */
export class Tls12Cipher implements RecordCipher {
  private seq = 0n;
  constructor(private readonly algorithm: Gcm, private readonly key: Buffer, private readonly salt: Buffer) {}

  private aad(type: number, length: number): Buffer {
    const seq = Buffer.alloc(8);
    seq.writeBigUInt64BE(this.seq++);
    return Buffer.concat([seq, header(type, length)]);
  }

  seal(type: number, plaintext: Buffer): Buffer {
    const explicit = Buffer.alloc(8);
    explicit.writeBigUInt64BE(this.seq);
    const cipher = createCipheriv(this.algorithm, this.key, Buffer.concat([this.salt, explicit]));
    cipher.setAAD(this.aad(type, plaintext.length));
    const body = Buffer.concat([explicit, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return Buffer.concat([header(type, body.length), body]);
  }

  open(record: TlsRecord): { type: number; content: Buffer } {
    if (record.fragment.length < 24) throw new RecordError('protected record shorter than its nonce and tag');
    const explicit = record.fragment.subarray(0, 8);
    const ciphertext = record.fragment.subarray(8, -16);
    const decipher = createDecipheriv(this.algorithm, this.key, Buffer.concat([this.salt, explicit]));
    decipher.setAAD(this.aad(record.type, ciphertext.length));
    decipher.setAuthTag(record.fragment.subarray(-16));
    try {
      return { type: record.type, content: Buffer.concat([decipher.update(ciphertext), decipher.final()]) };
    } catch {
      throw new RecordError('a protected record failed authentication (wrong keys or a corrupted record)');
    }
  }
}

/** What the record layer delivers. */
export type RecordEvent =
  | { kind: 'handshake'; type: number; body: Buffer; raw: Buffer }
  | { kind: 'alert'; level: number; description: number }
  | { kind: 'ccs' }
  | { kind: 'data'; data: Buffer };

/** Framing, protection and handshake reassembly for one connection. */
export class RecordLayer {
  /** Protection of what we read and write; null = plaintext. */
  reader: RecordCipher | null = null;
  writer: RecordCipher | null = null;
  /** TLS 1.3: plaintext CCS records are passed over even once protection is on. */
  tls13 = false;
  private handshake = Buffer.alloc(0);

  constructor(readonly transport: RecordTransport) {}

  /** Sends `data` as records of `type`, fragmented at 2^14 and protected when a writer is set. */
  send(type: number, data: Buffer): void {
    for (let at = 0; at < data.length || (at === 0 && data.length === 0); at += MAX_FRAGMENT) {
      const fragment = data.subarray(at, at + MAX_FRAGMENT);
      this.transport.write(this.writer ? this.writer.seal(type, fragment) : Buffer.concat([header(type, fragment.length), fragment]));
      if (data.length === 0) break;
    }
  }

  /** Sends an alert (level 2 = fatal). */
  sendAlert(description: number, level = 2): void {
    this.send(CONTENT.alert, Buffer.from([level, description]));
  }

  /** Whether a partial handshake message is buffered (data must not interleave with it). */
  get midMessage(): boolean { return this.handshake.length > 0; }

  /** The next event; handshake messages come whole, however the peer fragmented or coalesced them. */
  async receive(deadline: number): Promise<RecordEvent> {
    for (;;) {
      const message = this.takeMessage();
      if (message) return message;
      const record = await this.transport.next(deadline);
      let type = record.type;
      let content = record.fragment;
      if (this.reader && !(this.tls13 && type === CONTENT.changeCipherSpec)) ({ type, content } = this.reader.open(record));
      switch (type) {
        case CONTENT.handshake:
          this.handshake = Buffer.concat([this.handshake, content]);
          continue;
        case CONTENT.alert: {
          if (content.length !== 2) throw new DecodeError(`alert record of ${content.length} bytes`);
          return { kind: 'alert', level: content[0] ?? 0, description: content[1] ?? 0 };
        }
        case CONTENT.changeCipherSpec:
          if (content.length !== 1 || content[0] !== 1) throw new DecodeError('malformed ChangeCipherSpec');
          return { kind: 'ccs' };
        case CONTENT.applicationData:
          if (this.midMessage) throw new DecodeError('application data inside a fragmented handshake message');
          return { kind: 'data', data: content };
        default:
          throw new DecodeError(`record of unknown content type ${type}`);
      }
    }
  }

  private takeMessage(): RecordEvent | undefined {
    if (this.handshake.length < 4) return undefined;
    const length = this.handshake.readUIntBE(1, 3);
    if (length > MAX_HANDSHAKE) throw new DecodeError(`handshake message of ${length} bytes exceeds ${MAX_HANDSHAKE}`);
    if (this.handshake.length < 4 + length) return undefined;
    const raw = Buffer.from(this.handshake.subarray(0, 4 + length));
    this.handshake = this.handshake.subarray(4 + length);
    return { kind: 'handshake', type: raw[0] ?? 0, body: raw.subarray(4), raw };
  }
}

/** A handshake message with its 4-byte header. */
export function handshakeMessage(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), u24(body.length), body]);
}
