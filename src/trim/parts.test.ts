import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trimSuspects } from './diagnose.js';
import { globToRegExp } from '../util/path-glob.js';
import { scriptCommands, shebangOf, shellCommandWords } from './scripts.js';
import { unitArgv } from './units.js';

test('globs: * stays in a directory, ** crosses them, a leading slash is ignored', () => {
  assert.ok(globToRegExp('/usr/lib/*/gconv/**').test('usr/lib/x86_64-linux-gnu/gconv/UTF-16.so'));
  assert.ok(!globToRegExp('usr/lib/*/gconv/**').test('usr/lib/a/b/gconv/x'));
  assert.ok(globToRegExp('usr/**/copyright').test('usr/copyright'));
  assert.ok(globToRegExp('etc/[ab].conf').test('etc/a.conf') && !globToRegExp('etc/[ab].conf').test('etc/c.conf'));
  assert.ok(globToRegExp('usr/lib/libc.so.6').test('usr/lib/libc.so.6') && !globToRegExp('usr/lib/libc.so.6').test('usr/lib/libcXso.6'));
});

test('scripts: the #! line, env, and the commands of a shell script', () => {
  assert.deepEqual(shebangOf(Buffer.from('#!/usr/bin/env -S python3 -u\n')), { interpreter: '/usr/bin/env', command: 'python3', shell: false });
  assert.deepEqual(shebangOf(Buffer.from('#! /bin/sh -e\n')), { interpreter: '/bin/sh', shell: true });
  assert.equal(shebangOf(Buffer.from('#!relative\n')), undefined);
  const words = shellCommandWords('set -e\nif [ -x /x ]; then FOO=1 exec nohup pg_ctl start; fi # run mkdir\nout=$(date +%s) | tee log && echo done\n');
  assert.deepEqual(words.sort(), ['date', 'pg_ctl', 'tee']);
  assert.deepEqual(scriptCommands('#!/usr/bin/perl\nsystem("/usr/lib/postgresql/17/bin/initdb -D x");\n', { interpreter: '/usr/bin/perl', shell: false }), ['/usr/bin/perl', '/usr/lib/postgresql/17/bin/initdb']);
});

test('unit Exec lines: prefixes dropped, quotes honoured', () => {
  assert.deepEqual(unitArgv('-/usr/bin/helper --root "/srv/my site" \'a b\''), ['/usr/bin/helper', '--root', '/srv/my site', 'a b']);
  assert.deepEqual(unitArgv('!!/usr/lib/systemd/systemd-networkd'), ['/usr/lib/systemd/systemd-networkd']);
});

test('a failed workload\'s output is matched against what the trim dropped', () => {
  const explanation = {
    kept: {},
    dropped: {
      'libfoo1:amd64': ['/usr/lib/x86_64-linux-gnu/libfoo.so.1', '/usr/lib/x86_64-linux-gnu/libfoo.so.1.2'],
      nginx: ['/usr/share/nginx/html/index.html'],
      'libpython3.13-stdlib:amd64': ['/usr/lib/python3.13/json/__init__.py'],
      perl: ['/usr/share/perl/5.40/Text/Wrap.pm'],
    },
  };
  const output = [
    'app: error while loading shared libraries: libfoo.so.1: cannot open shared object file',
    'open() "/usr/share/nginx/html/index.html" failed (2: No such file or directory)',
    "ModuleNotFoundError: No module named 'json'",
    "Can't locate Text/Wrap.pm in @INC",
  ].join('\n');
  assert.deepEqual(
    trimSuspects(explanation, output).map((s) => [s.path, s.pkg]),
    [
      ['/usr/share/nginx/html/index.html', 'nginx'],
      ['/usr/lib/x86_64-linux-gnu/libfoo.so.1', 'libfoo1:amd64'],
      ['/usr/lib/python3.13/json/__init__.py', 'libpython3.13-stdlib:amd64'],
      ['/usr/share/perl/5.40/Text/Wrap.pm', 'perl'],
    ],
  );
  assert.deepEqual(trimSuspects(explanation, 'all fine'), []);
});
