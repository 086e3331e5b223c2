// The adapter that plugs examples/my-server.ts into the suite:
//   npx mtls-conformance --server ./examples/my-server.adapter.ts
// Only a type comes from the suite, so this file also works from any directory.
import type { AddressInfo } from 'node:net';
import type { ServerAdapter } from 'mtls-conformance';
import { createMyServer } from './my-server.ts';

export default {
  name: 'my-server',
  // The server loads the CRL and logs the CN; it has no per-path mode, no allow-list and no reload.
  capabilities: ['crl', 'log-identity'],
  async start(setup) {
    const lines: string[] = [];
    const server = createMyServer({
      cert: setup.tls.cert, key: setup.tls.key, ca: setup.tls.clientCa,
      ...(setup.tls.crl ? { crl: setup.tls.crl } : {}),
      invoice: JSON.stringify({ invoice: 'INV-1', canary: setup.canary }),
      log: (line) => lines.push(line),
    });
    await new Promise<void>((resolve) => server.listen(setup.port, setup.host, resolve));
    return {
      port: (server.address() as AddressInfo).port,
      logs: () => Promise.resolve([...lines]),
      stop: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
    };
  },
} satisfies ServerAdapter;
