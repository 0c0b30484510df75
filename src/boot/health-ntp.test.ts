/**
 * The ntp and redis health checks against servers on loopback: a UDP responder that answers
 * NTP client requests as a server does (or with the wrong mode, or not at all), a closed UDP
 * port, and TCP servers that answer a RESP PING as Valkey does, with +PONG, -NOAUTH or
 * protected mode's -DENIED, and a NATS server's INFO greeting. The checks are jeos's own probeNetwork.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { after, describe, test } from 'node:test';
import { ntpRequest, readNtpReply } from './health-ntp.js';
import { healthcheckForwards, healthcheckKind, probeNetwork, type HealthcheckSpec, type PortMapper } from './health.js';

const spec = (check: Partial<HealthcheckSpec>): HealthcheckSpec => ({ status: 200, timeout: 5, ...check });
const mapTo = (ports: Record<string, number>): PortMapper => (port, protocol) => (ports[`${port}/${protocol}`] ? { host: '127.0.0.1', port: ports[`${port}/${protocol}`]! } : undefined);

const sockets: UdpSocket[] = [];
const servers: Server[] = [];
after(() => {
  for (const s of sockets) s.close();
  for (const s of servers) s.close();
});

type NtpMode = 'server' | 'wrong-mode' | 'silent';
/** A UDP responder: a server's reply (mode 4, stratum 0, not synchronised, the request's transmit time as origin), as chronyd sends before it has a source. */
async function ntpResponder(mode: NtpMode): Promise<number> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  socket.on('message', (request, from) => {
    if (mode === 'silent') return;
    const reply = Buffer.alloc(48);
    reply[0] = (3 << 6) | (4 << 3) | (mode === 'server' ? 4 : 3);
    request.copy(reply, 24, 40, 48);
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket.address().port;
}

async function closedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** A TCP server that answers the first line it reads with `answer`. */
async function resp(answer: string): Promise<number> {
  const server = createServer((socket) => socket.once('data', () => socket.end(answer)));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('ntp and redis health checks', () => {
  test('ntp: a server reply to the request is healthy, unsynchronised too; a client packet, silence or a closed port fail', async () => {
    const map = mapTo({ '123/udp': await ntpResponder('server'), '124/udp': await ntpResponder('wrong-mode'), '125/udp': await ntpResponder('silent'), '126/udp': await closedUdpPort() });
    assert.deepEqual(await probeNetwork(spec({ ntp: 123 }), map), { ok: true, detail: 'ntp 123/udp answers: stratum 0, not synchronised' });
    assert.deepEqual(await probeNetwork(spec({ ntp: 124 }), map), { ok: false, detail: "ntp 124/udp: an NTP packet of mode 3, not a server's reply (4)" });
    assert.deepEqual(await probeNetwork(spec({ ntp: 125 }), map), { ok: false, detail: 'ntp 125/udp: no reply in 5 s' });
    assert.match((await probeNetwork(spec({ ntp: 126 }), map))!.detail, /^ntp 126\/udp: .*ECONNREFUSED/);
    assert.deepEqual(await probeNetwork(spec({ ntp: 127 }), map), { ok: false, detail: 'port 127/udp is not published' });
  });

  test("ntp: a reply must echo the request's transmit time", () => {
    const request = ntpRequest(Buffer.from('0123456789abcdef', 'hex'));
    assert.equal(request[0], 0x23, 'version 4, mode 3');
    const reply = Buffer.alloc(48);
    reply[0] = 0x24;
    reply[1] = 2;
    assert.deepEqual(readNtpReply(request, reply), { ok: false, why: 'an NTP reply to another request (its origin timestamp is not ours)' });
    request.copy(reply, 24, 40, 48);
    assert.deepEqual(readNtpReply(request, reply), { ok: true, stratum: 2, leap: 'no warning' });
    assert.deepEqual(readNtpReply(request, reply.subarray(0, 20)), { ok: false, why: 'a 20-byte datagram, not an NTP reply' });
  });

  test('redis: +PONG and -NOAUTH are healthy; protected mode\'s -DENIED fails with its text', async () => {
    const map = mapTo({ '6379/tcp': await resp('+PONG\r\n'), '6380/tcp': await resp('-NOAUTH Authentication required.\r\n'), '6381/tcp': await resp('-DENIED Valkey is running in protected mode\r\n') });
    assert.deepEqual(await probeNetwork(spec({ redis: 6379 }), map), { ok: true, detail: 'redis 6379 answers PING: "+PONG"' });
    assert.equal((await probeNetwork(spec({ redis: 6380 }), map))?.ok, true);
    assert.deepEqual(await probeNetwork(spec({ redis: 6381 }), map), { ok: false, detail: 'redis 6381 answers PING with "-DENIED Valkey is running in protected mode", not +PONG' });
  });

  test("nats: the server's INFO line on connect is healthy; another greeting fails", async () => {
    const greet = async (line: string) => {
      const server = createServer((socket) => socket.write(line));
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as AddressInfo).port;
    };
    const map = mapTo({ '4222/tcp': await greet('INFO {"server_id":"N","version":"2.10.27","port":4222}\r\n'), '4223/tcp': await greet('-ERR \'Authorization Violation\'\r\n') });
    assert.deepEqual(await probeNetwork(spec({ nats: 4222 }), map), { ok: true, detail: 'nats 4222 greets: "INFO {\\"server_id\\":\\"N\\",\\"version\\":\\"2.10.27\\",\\"port\\":4222}"' });
    assert.deepEqual(await probeNetwork(spec({ nats: 4223 }), map), { ok: false, detail: 'nats 4223 greets "-ERR \'Authorization Violation\'", not INFO {' });
    assert.equal(healthcheckKind(spec({ nats: 4222 })), 'nats');
  });

  test('each names its port: ntp a UDP one, redis a TCP one, which jeos test publishes', () => {
    assert.equal(healthcheckKind(spec({ ntp: 123 })), 'ntp');
    assert.deepEqual(healthcheckForwards(spec({ ntp: 123 })), [{ port: 123, protocol: 'udp' }]);
    assert.equal(healthcheckKind(spec({ redis: 6379 })), 'redis');
    assert.deepEqual(healthcheckForwards(spec({ redis: 6379 })), [{ port: 6379, protocol: 'tcp' }]);
    assert.deepEqual(healthcheckForwards(spec({ smtp: 25 })), [{ port: 25, protocol: 'tcp' }]);
  });
});
