import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JeosError } from '../../errors.js';
import { checkVmHealthcheck, mapperOf, TCG_TIMEOUT_FACTOR, testVm, waitFor } from './vm-test.js';

describe('testVm before booting', () => {
  test('a command health check is refused before anything starts, pointing at http/tcp', async () => {
    assert.doesNotThrow(() => checkVmHealthcheck({ http: 'http://localhost/', status: 200, timeout: 5 }));
    assert.doesNotThrow(() => checkVmHealthcheck(undefined));
    await assert.rejects(
      testVm({ vmDir: '/nonexistent', memoryMiB: 128, ports: [], healthcheck: { command: ['true'], status: 200, timeout: 5 } }),
      (e: JeosError) => e.code === 'E_VM_HEALTHCHECK_COMMAND' && /http: or tcp:/.test(e.hint!),
    );
  });

  test('a missing image is named before QEMU starts', async () => {
    await assert.rejects(testVm({ vmDir: '/nonexistent/out/vm', project: 'demo', memoryMiB: 128, ports: [] }), (e: JeosError) =>
      ['E_VM_NO_IMAGE', 'E_TOOL_MISSING'].includes(e.code),
    );
  });

  test('guest ports map to the chosen loopback ports', () => {
    const map = mapperOf([{ protocol: 'tcp', guestPort: 80, hostPort: 41000 }]);
    assert.deepEqual(map(80, 'tcp'), { host: '127.0.0.1', port: 41000 });
    assert.equal(map(80, 'udp'), undefined);
    assert.equal(map(443, 'tcp'), undefined);
  });
});

test('without --timeout, jeos test waits the health check\'s timeout under KVM and three times it under TCG', () => {
  assert.equal(waitFor({ tcp: 80, status: 200, timeout: 60 }, 'kvm'), 60_000);
  assert.equal(waitFor({ tcp: 80, status: 200, timeout: 60 }, 'tcg'), 60_000 * TCG_TIMEOUT_FACTOR);
  assert.equal(waitFor(undefined, 'tcg'), 180_000);
  assert.equal(waitFor({ tcp: 80, status: 200, timeout: 20 }, 'kvm'), 20_000);
});
