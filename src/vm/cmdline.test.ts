import assert from 'node:assert/strict';
import { test } from 'node:test';
import { vmCmdline } from './cmdline.js';

test('the kernel command line for each root and init; vm.cmdline comes last so it can override', () => {
  assert.equal(vmCmdline(''), 'console=ttyS0 panic=-1 cryptomgr.notests initcall_blacklist=jent_mod_init rootfstype=ramfs systemd.show_status=1 systemd.firstboot=off');
  assert.equal(
    vmCmdline(' quiet ', { root: 'disk', init: 'systemd', hostname: 'web' }),
    'console=ttyS0 panic=-1 cryptomgr.notests initcall_blacklist=jent_mod_init root=/dev/nvme0n1 rootfstype=ext4 rw init=/init systemd.show_status=1 systemd.firstboot=off quiet',
  );
  assert.equal(vmCmdline('', { root: 'disk', init: 'busybox', hostname: 'web' }), 'console=ttyS0 panic=-1 cryptomgr.notests initcall_blacklist=jent_mod_init root=/dev/nvme0n1 rootfstype=ext4 rw init=/init hostname=web');
  assert.equal(vmCmdline('', { init: 'busybox' }), 'console=ttyS0 panic=-1 cryptomgr.notests initcall_blacklist=jent_mod_init rootfstype=ramfs');
});

test('FIPS mode keeps the jitter-entropy RNG its DRBG needs', () => {
  assert.equal(vmCmdline('fips=1', { init: 'busybox' }), 'console=ttyS0 panic=-1 cryptomgr.notests rootfstype=ramfs fips=1');
  assert.equal(vmCmdline('nofips=1', { init: 'busybox' }), 'console=ttyS0 panic=-1 cryptomgr.notests initcall_blacklist=jent_mod_init rootfstype=ramfs nofips=1');
});
