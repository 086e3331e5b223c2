// identity: what the server learns about the client and what it logs.
import { randomBytes } from 'node:crypto';
import { defineCase } from '../harness/index.ts';

export default [
  defineCase({
    id: 'identity::cn-logged',
    title: 'logs the CN of the client it served',
    family: 'identity', severity: 'high', core: true,
    expected: 'accept',
    requires: ['log-identity'],
    why: 'An audit trail that cannot say which client fetched the invoice is no audit trail: after an incident, the log line with the certificate\'s CN is how you find whose key was used.',
    references: [{ title: 'OWASP Logging Cheat Sheet', url: 'https://cheatsheetseries.owasp.org/cheatsheets/Logging_Cheat_Sheet.html' }],
    // A fresh random CN per run: only a server that read this certificate can log it.
    pki: (b, { root }) => { b.leaf('client', { issuer: root, cn: `mail-server-${randomBytes(4).toString('hex')}` }); },
    run: async (t) => {
      const cn = t.pki.cert('client').cn;
      t.expectServed(await t.probe('client'), "client 'client'");
      const token = new RegExp(`(^|[^A-Za-z0-9-])${cn}($|[^A-Za-z0-9-])`);
      await t.expectLog((line) => token.test(line), `a log line naming CN ${cn}`, `containing the CN ${cn}`);
    },
  }),
];
