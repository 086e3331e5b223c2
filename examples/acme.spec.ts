// A team's own cases, run beside the catalogue and reported like it:
//   npx mtls-conformance --server ./examples/my-server.adapter.ts --spec examples/acme.spec.ts
// A family of your own (its ids start with `acme::`), declared as data; docs/specs.md has the API.
import { defineCase, describeCases } from 'mtls-conformance';

describeCases('acme', [
  defineCase({
    id: 'acme::health-is-public',
    family: 'acme',
    title: 'serves its health check to a client without a certificate',
    severity: 'low',
    why: 'The load balancer probes /healthz without a client certificate; a server that requires one there is taken out of rotation.',
    expected: 'accept',
    tls: 'once',
    requires: ['path-authz'],
    setup: { clientAuth: 'per-path', paths: { protected: '/admin', public: '/healthz' } },
    run: async (t) => {
      const health = await t.probe(null, { path: '/healthz' }, { canary: t.setup.publicCanary ?? '' });
      t.expectServed(health, 'no certificate on /healthz');
    },
  }),
  defineCase({
    id: 'acme::admin-needs-a-certificate',
    family: 'acme',
    title: 'refuses /admin to a client without a certificate',
    severity: 'high',
    why: 'The admin API is the part a client certificate protects.',
    expected: 'reject',
    // The company's client: the suite's root CA issues it (the PKI is rebuilt for every case run).
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: 'billing-service' }); },
    run: async (t) => {
      t.expectRefused(await t.probe(null), 'no certificate on the protected path');
      t.expectServed(await t.probe('client'), 'the company client on the protected path');
    },
  }),
]);
