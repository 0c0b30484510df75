import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { healthcheckKind, healthcheckPort, LDAP_ANONYMOUS_BIND, ldapBindResult, probeNetwork } from './health.js';

/** A loopback server that answers the first request with these bytes; the request it got is kept. */
async function answering(reply: Buffer): Promise<{ port: number; got: () => Buffer; close: () => void }> {
  let got: Buffer = Buffer.alloc(0);
  const server = createServer((socket) => socket.once('data', (d: Buffer) => ((got = d), socket.end(reply))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, got: () => got, close: () => server.close() };
}

// slapd's answer to an anonymous bind: BindResponse, message 1, success, empty matchedDN and message.
const SUCCESS = Buffer.from('300c02010161070a010004000400', 'hex');

test('ldap: an anonymous bind is sent; any BindResponse is healthy, with its result named; other bytes fail', async (t) => {
  const spec = { ldap: 389, status: 200, timeout: 5 };
  assert.equal(healthcheckKind(spec), 'ldap');
  assert.equal(healthcheckPort(spec), 389);
  assert.equal(ldapBindResult(SUCCESS), 0);
  // A long-form length and a refusal (53 unwillingToPerform) still speak LDAP.
  assert.equal(ldapBindResult(Buffer.from('30810c02010161070a013504000400', 'hex')), 53);
  assert.equal(ldapBindResult(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')), undefined);

  const ok = await answering(SUCCESS);
  t.after(ok.close);
  const r = await probeNetwork(spec, () => ({ host: '127.0.0.1', port: ok.port }))!;
  assert.deepEqual(r, { ok: true, detail: 'ldap 389 answers an anonymous bind: success' });
  assert.deepEqual(ok.got(), LDAP_ANONYMOUS_BIND);

  const http = await answering(Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
  t.after(http.close);
  const bad = await probeNetwork(spec, () => ({ host: '127.0.0.1', port: http.port }))!;
  assert.deepEqual(bad, { ok: false, detail: 'ldap 389: the answer to an anonymous bind is not an LDAP BindResponse' });
});
