// The probe's HTTP/1.1 response parsing (content-length, chunked, unframed,
// incomplete and pipelined) and what a parsed response means for the case.
import { expect } from 'chai';
import { classifyResponse, parseResponse } from '../../harness/probe/probe.ts';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** The parse as plain data, for one deep-equal. */
function parsed(text: string, atEnd: boolean): { status: number; headers: Record<string, string>; body: string; consumed: number } | undefined {
  const r = parseResponse(bytes(text), atEnd);
  return r && { status: r.status, headers: r.headers, body: r.body.toString('latin1'), consumed: r.consumed };
}

describe('parseResponse', function () {
  const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nCANARY';

  it('reads a content-length response: status, lower-cased trimmed headers, body and bytes consumed', function () {
    const text = 'HTTP/1.1 200 OK\r\nContent-Length:  6 \r\nX-Mixed-Case: a: b\r\n\r\nCANARY';
    expect(parsed(`${text}HTTP/1.1`, false)).to.deep.equal({ status: 200, headers: { 'content-length': '6', 'x-mixed-case': 'a: b' }, body: 'CANARY', consumed: text.length });
  });

  it('waits for the rest of an incomplete head or body, and takes what came once the connection ended', function () {
    expect(parsed('HTTP/1.1 200 OK\r\nContent-Len', false)).to.equal(undefined);
    expect(parsed(ok.slice(0, -2), false)).to.equal(undefined);
    expect(parsed(ok.slice(0, -2), true)).to.deep.equal({ status: 200, headers: { 'content-length': '6' }, body: 'CANA', consumed: ok.length - 2 });
    // Bytes without a head at the end of the connection: no status line.
    expect(parsed('garbage', true)).to.deep.equal({ status: 0, headers: {}, body: 'garbage', consumed: 7 });
    expect(parsed('', true)).to.equal(undefined);
  });

  it('reads two pipelined responses one at a time', function () {
    const two = bytes(`${ok}HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno`);
    const first = parseResponse(two, false);
    expect(first?.consumed).to.equal(ok.length);
    const second = parseResponse(two.subarray(first?.consumed ?? 0), false);
    expect([second?.status, second?.body.toString(), second?.consumed]).to.deep.equal([403, 'no', two.length - ok.length]);
  });

  it('reads a chunked body, with chunk extensions and trailers, whatever the case of the header', function () {
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3;ext=1\r\nCAN\r\n3\r\nARY\r\n0\r\nX-Trailer: t\r\n\r\n';
    expect(parsed(chunked, false)).to.deep.equal({ status: 200, headers: { 'transfer-encoding': 'Chunked' }, body: 'CANARY', consumed: chunked.length });
    expect(parsed(`${chunked}HTTP/1.1 200`, false)?.consumed).to.equal(chunked.length);
  });

  it('waits for a chunked body to end, and keeps the chunks that came when the connection ended early', function () {
    const head = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
    for (const cut of [`${head}3\r\nCA`, `${head}3\r\nCAN\r\n`, `${head}3\r\nCAN\r\n0\r\n`]) expect(parsed(cut, false), cut).to.equal(undefined);
    expect(parsed(`${head}3\r\nCAN\r\n3\r\nAR`, true)?.body).to.equal('CAN');
    // The last chunk without its final CRLF, at the end of the connection: the body is whole.
    expect(parsed(`${head}3\r\nCAN\r\n0\r\n`, true)?.body).to.equal('CAN');
  });

  it('takes a malformed chunk size as the end of the body, consuming everything', function () {
    const bad = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nCAN\r\nzz\r\nARY\r\n';
    expect(parsed(bad, false)).to.deep.equal({ status: 200, headers: { 'transfer-encoding': 'chunked' }, body: 'CAN', consumed: bad.length });
  });

  it('reads an unframed body only at the end of the connection', function () {
    const unframed = 'HTTP/1.0 200 OK\r\nServer: x\r\n\r\nCANARY and more';
    expect(parsed(unframed, false)).to.equal(undefined);
    expect(parsed(unframed, true)).to.deep.equal({ status: 200, headers: { server: 'x' }, body: 'CANARY and more', consumed: unframed.length });
  });

  it('gives status 0 to a status line that is not HTTP/1.x with three digits', function () {
    for (const line of ['HTTP/2 200', 'HTTP/1.1 20 OK', 'SSH-2.0-OpenSSH', 'http/1.1 200 OK']) {
      expect(parsed(`${line}\r\nContent-Length: 0\r\n\r\n`, false)?.status, line).to.equal(0);
    }
    expect(parsed('HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n', false)?.status).to.equal(404);
  });
});

describe('classifyResponse', function () {
  const CANARY = 'canary-5f3a';
  const respond = (status: number, body: string) => ({ status, headers: {}, body: Buffer.from(body), consumed: 40 + body.length });
  // [status, body, outcome, error]
  const rows: [number, string, string, string | undefined][] = [
    [200, `invoice ${CANARY}`, 'accepted', undefined],
    [204, CANARY, 'accepted', undefined],
    [403, `denied, but here it is: ${CANARY}`, 'leaked', undefined],
    [302, `moved: ${CANARY}`, 'leaked', undefined],
    [403, 'forbidden', 'rejected-http', undefined],
    [400, 'No required SSL certificate was sent', 'rejected-http', undefined],
    [500, 'internal error', 'rejected-http', undefined],
    [200, 'a page without the token', 'error', 'HTTP 200 without the canary'],
    [302, '', 'error', 'HTTP 302 without the canary'],
    [0, 'not http at all', 'error', 'HTTP (no status line) without the canary'],
    [200, 'canary-5f3', 'error', 'HTTP 200 without the canary'],
  ];
  for (const [status, body, outcome, error] of rows) {
    it(`makes HTTP ${status || '(none)'} "${body}" ${outcome}`, function () {
      const obs = classifyResponse(respond(status, body), CANARY, 'TLSv1.3', false, performance.now());
      expect([obs.outcome, obs.error, obs.canarySeen]).to.deep.equal([outcome, error, body.includes(CANARY)]);
      expect(obs).to.include({ status, protocol: 'TLSv1.3', handshake: true, requestSent: true, resumed: false, responseBytes: 40 + body.length });
    });
  }

  it('keeps the first 200 characters of the body as evidence, and no protocol when none was negotiated', function () {
    const obs = classifyResponse(respond(403, 'x'.repeat(500)), CANARY, undefined, true, performance.now());
    expect(obs.bodyExcerpt).to.have.length(200);
    expect(obs).to.not.have.property('protocol');
    expect(obs.resumed).to.equal(true);
  });
});
