// Bare `npx mocha` runs the catalogue (spec/*.spec.ts) against the server
// MTLS_CONFORMANCE_SERVER names (default invoice): see docs/specs.md.
// `npx mocha <files>` runs just those files — mocha would otherwise add this
// spec glob to them — and the suite's self-tests have a config of their own
// (test/.mocharc.json, used by `npm run test:unit`).
const FLAGS_WITH_VALUES = new Set(['--require', '-r', '--file', '--ignore', '--exclude', '--config', '--reporter', '-R', '--reporter-option', '-O', '--ui', '-u', '--grep', '-g', '--fgrep', '-f', '--extension', '--spec', '--timeout', '-t', '--slow', '-s', '--retries', '--jobs', '-j', '--node-option', '-n', '--package']);
const args = process.argv.slice(2);
const given = args.some((arg, i) => !arg.startsWith('-') && !FLAGS_WITH_VALUES.has(args[i - 1] ?? '') && /\.[cm]?[jt]s$|[*?]/.test(arg));
module.exports = {
  'node-option': ['import=tsx', 'conditions=mtls-conformance-source'],
  extension: ['ts'],
  require: ['harness/mocha/bare.ts'],
  ...(given ? {} : { spec: ['spec/*.spec.ts'] }),
  timeout: 60000,
  slow: 2000,
};
