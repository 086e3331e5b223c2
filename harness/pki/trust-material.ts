// Trust files broken on purpose for a second server: a client-CA bundle that
// is missing, empty or garbage, a CRL file that is garbage. Each change is
// recorded in the replay so a reader can rebuild it.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { BrokenMaterial } from '../run/case.ts';
import type { OpensslSession } from './openssl.ts';
import type { ServerSetup } from '../types.ts';
import { writeOwnFile } from '../run/own-files.ts';

/** Garbage that looks like a file someone meant to be PEM: a header and random base64 with no valid DER. */
function garbage(kind: string): string {
  const body = randomBytes(96).toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;
}

/** Replaces the setup's trust files as asked; paths stay inside the case directory. */
export async function breakTrustMaterial(setup: ServerSetup, broken: BrokenMaterial, session: OpensslSession): Promise<void> {
  const rel = (file: string): string => path.relative(session.dir, file);
  if (broken.clientCa !== undefined) {
    const file = path.join(setup.dir, `client-ca-${broken.clientCa}.pem`);
    setup.tls.clientCa = file;
    if (broken.clientCa === 'missing') {
      await rm(file, { force: true });
      session.record(`rm -f ${rel(file)}`, 'the client-CA file the second server is given does not exist');
    } else {
      const content = broken.clientCa === 'empty' ? '' : garbage('CERTIFICATE');
      writeOwnFile(file, content);
      session.record(broken.clientCa === 'empty' ? `: > ${rel(file)}` : `printf '%s\\n' '-----BEGIN CERTIFICATE-----' "$(head -c 96 /dev/urandom | base64)" '-----END CERTIFICATE-----' > ${rel(file)}`,
        `the client-CA file the second server is given is ${broken.clientCa}`);
    }
  }
  if (broken.crl === 'garbage') {
    const file = path.join(setup.dir, 'crl-garbage.pem');
    setup.tls.crl = file;
    writeOwnFile(file, garbage('X509 CRL'));
    session.record(`printf '%s\\n' '-----BEGIN X509 CRL-----' "$(head -c 96 /dev/urandom | base64)" '-----END X509 CRL-----' > ${rel(file)}`, 'the CRL file the second server is given is garbage');
  }
}
