import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { EM_386, EM_X86_64, ET_DYN, ET_EXEC, readElf } from './elf.js';
import { buildElf } from '../../test/support/elf/synthetic.js';
import { JeosError } from '../errors.js';

test('reads soname, needed, runpath and ISA level from a synthetic 64-bit library', () => {
  const info = readElf(buildElf({ soname: 'libfoo.so.1', needed: ['libbar.so.2', 'libc.so.6'], runpath: '$ORIGIN/../lib', isaNeeded: 0b100 }));
  assert.deepEqual(info, {
    class: 64,
    endian: 'little',
    type: ET_DYN,
    machine: EM_X86_64,
    flags: 0,
    dynamic: true,
    dynamicStrings: true,
    needed: ['libbar.so.2', 'libc.so.6'],
    soname: 'libfoo.so.1',
    runpath: '$ORIGIN/../lib',
    isaLevel: 2,
  });
});

test('reads 32-bit and big-endian files, and the program interpreter', () => {
  const i386 = readElf(buildElf({ class: 32, machine: EM_386, type: ET_EXEC, interpreter: '/lib/ld-linux.so.2', needed: ['libc.so.6'], rpath: '/opt/x' }));
  assert.equal(i386?.class, 32);
  assert.equal(i386?.machine, EM_386);
  assert.equal(i386?.type, ET_EXEC);
  assert.equal(i386?.interpreter, '/lib/ld-linux.so.2');
  assert.deepEqual(i386?.needed, ['libc.so.6']);
  assert.equal(i386?.rpath, '/opt/x');
  assert.equal(i386?.soname, undefined);

  const be = readElf(buildElf({ endian: 'big', machine: 22, soname: 'libbe.so.1' }));
  assert.equal(be?.endian, 'big');
  assert.equal(be?.machine, 22);
  assert.equal(be?.soname, 'libbe.so.1');
});

test('non-ELF data is undefined; broken ELF data is a JeosError', () => {
  assert.equal(readElf(Buffer.from('GROUP ( /lib/libc.so.6 )')), undefined);
  assert.equal(readElf(Buffer.alloc(0)), undefined);
  const good = buildElf({ soname: 'libx.so.1' });
  assert.throws(() => readElf(good.subarray(0, 40)), (e: unknown) => e instanceof JeosError && e.code === 'E_ELF_TRUNCATED');
  const badClass = Buffer.from(good);
  badClass[4] = 7;
  assert.throws(() => readElf(badClass), (e: unknown) => e instanceof JeosError && e.code === 'E_ELF_BAD_HEADER');
});

test('a file without PT_DYNAMIC reads as static', () => {
  const elf = buildElf({ soname: 'x' });
  // Turn the PT_DYNAMIC program header (the second one) into PT_NULL.
  elf.writeUInt32LE(0, 64 + 56);
  const info = readElf(elf);
  assert.equal(info?.dynamic, false);
  assert.deepEqual(info?.needed, []);
  assert.equal(info?.soname, undefined);
});

// Real binaries from this machine, checked against readelf.
const hostFiles = ['/usr/bin/ls', '/usr/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/x86_64-linux-gnu/libc.so.6'].filter((f) => existsSync(f));
let readelf = true;
try {
  execFileSync('readelf', ['--version']);
} catch {
  readelf = false;
}

test('agrees with readelf on real files of this machine', { skip: !readelf || hostFiles.length === 0 }, () => {
  for (const file of hostFiles) {
    const info = readElf(readFileSync(file), file);
    assert.ok(info, file);
    const out = execFileSync('readelf', ['-dlW', file], { env: { ...process.env, LC_ALL: 'C' } }).toString();
    const needed = [...out.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]);
    const soname = /\(SONAME\)\s+Library soname: \[(.*)\]/.exec(out)?.[1];
    const interp = /Requesting program interpreter: (.*)\]/.exec(out)?.[1];
    assert.deepEqual(info.needed, needed, file);
    assert.equal(info.soname, soname, file);
    assert.equal(info.interpreter, interp, file);
  }
});
