// Quoting for the replay scripts: a word stays bare only when bash would read
// it unchanged, anything else is quoted so bash gives back exactly the
// argument (checked by bash itself), and replayScript lays out every step kind.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { replayScript, shellQuote, type ReplayStep } from '../../harness/pki/openssl.ts';

describe('shellQuote', function () {
  // [argument, quoted]
  const rows: [string, string][] = [
    ['genpkey', 'genpkey'],
    ['-pkeyopt', '-pkeyopt'],
    ['ec_paramgen_curve:P-256', 'ec_paramgen_curve:P-256'],
    ['root.pem', 'root.pem'],
    ['a@b.example,c=d+e%f', 'a@b.example,c=d+e%f'],
    ['', "''"],
    ['/CN=Acme Root CA', "'/CN=Acme Root CA'"],
    ["another company's CA", "'another company'\\''s CA'"],
    ["'", "''\\'''"],
    ['$HOME', "'$HOME'"],
    ['`id`', "'`id`'"],
    ['a"b', "'a\"b'"],
    ['back\\slash', "'back\\slash'"],
    ['*.pem', "'*.pem'"],
    ['~', "'~'"],
    ['a;b|c&d', "'a;b|c&d'"],
    ['!', "'!'"],
    ['J\u00fcrgen', "'J\u00fcrgen'"],
    ['line\nbreak', "$'line\\x0abreak'"],
    ["tab\tand 'quote'", "$'tab\\x09and \\'quote\\''"],
    ['nul\0byte', "$'nul\\x00byte'"],
    ['esc\x1b[2J\\', "$'esc\\x1b[2J\\\\'"],
    ['del\x7f', "$'del\\x7f'"],
  ];
  for (const [arg, quoted] of rows) {
    it(`quotes ${JSON.stringify(arg)} as ${quoted}`, function () {
      expect(shellQuote(arg)).to.equal(quoted);
    });
  }

  it('gives bash back exactly each argument (NUL aside, which no argv can hold)', function () {
    const args = rows.map(([arg]) => arg).filter((arg) => !arg.includes('\0'));
    // printf '%s\0' prints each word bash parsed, NUL-terminated: a split, a join or an expansion shows.
    const out = execFileSync('bash', ['--norc', '--noprofile', '-c', `printf '%s\\0' ${args.map(shellQuote).join(' ')}`], { encoding: 'utf8', timeout: 10_000, env: { HOME: '/nonexistent-home', PATH: process.env.PATH ?? '/usr/bin:/bin' } });
    expect(out.split('\0').slice(0, -1)).to.deep.equal(args);
  });
});

describe('replayScript', function () {
  it('starts strict, with its own openssl config, and lays out openssl, write and script steps in order', function () {
    const steps: ReplayStep[] = [
      { kind: 'write', path: 'openssl.cnf', content: '[req]\ndistinguished_name = dn\n', note: 'the config every call uses' },
      { kind: 'openssl', argv: ['req', '-x509', '-subj', "/CN=Bob's CA", '-out', 'root.pem'] },
      { kind: 'script', command: 'cat root.pem inter.pem > chain.pem', note: 'the chain the client sends' },
      { kind: 'write', path: 'index file.txt', content: 'no trailing newline' },
    ];
    const lines = replayScript(steps).split('\n');
    expect(lines.slice(0, 3)).to.deep.equal(['#!/usr/bin/env bash', 'set -euo pipefail', 'export OPENSSL_CONF=./openssl.cnf']);
    expect(lines.slice(5)).to.deep.equal([
      '# the config every call uses',
      "cat > openssl.cnf <<'MTLS_EOF'", '[req]', 'distinguished_name = dn', 'MTLS_EOF',
      "openssl req -x509 -subj '/CN=Bob'\\''s CA' -out root.pem",
      '# the chain the client sends',
      'cat root.pem inter.pem > chain.pem',
      "cat > 'index file.txt' <<'MTLS_EOF'", 'no trailing newline', 'MTLS_EOF',
      '',
    ]);
  });

  it('writes a heredoc that bash reads back byte for byte, $ and backslashes included', function () {
    const content = 'dir = $ENV::HOME\\n `not run`\n';
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mtls-unit-'));
    try {
      execFileSync('bash', ['--norc', '--noprofile', '-c', replayScript([{ kind: 'write', path: "it's.cnf", content }])], { cwd: dir, timeout: 10_000 });
      expect(readFileSync(path.join(dir, "it's.cnf"), 'utf8')).to.equal(content);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is only the preamble for no steps', function () {
    expect(replayScript([]).trimEnd().split('\n')).to.have.length(5);
  });
});
