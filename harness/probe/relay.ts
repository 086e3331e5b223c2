// A TCP relay of the suite's on loopback port 0 that re-frames the client's
// first TLS record: the ClientHello is split across two records (RFC 8446
// §5.1 allows handshake messages to span records), so a server or router that
// reads the SNI from the first record alone does not find it.
import net from 'node:net';
import { RELAY_IDLE_MS } from '../run/bounds.ts';
import { openListener } from '../servers/listener.ts';

/** A running relay. */
export interface Relay {
  port: number;
  /** Connections whose first record was split, and the sizes of the two records' payloads. */
  reframed(): { first: number; second: number }[];
  /** Idempotent; closes every connection. */
  stop(): Promise<void>;
}

/** Options of the relay. */
export interface RelayOptions {
  /** Where to relay to (127.0.0.1). */
  targetPort: number;
  /** Payload bytes of the first record; the rest of the ClientHello goes in the second. Default 8 (the SNI is far later). */
  splitAt?: number;
  /** Bound on a connection's life; default 10 s. */
  timeoutMs?: number;
}

/** The largest TLS record payload (RFC 8446 §5.1) plus its header. */
const MAX_RECORD = (1 << 14) + 5;

/** Splits one TLS record into two records of the same type and version; undefined when it is too short. */
export function splitRecord(record: Buffer, splitAt: number): [Buffer, Buffer] | undefined {
  const length = record.readUInt16BE(3);
  if (length <= splitAt || record.length !== length + 5) return undefined;
  const header = (size: number): Buffer => {
    const h = Buffer.alloc(5);
    h[0] = record[0] ?? 22;
    h[1] = record[1] ?? 3;
    h[2] = record[2] ?? 1;
    h.writeUInt16BE(size, 3);
    return h;
  };
  const payload = record.subarray(5);
  return [Buffer.concat([header(splitAt), payload.subarray(0, splitAt)]), Buffer.concat([header(length - splitAt), payload.subarray(splitAt)])];
}

/** Starts the relay on 127.0.0.1, port 0. */
export async function startRelay(opts: RelayOptions): Promise<Relay> {
  const splitAt = opts.splitAt ?? 8;
  const reframed: { first: number; second: number }[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: opts.targetPort });
    for (const s of [client, upstream]) {
      // Each end goes with the other: closing the relay's connections closes every upstream connection too.
      s.once('close', () => { client.destroy(); upstream.destroy(); });
      s.on('error', () => undefined);
      s.setTimeout(opts.timeoutMs ?? RELAY_IDLE_MS, () => { client.destroy(); upstream.destroy(); });
    }
    let pending = Buffer.alloc(0);
    const onFirst = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < 5) return;
      const need = pending.readUInt16BE(3) + 5;
      // Not a handshake record, or an impossible length: pass the bytes on untouched.
      if (pending[0] !== 22 || need > MAX_RECORD) return passOn(pending);
      if (pending.length < need) return;
      const parts = splitRecord(pending.subarray(0, need), splitAt);
      if (parts) reframed.push({ first: splitAt, second: need - 5 - splitAt });
      passOn(parts ? Buffer.concat([...parts, pending.subarray(need)]) : pending);
    };
    const passOn = (bytes: Buffer): void => {
      client.off('data', onFirst);
      upstream.write(bytes);
      client.pipe(upstream);
    };
    client.on('data', onFirst);
    upstream.pipe(client);
  });
  const listener = openListener(server);
  return { port: await listener.listen('127.0.0.1', 0), reframed: () => [...reframed], stop: () => listener.close() };
}
