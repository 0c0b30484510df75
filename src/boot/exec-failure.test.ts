import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isExecNotFound, missingInterpreters } from './exec-failure.js';

test('a failed exec is recognised in what runc, crun and systemd print', () => {
  assert.ok(isExecNotFound('exec /usr/bin/foo: no such file or directory'));
  assert.ok(isExecNotFound('crun: executable file `/usr/bin/foo` not found: No such file or directory'));
  assert.ok(isExecNotFound('jeos-workload.service: Main process exited, code=exited, status=203/EXEC'));
  assert.ok(isExecNotFound('jeos-workload.service: Failed to execute /usr/sbin/d: No such file or directory'));
  assert.ok(!isExecNotFound('open /etc/d.conf: no such file or directory'), 'a file the workload opens is another matter');
});

test('the missing interpreter of the workload\'s program is named with its package; else every one the trim recorded', () => {
  const missing = [
    { what: '/bin/sh', neededBy: '/usr/sbin/d', why: 'interpreter' },
    { what: '/usr/bin/perl', neededBy: '/usr/bin/helper', why: 'interpreter' },
    { what: 'libgone.so.1', neededBy: '/usr/sbin/d', why: 'needed' },
    { what: '/lib64/ld-linux-x86-64.so.2', neededBy: '/usr/bin/static-ish', why: 'interpreter' },
  ];
  assert.deepEqual(missingInterpreters(missing, ['/usr/sbin/d', '-f']), [
    { program: '/usr/sbin/d', interpreter: '/bin/sh', package: 'dash', message: '/usr/sbin/d needs /bin/sh, which is not in the image; add dash to workload.packages' },
  ]);
  assert.deepEqual(missingInterpreters(missing, ['/sbin/d']).map((m) => m.interpreter), ['/bin/sh'], '/sbin is /usr/sbin');
  const all = missingInterpreters(missing, ['/usr/bin/other']);
  assert.deepEqual(all.map((m) => m.package), ['dash', 'perl-base', 'libc6']);
  assert.match(missingInterpreters([{ what: '/opt/x/bin/lua', neededBy: '/a', why: 'interpreter' }], ['/a'])[0]!.message, /jeos search \/opt\/x\/bin\/lua/);
});
