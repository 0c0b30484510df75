import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import { chooseForwards, choosePort, freePort, portIsFree } from './ports.js';

const always = async () => true;
const never = async () => false;
/** Hands out 50000, 50001, … */
const counter = (start = 50000) => {
  let next = start;
  return async () => next++;
};

describe('host ports', () => {
  test('jeos run keeps an unprivileged guest port number when it is free', async () => {
    assert.equal(await choosePort({ port: 8080, protocol: 'tcp' }, 'same', new Set(), always, counter()), 8080);
  });

  test('a privileged, busy or already chosen port gets a free one instead', async () => {
    assert.equal(await choosePort({ port: 80, protocol: 'tcp' }, 'same', new Set(), always, counter()), 50000);
    assert.equal(await choosePort({ port: 8080, protocol: 'tcp' }, 'same', new Set(), never, counter()), 50000);
    assert.equal(await choosePort({ port: 8080, protocol: 'tcp' }, 'same', new Set([8080]), always, counter()), 50000);
    assert.equal(await choosePort({ port: 8080, protocol: 'tcp' }, 'same', new Set([50000]), never, counter()), 50001);
  });

  test('jeos test always takes free ports', async () => {
    assert.equal(await choosePort({ port: 8080, protocol: 'tcp' }, 'free', new Set(), always, counter()), 50000);
  });

  test('one forward per distinct port and protocol', async () => {
    const forwards = await chooseForwards(
      [
        { port: 80, protocol: 'tcp' },
        { port: 80, protocol: 'tcp' },
        { port: 53, protocol: 'udp' },
        { port: 9000, protocol: 'tcp' },
      ],
      'same',
      always,
      counter(),
    );
    assert.deepEqual(forwards, [
      { protocol: 'tcp', guestPort: 80, hostPort: 50000 },
      { protocol: 'udp', guestPort: 53, hostPort: 50001 },
      { protocol: 'tcp', guestPort: 9000, hostPort: 9000 },
    ]);
  });

  test('freePort gives a port that can be bound; portIsFree sees a port in use', async () => {
    const port = await freePort();
    assert.equal(await portIsFree(port), true);
    const server = createServer();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      assert.equal(await portIsFree(port), false);
    } finally {
      server.close();
    }
    assert.ok((await freePort('udp')) > 0);
  });
});
