// The QMP client's protocol handling, against a scripted peer on a socket pair (no QEMU;
// the boot tests in runner.slow.test.ts drive a real one).
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JeosError } from '../../errors.js';
import { QmpClient, type QmpEvent } from './qmp.js';

/** A client connected to a peer that answers each command line with `answer(command)`. */
async function pair(dir: string, answer: (cmd: { execute: string; id: number }) => object[]): Promise<{ client: QmpClient; peer: Socket }> {
  const path = join(dir, `qmp-${Math.random().toString(36).slice(2)}.sock`);
  const server = createServer();
  await new Promise<void>((r) => server.listen(path, r));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = new QmpClient(connect(path));
  const peer = await accepted;
  server.close();
  peer.write('{"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": []}}\r\n');
  let buffer = '';
  peer.on('data', (d) => {
    buffer += d.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const cmd = JSON.parse(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      for (const reply of answer(cmd)) peer.write(`${JSON.stringify(reply)}\r\n`);
    }
  });
  return { client, peer };
}

describe('QMP client', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jeos-qmp-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('handshake, answers matched by id, events delivered between', async () => {
    const { client, peer } = await pair(dir, (cmd) => {
      if (cmd.execute === 'qom-get') return [{ event: 'BALLOON_CHANGE', data: { actual: 1 } }, { return: { stats: { 'stat-total-memory': 42 } }, id: cmd.id }];
      return [{ return: {}, id: cmd.id }];
    });
    const events: QmpEvent[] = [];
    client.onEvent((e) => events.push(e));
    await client.handshake();
    assert.deepEqual(await client.execute('qom-get', { path: '/machine/peripheral/balloon0', property: 'guest-stats' }), { stats: { 'stat-total-memory': 42 } });
    assert.deepEqual(events.map((e) => e.event), ['BALLOON_CHANGE']);
    client.close();
    peer.destroy();
  });

  test('an error answer is a JeosError naming the command and QEMU\'s description', async () => {
    const { client, peer } = await pair(dir, (cmd) =>
      cmd.execute === 'qmp_capabilities' ? [{ return: {}, id: cmd.id }] : [{ error: { class: 'DeviceNotFound', desc: "Device 'balloon0' not found" }, id: cmd.id }],
    );
    await client.handshake();
    await assert.rejects(client.execute('qom-get'), (e: JeosError) => e.code === 'E_VM_QMP' && /qom-get: Device 'balloon0' not found/.test(e.message));
    client.close();
    peer.destroy();
  });

  test('a command pending when QEMU goes away is rejected; later ones fail at once', async () => {
    const { client, peer } = await pair(dir, (cmd) => (cmd.execute === 'qmp_capabilities' ? [{ return: {}, id: cmd.id }] : []));
    await client.handshake();
    const pending = client.execute('quit');
    peer.destroy();
    await assert.rejects(pending, /closed its control socket during quit/);
    await assert.rejects(client.execute('query-status'), /closed/);
  });
});
