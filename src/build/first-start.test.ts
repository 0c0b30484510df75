import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JeosError } from '../errors.js';
import { preSteps, startScript } from './first-start.js';
import { workloadUnit } from '../vm/system/units.js';

test('workload.pre: systemd\'s - prefix lets a step fail; @ and relative programs are refused', () => {
  assert.deepEqual(preSteps(['/usr/sbin/nsd-control-setup', ['-/usr/bin/false', 'x'], '/bin/echo a b']), [
    { argv: ['/usr/sbin/nsd-control-setup'], mayFail: false },
    { argv: ['/usr/bin/false', 'x'], mayFail: true },
    { argv: ['/bin/echo', 'a', 'b'], mayFail: false },
  ]);
  assert.throws(() => preSteps(['@/bin/true x']), (e: unknown) => e instanceof JeosError && e.code === 'E_WORKLOAD_PRE');
  assert.throws(() => preSteps(['keygen']), (e: unknown) => e instanceof JeosError && e.code === 'E_WORKLOAD_PRE');
});

test('the VM\'s workload unit carries the steps as ExecStartPre=, before ExecStart=', () => {
  const unit = workloadUnit({ description: 'd', command: ['/usr/sbin/nsd', '-d'], user: 'root', workdir: '/', env: {}, restart: 'on-failure', pre: preSteps(['/usr/sbin/nsd-control-setup', '-/usr/bin/key gen']) });
  assert.match(unit, /ExecStartPre=\/usr\/sbin\/nsd-control-setup\nExecStartPre=-\/usr\/bin\/key gen\nExecStart=\/usr\/sbin\/nsd -d\n/);
});

for (const shell of ['/bin/dash', '/bin/busybox']) {
  test(`the container's /etc/jeos/start, run by ${shell}: each step in order, a - step's failure ignored, then the command execs with its arguments`, (t) => {
    if (!existsSync(shell)) return t.skip(`${shell} is not on this machine`);
    const dir = mkdtempSync(join(tmpdir(), 'jeos-start-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, 'log');
    const step = join(dir, 'step');
    writeFileSync(step, `#!${shell === '/bin/busybox' ? '/bin/busybox sh' : shell}\necho "step $*" >> ${log}\n`);
    chmodSync(step, 0o755);
    const script = join(dir, 'start');
    writeFileSync(script, startScript(preSteps([`${step} one`, ['-/bin/false'], [step, "it's two"]])));
    const args = shell === '/bin/busybox' ? ['sh', script] : [script];
    const run = spawnSync(shell, [...args, step, 'workload', 'arg'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readFileSync(log, 'utf8'), "step one\nstep it's two\nstep workload arg\n");
    // A step without - that fails stops the start: the workload never runs.
    writeFileSync(script, startScript(preSteps(['/bin/false', `${step} never`])));
    const failed = spawnSync(shell, [...args, step, 'workload'], { encoding: 'utf8' });
    assert.notEqual(failed.status, 0);
    assert.equal(readFileSync(log, 'utf8'), "step one\nstep it's two\nstep workload arg\n");
  });
}
