/**
 * The protocol health checks against servers on loopback: a small DNS responder over TCP
 * (it answers the query it is sent, as an authoritative server would, and can be told to
 * answer with the wrong ID or not at all), and servers that greet as SMTP, IMAP and FTP
 * servers do, or greet wrongly, or close at once. The checks are jeos's own probeNetwork.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { dnsQuery, healthcheckKind, healthcheckPorts, probeNetwork, type HealthcheckSpec, type PortMapper } from './health.js';

const servers: Server[] = [];
async function listen(onConnection: (socket: Socket) => void): Promise<number> {
  const server = createServer(onConnection);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Inside-the-image port → the loopback port a test server listens on, as podman's port map would. */
const mapTo = (ports: Record<number, number>): PortMapper => (port, protocol) => (protocol === 'tcp' && ports[port] ? { host: '127.0.0.1', port: ports[port]! } : undefined);
const spec = (check: Partial<HealthcheckSpec>): HealthcheckSpec => ({ status: 200, timeout: 5, ...check });

type DnsMode = 'answer' | 'refuse' | 'wrong-id' | 'silent';
/** Reads length-prefixed queries (RFC 1035 4.2.2) and answers each: `localhost A` with 127.0.0.1, anything else REFUSED. */
function dnsResponder(mode: DnsMode) {
  return (socket: Socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      const query = buf.subarray(2, 2 + buf.readUInt16BE(0));
      if (mode === 'silent') return;
      const question = query.subarray(12);
      const labels: string[] = [];
      let i = 0;
      while (question[i]) (labels.push(question.subarray(i + 1, i + 1 + question[i]!).toString()), (i += 1 + question[i]!));
      const qtype = question.readUInt16BE(i + 1);
      const known = mode === 'answer' && labels.join('.') === 'localhost' && qtype === 1;
      const header = Buffer.alloc(12);
      header.writeUInt16BE(mode === 'wrong-id' ? query.readUInt16BE(0) ^ 1 : query.readUInt16BE(0), 0);
      header[2] = 0x84; // QR, AA
      header[3] = known ? 0 : 5; // NOERROR or REFUSED
      header.writeUInt16BE(1, 4);
      header.writeUInt16BE(known ? 1 : 0, 6);
      const q = question.subarray(0, i + 5);
      const answer = known ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]) : Buffer.alloc(0);
      const reply = Buffer.concat([header, q, answer]);
      socket.end(Buffer.concat([Buffer.from([reply.length >> 8, reply.length & 0xff]), reply]));
    });
  };
}

const greeter = (text: string | null) => (socket: Socket) => (text === null ? socket.destroy() : socket.write(text));

