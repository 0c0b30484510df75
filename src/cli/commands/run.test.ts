import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Config } from '../../config/schema.js';
import { JeosError } from '../../errors.js';
import { exitStatus, forwardUrl, guestPorts, parseCpus, parseMemory } from './run.js';

const exit = (reason: string | null, code: number | null = 0, stderr = '') => ({ code, signal: null, reason, stderr });

describe('jeos run helpers', () => {
  test('the forwarded ports: the workload\'s and the health check\'s', () => {
    const config = { workload: { ports: [80, '53/udp', '8443/tcp'], healthcheck: { tcp: 9000, status: 200, timeout: 60 } } } as unknown as Config;
    assert.deepEqual(guestPorts(config), [
      { port: 80, protocol: 'tcp' },
      { port: 53, protocol: 'udp' },
      { port: 8443, protocol: 'tcp' },
      { port: 9000, protocol: 'tcp' },
    ]);
  });

  test('URLs: the health check\'s own URL on the host port, web ports as URLs, others as host:port', () => {
    const hc = { http: 'http://localhost:80/healthz', status: 200, timeout: 60 };
    assert.equal(forwardUrl({ protocol: 'tcp', guestPort: 80, hostPort: 41234 }, hc), 'http://127.0.0.1:41234/healthz');
    assert.equal(forwardUrl({ protocol: 'tcp', guestPort: 8080, hostPort: 8080 }, undefined), 'http://127.0.0.1:8080/');
    assert.equal(forwardUrl({ protocol: 'tcp', guestPort: 443, hostPort: 40443 }, undefined), 'https://127.0.0.1:40443/');
    assert.equal(forwardUrl({ protocol: 'tcp', guestPort: 5432, hostPort: 5432 }, undefined), '127.0.0.1:5432');
    assert.equal(forwardUrl({ protocol: 'udp', guestPort: 53, hostPort: 40053 }, undefined), '127.0.0.1:40053 (udp)');
  });

  test('exit status: 0 for a user stop or a power-off; an error for a reboot or a QEMU failure', () => {
    assert.equal(exitStatus(exit('host-qmp-quit'), true), 0);
    assert.equal(exitStatus(exit('host-signal', 0), false), 0);
    assert.equal(exitStatus(exit('guest-shutdown'), false), 0);
    assert.throws(() => exitStatus(exit('guest-reset'), false), (e: JeosError) => e.code === 'E_VM_GUEST_RESET');
    assert.throws(() => exitStatus(exit(null, 1, 'qemu-system-x86_64: -m 99999999: ram size too large\n'), false), (e: JeosError) => e.code === 'E_VM_QEMU' && /ram size too large/.test(e.message));
  });

  test('--memory takes whole MiB between 32 and 65536', () => {
    assert.equal(parseMemory('128'), 128);
    for (const bad of ['12', '1.5', '64k', '70000', '']) assert.throws(() => parseMemory(bad), /whole number of MiB/);
    assert.equal(parseCpus('2'), 2);
    for (const bad of ['0', '-1', '1.5', '65', 'two', '']) assert.throws(() => parseCpus(bad), /whole number of CPUs between 1 and 64/);
  });
});
