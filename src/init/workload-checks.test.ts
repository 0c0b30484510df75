/**
 * The health check init writes for a known program from the protocol it speaks: an NTP request to
 * chronyd's UDP port (it listens on no TCP port), a RESP PING to valkey, NATS's INFO greeting, and
 * radicale's web page; a UDP-only server whose protocol jeos cannot speak gets a note instead.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { workloadOf } from './workload.js';

const program = (path: string, args: string[] = []) => ({ path, args, from: 'a test', userArgs: false });

test('chronyd: ntp: 123 on its UDP port, the port published as 123/udp, and why (Debian\'s chrony.conf allows no clients)', () => {
  const part = workloadOf(program('/usr/sbin/chronyd', ['-n', '-F', '1']));
  assert.deepEqual(part.healthcheck, { ntp: 123 });
  assert.deepEqual(part.ports, ['123/udp']);
  const why = part.choices.find((c) => c.key === 'healthcheck');
  assert.equal(why?.value, 'an NTP client request to port 123/udp is answered');
  assert.match(why!.why, /chrony\.conf has none/);
  assert.match(part.notes.join('\n'), /the ntp check needs chronyd to serve clients: .*allow directive/, 'said in jeos.yaml too');
});

test('valkey-server: redis: 6379; nats-server: nats: 4222; radicale: GET /.web/ on 5232', () => {
  const valkey = workloadOf(program('/usr/bin/valkey-server', ['/etc/valkey/valkey.conf']));
  assert.deepEqual(valkey.healthcheck, { redis: 6379 });
  assert.equal(valkey.choices.find((c) => c.key === 'healthcheck')?.value, 'the server on port 6379 answers a RESP PING with +PONG');
  assert.deepEqual(workloadOf(program('/usr/sbin/nats-server', ['-c', '/etc/nats-server.conf'])).healthcheck, { nats: 4222 });
  assert.deepEqual(workloadOf(program('/usr/bin/radicale')).healthcheck, { http: 'http://localhost:5232/.web/' });
});

test('a UDP-only server jeos has no check for (kea) gets its ports and a note, no check', () => {
  const kea = workloadOf(program('/usr/sbin/kea-dhcp4', ['-c', '/etc/kea/kea-dhcp4.conf']));
  assert.equal(kea.healthcheck, undefined);
  assert.deepEqual(kea.ports, ['67/udp']);
  assert.match(kea.notes.join('\n'), /listens on UDP only \(67\/udp\)/);
});
