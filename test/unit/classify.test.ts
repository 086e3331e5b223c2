// What the probe makes of a socket error, and of an observation: only an alert
// the server sent is an alert, a reset is a reset, and the probe's own TLS
// trouble is an error that says what it is, never a refusal.
import { expect } from 'chai';
import { ALERTS, classifyError, describeObservation, isAmbiguous, observationSentence } from '../../harness/probe/probe.ts';
import type { Observation } from '../../harness/types.ts';

/** A socket error as Node raises it: OpenSSL's reason in the message, its code in `code`. */
function socketError(code: string | undefined, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

const ALERT_116 = 'error:0A00045C:SSL routines::tlsv13 alert certificate required:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 116';
const ALERT_48 = 'error:0A000418:SSL routines::tlsv1 alert unknown ca:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 48';
const WRONG_VERSION = 'error:0A00010B:SSL routines::wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:355:';

describe('classifyError', function () {
  // [what, code, message, handshake done, outcome, alert (undefined: none), the error says]
  const rows: [string, string | undefined, string, boolean, Observation['outcome'], string | undefined, RegExp][] = [
    ['a TLS 1.3 certificate_required alert', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', ALERT_116, false, 'rejected-handshake', 'certificate_required', /^ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED$/],
    ['the same alert after the handshake (TLS 1.3 client auth)', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', ALERT_116, true, 'rejected-handshake', 'certificate_required', /CERTIFICATE_REQUIRED/],
    ['an unknown_ca alert', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', ALERT_48, false, 'rejected-handshake', 'unknown_ca', /UNKNOWN_CA/],
    ['a protocol_version alert: the alert wins over a version-sounding code', 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'SSL alert number 70', false, 'rejected-handshake', 'protocol_version', /PROTOCOL_VERSION/],
    ['an alert number the table does not name', 'ERR_SSL_TLSV1_ALERT_UNKNOWN', 'SSL alert number 255', false, 'rejected-handshake', 'alert_255', /ALERT_UNKNOWN/],
    ['an alert without a code: the message is the error', undefined, 'SSL alert number 42', false, 'rejected-handshake', 'bad_certificate', /^SSL alert number 42$/],
    ['a reset', 'ECONNRESET', 'read ECONNRESET', false, 'rejected-handshake', 'reset', /^ECONNRESET$/],
    ['a broken pipe', 'EPIPE', 'write EPIPE', true, 'rejected-handshake', 'reset', /^EPIPE$/],
    ['bytes that are not TLS (WRONG_VERSION_NUMBER)', 'ERR_SSL_WRONG_VERSION_NUMBER', WRONG_VERSION, false, 'error', undefined, /^not TLS: .*ERR_SSL_WRONG_VERSION_NUMBER\)$/],
    ['an HTTP answer to a ClientHello (PACKET_LENGTH_TOO_LONG)', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'packet length too long', false, 'error', undefined, /^not TLS: /],
    ['a plain-HTTP port (HTTP_REQUEST)', 'ERR_SSL_HTTP_REQUEST', 'http request', false, 'error', undefined, /^not TLS: /],
    ['a version the probe did not offer', 'ERR_SSL_UNSUPPORTED_PROTOCOL', 'unsupported protocol', false, 'error', undefined, /chose a TLS version the probe did not offer/],
    ['a version below the probe\'s minimum', 'ERR_SSL_VERSION_TOO_LOW', 'version too low', false, 'error', undefined, /did not offer \(the probe's ERR_SSL_VERSION_TOO_LOW\)/],
    ['a server certificate the probe cannot verify', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate', false, 'error', undefined, /^the probe could not verify the server certificate: UNABLE_TO_VERIFY_LEAF_SIGNATURE/],
    ['a self-signed server certificate', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', false, 'error', undefined, /could not verify the server certificate/],
    ['a server name mismatch', 'ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", false, 'error', undefined, /could not verify the server certificate: ERR_TLS_CERT_ALTNAME_INVALID/],
    ['another failure of the probe\'s TLS library: its first line only', 'ERR_SSL_BAD_RECORD_TYPE', 'bad record type\nsecond line', true, 'error', undefined, /^the probe's TLS library failed: ERR_SSL_BAD_RECORD_TYPE \(bad record type\)$/],
    ['a verification code after the handshake, which is no verification of the server', 'CERT_HAS_EXPIRED', 'certificate has expired', true, 'error', undefined, /^CERT_HAS_EXPIRED: certificate has expired$/],
    ['an error with no code', undefined, 'something odd', false, 'error', undefined, /^error: something odd$/],
  ];
  for (const [what, code, message, handshakeDone, outcome, alert, error] of rows) {
    it(`classifies ${what}`, function () {
      const got = classifyError(socketError(code, message), handshakeDone);
      expect(got.outcome, JSON.stringify(got)).to.equal(outcome);
      expect(got.alert, JSON.stringify(got)).to.equal(alert);
      expect(got.error).to.match(error);
    });
  }

  it('never takes the probe\'s own TLS errors for a refusal, whatever the phase', function () {
    const own = ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_VERSION_TOO_HIGH', 'SELF_SIGNED_CERT_IN_CHAIN', 'ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC'];
    const refusals = own.flatMap((code) => [false, true].map((done) => ({ code, done, got: classifyError(socketError(code, code.toLowerCase()), done) })))
      .filter((r) => r.got.outcome !== 'error' || r.got.alert !== undefined);
    expect(refusals.map((r) => `${r.code} (handshake done: ${String(r.done)}): ${r.got.outcome}`)).to.deep.equal([]);
  });

  it('names every alert of RFC 8446 and RFC 5246 the catalogue may prefer, by its number', function () {
    expect([ALERTS[40], ALERTS[42], ALERTS[44], ALERTS[45], ALERTS[48], ALERTS[70], ALERTS[116]])
      .to.deep.equal(['handshake_failure', 'bad_certificate', 'certificate_revoked', 'certificate_expired', 'unknown_ca', 'protocol_version', 'certificate_required']);
  });
});

describe('isAmbiguous (when the TLS 1.3 hold test runs)', function () {
  const ended: Observation = { outcome: 'rejected-handshake', alert: 'closed', handshake: true, requestSent: true, responseBytes: 0, canarySeen: false, ms: 3 };
  const rows: [string, Observation, boolean][] = [
    ['a close after the handshake, the request sent, nothing answered', ended, true],
    ['a reset in the same place', { ...ended, alert: 'reset' }, true],
    ['a close with no response bytes counted at all', { ...ended, responseBytes: undefined } as unknown as Observation, true],
    ['a close during the handshake', { ...ended, handshake: false }, false],
    ['a close before the request went out', { ...ended, requestSent: false }, false],
    ['a close after part of a response', { ...ended, responseBytes: 12 }, false],
    ['an alert the server sent', { ...ended, alert: 'certificate_required' }, false],
    ['an HTTP refusal', { outcome: 'rejected-http', status: 403, handshake: true, requestSent: true, canarySeen: false, ms: 3 }, false],
  ];
  for (const [what, obs, ambiguous] of rows) {
    it(`${ambiguous ? 'holds' : 'does not hold'} for ${what}`, function () {
      expect(isAmbiguous(obs)).to.equal(ambiguous);
    });
  }
});

describe('describeObservation and observationSentence', function () {
  const base = { canarySeen: false, ms: 1 };
  const rows: [Observation, string, string][] = [
    [{ ...base, outcome: 'accepted', status: 200, canarySeen: true, protocol: 'TLSv1.3' }, 'served (HTTP 200)', 'it was served the protected resource (HTTP 200) under TLS 1.3'],
    [{ ...base, outcome: 'leaked', status: 403, canarySeen: true }, 'leaked the canary with HTTP 403', 'the protected resource leaked in an HTTP 403 response under TLS 1.2'],
    [{ ...base, outcome: 'leaked', status: 200, canarySeen: true }, 'leaked the canary with HTTP 200', 'it was served the protected resource (HTTP 200) under TLS 1.2'],
    [{ ...base, outcome: 'rejected-http', status: 403 }, 'HTTP 403', 'it was refused with HTTP 403 under TLS 1.2'],
    [{ ...base, outcome: 'rejected-handshake', alert: 'unknown_ca', protocol: 'TLSv1.2' }, 'alert unknown_ca', 'it was refused at the TLS layer (alert unknown_ca) under TLS 1.2'],
    [{ ...base, outcome: 'rejected-handshake', alert: 'reset' }, 'connection reset', 'it was refused at the TLS layer (connection reset) under TLS 1.2'],
    [{ ...base, outcome: 'rejected-handshake', alert: 'closed' }, 'connection closed without an alert', 'it was refused at the TLS layer (connection closed without an alert) under TLS 1.2'],
    [{ ...base, outcome: 'dropped', evidence: 'it waited' }, 'handshake completed, request sent, connection ended without a response', 'the handshake completed and the request was sent, then the server ended the connection without any response: nobody refused the client (it waited) under TLS 1.2'],
    [{ ...base, outcome: 'error', error: 'timeout' }, 'error: timeout', 'the probe failed (timeout) under TLS 1.2'],
    [{ ...base, outcome: 'accepted' }, 'served (HTTP ?)', 'it was served the protected resource (HTTP ?) under TLS 1.2'],
  ];
  for (const [obs, terse, sentence] of rows) {
    it(`words ${obs.outcome}${obs.alert ? ` (${obs.alert})` : ''}${obs.status ? ` ${obs.status}` : ''} as "${terse}"`, function () {
      expect(describeObservation(obs)).to.equal(terse);
      expect(observationSentence(obs, '1.2')).to.equal(sentence);
    });
  }
});
