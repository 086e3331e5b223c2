// In-process listeners (the built-in servers, their routers, the suite's upstream
// and relay): listen on a port (0: any free one), keep the open connections, and
// close by refusing new ones and destroying the open ones, once.
import type { Server, Socket } from 'node:net';

/** A listener's open connections and its close; `listen` binds it. */
export interface Listener {
  /** Connections open now. */
  readonly sockets: ReadonlySet<Socket>;
  /** Listens on host:port and resolves to the bound port; rejects when it cannot bind. */
  listen(host: string, port: number): Promise<number>;
  /** Stops listening and destroys every open connection; idempotent. */
  close(): Promise<void>;
}

/** Tracks `server`'s connections from now on (call it before listening); see Listener. */
export function openListener(server: Server): Listener {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let closed: Promise<void> | undefined;
  return {
    sockets,
    listen: (host, port) => new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    }),
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        if (server.listening) server.close(() => resolve());
        else resolve();
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}