describe('protocol health checks', () => {
  after(() => servers.forEach((s) => s.close()));

  test('dns: an answer to the query is healthy, whatever its response code; the query asks the name and type given', async () => {
    const port = await listen(dnsResponder('answer'));
    const ok = await probeNetwork(spec({ dns: { port: 53, name: 'localhost', type: 'A' } }), mapTo({ 53: port }));
    assert.deepEqual(ok, { ok: true, detail: 'dns A localhost on port 53: NOERROR, 1 answer' });
    const refused = await probeNetwork(spec({ dns: { port: 53, name: 'example.org', type: 'SOA' } }), mapTo({ 53: port }));
    assert.deepEqual(refused, { ok: true, detail: 'dns SOA example.org on port 53: REFUSED, 0 answers' });
    // The message itself: ID, no flags (no recursion desired), one question, the name's labels, type, class IN.
    assert.deepEqual([...dnsQuery(0x1234, 'a.bc.', 'AAAA')], [0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 2, 98, 99, 0, 0, 28, 0, 1]);
  });

  test('dns: an answer to another query, no answer, and nothing listening are failures', async () => {
    const wrong = await probeNetwork(spec({ dns: { port: 53, name: 'localhost', type: 'A' } }), mapTo({ 53: await listen(dnsResponder('wrong-id')) }));
    assert.equal(wrong?.ok, false);
    assert.match(wrong!.detail, /not a DNS response to the query/);
    const closed = await listen(() => undefined);
    servers.at(-1)!.close();
    const refused = await probeNetwork(spec({ dns: { port: 53, name: 'localhost', type: 'A' } }), mapTo({ 53: closed }));
    assert.equal(refused?.ok, false);
    assert.match(refused!.detail, /ECONNREFUSED/);
    const unmapped = await probeNetwork(spec({ dns: { port: 5353, name: 'localhost', type: 'A' } }), mapTo({}));
    assert.deepEqual(unmapped, { ok: false, detail: 'port 5353 is not published' });
  });

  test('dns: a server that reads the query and never answers fails after the probe timeout', { timeout: 10_000 }, async () => {
    const started = Date.now();
    const silent = await probeNetwork(spec({ dns: { port: 53, name: 'localhost', type: 'A' } }), mapTo({ 53: await listen(dnsResponder('silent')) }));
    assert.equal(silent?.ok, false);
    assert.match(silent!.detail, /no answer in 5 s/);
    assert.ok(Date.now() - started >= 4900);
  });

  test('smtp, imap, ftp: the greeting decides; a refusal, another protocol or a closed connection fail', async () => {
    const smtp = await listen(greeter('220 mail.example ESMTP Postfix (Debian/GNU)\r\n'));
    const imap = await listen(greeter('* OK [CAPABILITY IMAP4rev1] Dovecot (Debian) ready.\r\n'));
    const ftp = await listen(greeter('220 (vsFTPd 3.0.5)\r\n'));
    const busy = await listen(greeter('421 4.3.2 Service not available\r\n'));
    const ssh = await listen(greeter('SSH-2.0-OpenSSH_10.0p2 Debian-7\r\n'));
    const gone = await listen(greeter(null));
    const map = mapTo({ 25: smtp, 143: imap, 21: ftp, 2525: busy, 22: ssh, 26: gone });
    assert.deepEqual(await probeNetwork(spec({ smtp: 25 }), map), { ok: true, detail: 'smtp 25 greets: "220 mail.example ESMTP Postfix (Debian/GNU)"' });
    assert.equal((await probeNetwork(spec({ imap: 143 }), map))?.ok, true);
    assert.equal((await probeNetwork(spec({ ftp: 21 }), map))?.ok, true);
    assert.deepEqual(await probeNetwork(spec({ smtp: 2525 }), map), { ok: false, detail: 'smtp 2525 greets "421 4.3.2 Service not available", not 220' });
    assert.equal((await probeNetwork(spec({ imap: 22 }), map))?.ok, false);
    assert.equal((await probeNetwork(spec({ imap: 25 }), map))?.ok, false, 'an SMTP greeting is not an IMAP one');
    assert.match((await probeNetwork(spec({ smtp: 26 }), map))!.detail, /closed the connection without answering/);
  });

  test('each kind names the port it probes, which jeos test publishes', () => {
    assert.equal(healthcheckKind(spec({ dns: { port: 5353, name: '.', type: 'SOA' } })), 'dns');
    assert.deepEqual(healthcheckPorts(spec({ dns: { port: 5353, name: '.', type: 'SOA' } })), [5353]);
    assert.deepEqual(healthcheckPorts(spec({ smtp: 587 })), [587]);
    assert.deepEqual(healthcheckPorts(spec({ imap: 143 })), [143]);
    assert.deepEqual(healthcheckPorts(spec({ http: 'http://localhost/' })), [80]);
    assert.equal(healthcheckKind(spec({ command: ['true'] })), 'command');
    assert.equal(probeNetwork(spec({ command: ['true'] }), mapTo({})), undefined);
    assert.equal(healthcheckKind(undefined), undefined);
  });
});
