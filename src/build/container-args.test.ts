/**
 * The container's extra arguments: chronyd gets -x (leave the clock alone) in the container
 * image's command from jeos's table, a VM runs the command as written, and
 * workload.containerArgs in jeos.yaml replaces the table's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/index.js';
import { containerArgsOf, containerArgsRule } from './container-args.js';
import { imageSpecOf } from './image-spec.js';

const lock = { architecture: 'amd64', packages: [] };
const config = (workload: string) => parseConfig(`name: chrony\ndebian: {suites: [trixie]}\nworkload:\n  packages: [chrony]\n${workload}`);

test("chronyd's container command gets -x from the table (a container has no CAP_SYS_TIME); its arguments are the Cmd", () => {
  const spec = imageSpecOf(config('  command: [/usr/sbin/chronyd, -n, -F, "1"]\n'), lock);
  assert.deepEqual(spec.entrypoint, ['/usr/sbin/chronyd']);
  assert.deepEqual(spec.cmd, ['-n', '-F', '1', '-x']);
  assert.equal(containerArgsRule(['/usr/sbin/chronyd'])?.capability, 'CAP_SYS_TIME');
});

test('workload.containerArgs replaces the table: [] adds nothing, a list adds its own', () => {
  assert.deepEqual(imageSpecOf(config('  command: [/usr/sbin/chronyd, -n]\n  containerArgs: []\n'), lock).cmd, ['-n']);
  assert.deepEqual(imageSpecOf(config('  command: [/usr/sbin/chronyd, -n]\n  containerArgs: [-x, -L, "1"]\n'), lock).cmd, ['-n', '-x', '-L', '1']);
  assert.deepEqual(imageSpecOf(config('  command: [/usr/bin/valkey-server]\n  containerArgs: [--protected-mode, "no"]\n'), lock).cmd, ['--protected-mode', 'no']);
});

test('a command that has the arguments already, or a program the table does not name, gets none', () => {
  assert.deepEqual(containerArgsOf(['/usr/sbin/chronyd', '-n', '-x'], undefined), []);
  assert.deepEqual(containerArgsOf(['/usr/sbin/nginx', '-g', 'daemon off;'], undefined), []);
  assert.equal(imageSpecOf(config('  command: [/usr/sbin/nginx]\n'), lock).cmd, undefined);
});
