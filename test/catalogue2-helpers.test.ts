// Helpers behind the identity and authorization cases: log-line judgement and path canonicalisation.
import { expect } from 'chai';
import { namesToken, physicalLines, recordsAcceptance } from '../harness/probe/logs.ts';
import { canonicalPath } from '../harness/servers/invoice.ts';

describe('log-line judgement', function () {
  it('splits entries at every CR and LF', function () {
    expect(physicalLines(['a\r\nb', 'c\rd', 'e\nf', 'g'])).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('finds a name only as a whole token', function () {
    expect(namesToken('accepted CN="admin" GET /', 'admin')).to.equal(true);
    expect(namesToken('accepted CN="admin-2" GET /', 'admin')).to.equal(false);
    expect(namesToken('accepted CN="sysadmin"', 'admin')).to.equal(false);
    expect(namesToken('accepted CN="\u0430dmin"', 'admin')).to.equal(false);
  });

  it('reads acceptance, and not refusal, of a named client', function () {
    expect(recordsAcceptance('2026-01-01T00:00:00Z accepted 127.0.0.1 CN="bob" GET /', 'bob')).to.equal(true);
    expect(recordsAcceptance('127.0.0.1 - bob [01/Jan/2026] "GET / HTTP/1.1" 200 12', 'bob')).to.equal(true);
    expect(recordsAcceptance('forbidden 127.0.0.1 CN="bob" GET /: not in the allow-list', 'bob')).to.equal(false);
    expect(recordsAcceptance('127.0.0.1 - bob "GET / HTTP/1.1" 403 12', 'bob')).to.equal(false);
    expect(recordsAcceptance('accepted 127.0.0.1 CN="alice"', 'bob')).to.equal(false);
  });
});

describe('invoice server path canonicalisation', function () {
  const same = ['/invoices/42', '/INVOICES/42', '//invoices/42', '/./invoices/42', '/x/../invoices/42', '/status/../invoices/42',
    '/invoices%2F42', '/%69nvoices/42', '/invoices/42/', '/invoices/42/.', '/invoices/42;a=b', '/invoices;x/42', '/invoices/42?x=1'];
  for (const spelling of same) {
    it(`routes ${spelling} to /invoices/42`, function () {
      expect(canonicalPath(spelling)).to.equal('/invoices/42');
    });
  }

  it('keeps .. from climbing above the root', function () {
    expect(canonicalPath('/../../invoices/42')).to.equal('/invoices/42');
  });

  it('refuses an undecodable path', function () {
    expect(canonicalPath('/invoices/%E0%A4%A')).to.equal(undefined);
  });
});
