import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { JeosError } from '../../errors.js';
import { ImageTree } from '../../tree/index.js';
import { setupBusyboxInit, type BusyboxInitSpec } from './busybox-init.js';
import { shellQuote } from '../../util/shell-quote.js';

function treeWithBusybox(): ImageTree {
  const t = new ImageTree();
  t.writeFile('usr/bin/busybox', Buffer.from('\x7fELF'), { mode: 0o755, uid: 0, gid: 0, mtime: 0 });
  t.mkdirp('etc');
  return t;
}

const spec = (over: Partial<BusyboxInitSpec['workload']> = {}): BusyboxInitSpec => ({
  hostname: 'web',
  modules: ['virtio_net', 'virtio_rng', 'wireguard'],
  sourceDateEpoch: 1_700_000_000,
  workload: { name: 'web', description: 'd', command: ['/usr/sbin/nginx', '-g', 'daemon off;'], user: 'root', workdir: '/', env: {}, restart: 'on-failure', ...over },
});

const text = (t: ImageTree, path: string) => t.readFile(path)?.toString('utf8') ?? '';

describe('vm.init: busybox', () => {
  test('/init is BusyBox, which finds the boot script and the workload in /etc/inittab', () => {
    const t = treeWithBusybox();
    const report = setupBusyboxInit(t, spec());
    assert.deepEqual(t.get('init'), { kind: 'symlink', target: '/usr/bin/busybox', mode: 0o777, uid: 0, gid: 0, mtime: 1_700_000_000 });
    assert.match(text(t, 'etc/inittab'), /^::sysinit:\/etc\/jeos\/boot$/m);
    assert.match(text(t, 'etc/inittab'), /^::respawn:\/etc\/jeos\/workload$/m);
    assert.equal(t.get('etc/jeos/boot')?.mode, 0o755);
    // The drivers load for the devices present, by their aliases; other modules by name.
    assert.match(text(t, 'etc/jeos/boot'), /^ *\[ \$# -eq 0 \] \|\| \$bb modprobe -qa "\$@"$/m);
    assert.match(text(t, 'etc/jeos/boot'), /modprobe -a wireguard \|\|/);
    assert.deepEqual(report.network.modulesByName, ['wireguard']);
    assert.equal(t.get('dev/console')?.kind, 'char', 'the kernel opens /dev/console for init');
    assert.equal(t.get('tmp')?.mode, 0o1777, 'no package shipped /tmp, so jeos made it');
    assert.ok(report.files.includes('/tmp'));
    assert.equal(report.init, '/usr/bin/busybox');
    assert.ok(report.files.includes('/etc/jeos/workload'));
  });

  test('restart: no runs the workload once; on-failure parks it after a clean exit; always respawns', () => {
    const once = treeWithBusybox();
    setupBusyboxInit(once, spec({ restart: 'no' }));
    assert.match(text(once, 'etc/inittab'), /^::once:\/etc\/jeos\/workload$/m);
    assert.match(text(once, 'etc/jeos/workload'), /^exit 0$/m);
    const onFailure = treeWithBusybox();
    setupBusyboxInit(onFailure, spec({ restart: 'on-failure' }));
    assert.match(text(onFailure, 'etc/jeos/workload'), /^exec \$bb sleep 2147483647$/m);
  });

  test('another user runs through start-stop-daemon; environment and arguments are quoted for sh', () => {
    const t = treeWithBusybox();
    setupBusyboxInit(t, spec({ user: 'redis:redis', command: ['redis-server', '--save', ''], env: { GREETING: "it's here" }, workdir: '/var/lib/redis' }));
    const script = text(t, 'etc/jeos/workload');
    assert.match(script, /^\$bb start-stop-daemon -S -c redis:redis -x "\$\(\$bb which redis-server\)" -- --save ''$/m);
    assert.match(script, /^export GREETING='it'\\''s here'$/m);
    assert.match(script, /^cd \/var\/lib\/redis \|\| exit 1$/m);
    // What sh makes of the quoting: the words come back as they were.
    const words = spawnSync('sh', ['-c', `printf '%s\\n' ${["it's", 'a b', '', '$HOME', 'x"y'].map(shellQuote).join(' ')}`], { encoding: 'utf8' });
    assert.equal(words.stdout, "it's\na b\n\n$HOME\nx\"y\n");
  });

  test('the generated scripts are valid sh', () => {
    const t = treeWithBusybox();
    setupBusyboxInit(t, spec({ user: 'www-data', env: { A: '1' } }));
    for (const path of ['etc/jeos/boot', 'etc/jeos/workload', 'etc/jeos/udhcpc']) {
      const r = spawnSync('sh', ['-n'], { input: text(t, path), encoding: 'utf8' });
      assert.equal(r.status, 0, `${path}: ${r.stderr}`);
    }
  });

  test('the image\'s tmpfiles.d entries: the tree at build time, /run made by the boot script once it is mounted', () => {
    const t = treeWithBusybox();
    t.writeFile('usr/lib/tmpfiles.d/site.conf', 'd /run/lock 1777 root root -\nd /var/cache/site 0700 - - -\nz /run/log/journal 2755 root systemd-journal - -\n');
    const report = setupBusyboxInit(t, spec());
    assert.equal(t.get('var/cache/site')?.mode, 0o700);
    assert.match(text(t, 'etc/jeos/boot'), /mount -a -t devpts,tmpfs\n\n# \/run is a new tmpfs[^\n]*\n\[ -e \/run\/jeos-tmpfiles\.done \] \|\| \{ \$bb tar -xpf \/etc\/jeos\/tmpfiles-run\.tar -C \/ && : > \/run\/jeos-tmpfiles\.done; \}\n/);
    assert.ok(t.readFile('etc/jeos/tmpfiles-run.tar')?.includes('run/lock/'));
    assert.equal(report.tmpfiles.on, 'the build, and /etc/jeos/boot for /run');
    assert.deepEqual(report.tmpfiles.nothingToDo, [{ line: '/usr/lib/tmpfiles.d/site.conf: z /run/log/journal 2755 root systemd-journal - -', reason: 'the VM runs no journald' }]);

    const blocked = treeWithBusybox();
    blocked.writeFile('usr/lib/tmpfiles.d/site.conf', 'd /var/cache/site 0700 - - -\nd /run/%b\n');
    const kept = setupBusyboxInit(blocked, spec());
    assert.equal(kept.tmpfiles.on, 'not applied');
    assert.match(kept.tmpfiles.reason ?? '', /%b is known only once the machine has booted/);
    assert.equal(blocked.get('var/cache/site'), undefined);
  });

  test('an image without BusyBox is refused with the reason', () => {
    assert.throws(() => setupBusyboxInit(new ImageTree(), spec()), (e: JeosError) => e.code === 'E_VM_NO_INIT' && /busybox/.test(e.hint ?? ''));
  });
});
