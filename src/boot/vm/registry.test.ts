import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JeosError } from '../../errors.js';
import { qemuArgs, type QemuArgsSpec } from './qemu.js';
import { claimVmName, findRunningVm, vmRegistryDir } from './registry.js';

const code = (e: unknown) => (e instanceof JeosError ? e.code : String(e));

test('jeos run\'s registry: a name is claimed, recorded, found, released; a live holder keeps it, a dead one does not', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jeos-registry-'));
  const sleeper = spawn('sleep', ['60']);
  try {
    const claim = await claimVmName('web', dir);
    assert.equal(claim.auditSocket, join(dir, 'web.audit.sock'));
    assert.equal((await stat(dir)).mode & 0o777, 0o700, 'only the user reaches the sockets');
    await claim.record({ qemuPid: sleeper.pid!, outDir: '/p/out', lockDigest: 'ab'.repeat(32) });
    const found = await findRunningVm('web', dir);
    assert.equal(found.pid, process.pid);
    assert.equal(found.outDir, '/p/out');
    await claim.release();
    await assert.rejects(findRunningVm('web', dir), (e) => code(e) === 'E_AUDIT_NO_VM');

    // Another jeos run (the sleeper stands in for it) holds "db": refused; once it is gone, the entry is stale.
    const entry = { name: 'db', pid: sleeper.pid, qemuPid: sleeper.pid, auditSocket: join(dir, 'db.audit.sock'), outDir: '/q/out', lockDigest: null, started: '' };
    await writeFile(join(dir, 'db.json'), JSON.stringify(entry));
    await assert.rejects(claimVmName('db', dir), (e) => code(e) === 'E_VM_NAME_IN_USE' && /--name/.test((e as JeosError).hint ?? ''));
    assert.equal((await findRunningVm('db', dir)).outDir, '/q/out');
    sleeper.kill();
    await new Promise((r) => sleeper.once('close', r));
    await assert.rejects(findRunningVm('db', dir), (e) => code(e) === 'E_AUDIT_NO_VM');
    const again = await claimVmName('db', dir);
    await again.record({ qemuPid: process.pid, outDir: '/r/out', lockDigest: null });
    assert.equal(JSON.parse(await readFile(join(dir, 'db.json'), 'utf8')).outDir, '/r/out');

    await assert.rejects(claimVmName('../x', dir), (e) => code(e) === 'E_VM_NAME');
    assert.equal(vmRegistryDir({ XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/jeos-vms');
  } finally {
    sleeper.kill();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the audit port: a virtio-serial port named org.jeos.audit on a socket QEMU listens on, only when asked', () => {
  const spec: QemuArgsSpec = { kernel: 'k', cmdline: 'c', memoryMiB: 256, cpus: 1, accel: 'tcg', machine: 'q35', forwards: [], sockets: { console: 'a', report: 'b', qmp: 'c' } };
  assert.ok(!qemuArgs(spec).some((a) => a.includes('virtserialport')));
  const args = qemuArgs({ ...spec, auditSocket: '/run/x,y.sock' }).join(' ');
  assert.match(args, /-device virtio-serial-pci,id=vser0 -chardev socket,id=audit,path=\/run\/x,,y\.sock,server=on,wait=off -device virtserialport,bus=vser0\.0,chardev=audit,name=org\.jeos\.audit/);
});
