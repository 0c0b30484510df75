import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConsoleLog } from './console.js';
import { outOfMemoryLine, vmMemoryFit } from './memory.js';

const MB = 1_000_000;

test('the memory an initramfs VM needs: the kernel\'s 72 MiB, the files unpacked and the compressed initrd (examples/nginx: 112, as measured); the default when it is enough, else the need plus headroom', () => {
  const nginx = vmMemoryFit({ uncompressedSize: 27.6 * MB, size: 12.8 * MB });
  assert.equal(nginx.neededMiB, 112);
  assert.equal(nginx.chosenMiB, 256);
  assert.match(nginx.why, /unpacks to 26\.3 MiB from 12\.2 MiB, and the kernel needs 72 MiB: at least 112 MiB to boot/);
  // bind9 from jeos init: 48.7 MiB from 21.4: 136 ran out, 152 served.
  const bind9 = vmMemoryFit({ uncompressedSize: 48.7 * 1024 * 1024, size: 21.4 * 1024 * 1024 });
  assert.equal(bind9.neededMiB, 144);
  assert.equal(bind9.chosenMiB, 320);
  const big = vmMemoryFit({ uncompressedSize: 400 * MB, size: 150 * MB });
  assert.ok(big.neededMiB > 590 && big.chosenMiB >= big.neededMiB + 128 && big.chosenMiB % 64 === 0);
});

test('the console lines that say the guest ran out of memory, kept by the console log past its tail', () => {
  assert.equal(outOfMemoryLine('[    1.234567] Kernel panic - not syncing: System is deadlocked on memory'), 'Kernel panic - not syncing: System is deadlocked on memory');
  assert.equal(outOfMemoryLine('[   9.1] Out of memory: Killed process 312 (valkey-server) total-vm:1024kB'), 'Out of memory: Killed process 312 (valkey-server) total-vm:1024kB');
  assert.equal(outOfMemoryLine('Initramfs unpacking failed: write error'), 'Initramfs unpacking failed: write error');
  assert.equal(outOfMemoryLine('[  OK  ] Reached target multi-user.target\nmemory: 64 MiB'), undefined);
  const log = new ConsoleLog(3);
  log.feed(new TextEncoder().encode('[ 2.0] Kernel panic - not syncing: System is deadlocked on memory\n'), 1);
  for (let i = 0; i < 10; i++) log.feed(new TextEncoder().encode(`Call Trace line ${i}\n`), 2);
  assert.ok(!log.tail().includes('deadlocked'));
  assert.equal(log.outOfMemory, 'Kernel panic - not syncing: System is deadlocked on memory');
  // The plain lines came garbled (characters lost): the report's first line says it, until a plain one comes.
  assert.equal(outOfMemoryLine('[ 3.1] named invoked oom-killer: gfp_mask=0x140cca, order=0\n[ 3.2] Kernel panic - not syncing: Systeis deadlocd on memory'), 'named invoked oom-killer: gfp_mask=0x140cca, order=0');
  const garbled = new ConsoleLog(3);
  garbled.feed(new TextEncoder().encode('[ 3.1] named invoked oom-killer: gfp_mask=0x140cca, order=0\n[ 3.15] Out of memory and no killable processes...\n'), 1);
  assert.equal(garbled.outOfMemory, 'named invoked oom-killer: gfp_mask=0x140cca, order=0');
  garbled.feed(new TextEncoder().encode('[ 3.2] Kernel panic - not syncing: System is deadlocked on memory\n[ 3.3] Out of memory: Killed process 1\n'), 2);
  assert.equal(garbled.outOfMemory, 'Kernel panic - not syncing: System is deadlocked on memory', 'a plain line replaces the report\'s, and stays');
});
