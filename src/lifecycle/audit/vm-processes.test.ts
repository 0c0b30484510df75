import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ManifestEntry } from '../../record/index.js';
import { parseAnswerText } from './read-vm.js';
import { unitOfCgroup, vmExtraProcesses } from './vm-processes.js';

const unitFile = (path: string): ManifestEntry => ({ path, type: 'file', mode: '0644', uid: 0, gid: 0, size: 1, sha256: 'x' }) as ManifestEntry;
const baseline = [unitFile('/usr/lib/systemd/system/systemd-journald.service'), unitFile('/etc/systemd/system/web.service'), unitFile('/usr/lib/systemd/system/getty@.service')];

test('a VM\'s processes: the image\'s units, PID 1, kernel threads, /init\'s and the agent\'s are not drift; the rest is', () => {
  const p = (pid: number, ppid: number, name: string, cgroup: string, args = `/usr/bin/${name}`) => ({ pid, ppid, name, args, uid: 0, cgroup });
  const processes = [
    p(1, 0, 'systemd', '/init.scope', '/sbin/init'),
    p(2, 0, 'kthreadd', '/', ''),
    p(3, 2, 'kworker/0:0', '/', ''),
    p(100, 1, 'init', '/init.scope', '/usr/bin/busybox sh /init'),
    p(101, 100, 'busybox', '/init.scope', '/usr/bin/busybox udhcpc -f -S -i eth0'),
    p(102, 1, 'busybox', '/init.scope', '/usr/bin/busybox sh /etc/jeos/audit-agent'),
    p(103, 102, 'tar', '/init.scope', '/usr/bin/busybox tar -c -f - etc usr'),
    p(110, 1, 'systemd-journal', '/system.slice/systemd-journald.service'),
    p(120, 1, 'web', '/system.slice/web.service'),
    p(121, 120, 'sh', '/system.slice/web.service', '/bin/sh -c id'),
    p(130, 1, 'agetty', '/system.slice/system-getty.slice/getty@tty1.service'),
    p(140, 1, 'sleep', '/system.slice/run-u7.service', 'sleep 1000'),
    p(150, 1, 'bash', '/user.slice/user-0.slice/session-1.scope', '-bash'),
    p(160, 1, 'sh', '/init.scope', '/bin/sh'),
    p(170, 1, 'httpd', '/system.slice/web.service', 'httpd -p 9999'),
  ];
  const extra = vmExtraProcesses(processes, baseline, 102, { unit: 'web.service', names: ['web'] });
  assert.deepEqual(extra.map((x) => x.pid), [121, 140, 150, 160, 170]);
  // Without the workload's unit, any process in an image's unit is the image's.
  assert.deepEqual(vmExtraProcesses(processes, baseline, 102).map((x) => x.pid), [140, 150, 160]);
  // A wrapper script that exec'd its daemon: the daemon's name (the unit's main process) and its workers' are the workload's.
  const wrapped = [p(1, 0, 'systemd', '/init.scope'), p(200, 1, 'nginx', '/system.slice/web.service'), p(201, 200, 'nginx', '/system.slice/web.service'), p(202, 1, 'nc', '/system.slice/web.service', 'nc -l -p 9')];
  assert.deepEqual(vmExtraProcesses(wrapped, baseline, 0, { unit: 'web.service', names: ['start-web'] }).map((x) => x.pid), [202]);
  assert.equal(unitOfCgroup('/system.slice/system-getty.slice/getty@tty1.service'), 'getty@tty1.service');
  assert.equal(unitOfCgroup('/'), undefined);
});

test('the agent\'s answer: processes with their status, command line and cgroup; the /proc/net tables', () => {
  const text = [
    'JEOS_PROC 1', 'Name:\tsystemd', 'PPid:\t0', 'Uid:\t0\t0\t0\t0', 'JEOS_CMDLINE', '/sbin/init splash ', 'JEOS_CGROUP', '0::/init.scope',
    'JEOS_PROC 77', 'JEOS_CMDLINE', '', 'JEOS_CGROUP', // ended before it was read: no status
    'JEOS_PROC 120', 'Name:\tnginx', 'PPid:\t1', 'Uid:\t33\t33\t33\t33', 'JEOS_CMDLINE', 'nginx: master process ', 'JEOS_CGROUP', '0::/system.slice/web.service',
    'JEOS_NET tcp',
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:270F 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0',
    'JEOS_NET tcp6', '  sl  local_address', 'JEOS_NET udp', '  sl  local_address', 'JEOS_NET udp6', '  sl  local_address', '',
  ].join('\n');
  const { processes, sockets } = parseAnswerText(text);
  assert.deepEqual(processes, [
    { pid: 1, ppid: 0, name: 'systemd', args: '/sbin/init splash', uid: 0, cgroup: '/init.scope' },
    { pid: 120, ppid: 1, name: 'nginx', args: 'nginx: master process', uid: 33, cgroup: '/system.slice/web.service' },
  ]);
  assert.deepEqual(sockets, [{ protocol: 'tcp', address: '0.0.0.0', port: 80 }]);
});
