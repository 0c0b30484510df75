import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readDlopenNotes, readImports } from './sections.js';
import { buildElf } from '../../test/support/elf/synthetic.js';

const nm = spawnSync('nm', ['--version']).status === 0;
const hostFiles = ['/usr/bin/ls', '/usr/bin/id', '/usr/bin/python3', '/usr/lib/x86_64-linux-gnu/libz.so.1'].filter(existsSync);

test('the undefined dynamic symbols are what nm -D --undefined-only lists, on real files of this machine', { skip: !nm || hostFiles.length === 0 }, () => {
  for (const file of hostFiles) {
    const out = execFileSync('nm', ['-D', '--undefined-only', '--without-symbol-versions', file], { encoding: 'utf8' });
    const expected = new Set(out.split('\n').map((l) => l.trim().split(/\s+/).pop()!).filter(Boolean));
    assert.deepEqual([...readImports(readFileSync(file))].sort(), [...expected].sort(), file);
  }
});

test('files without section headers or not ELF at all import nothing and declare no dlopen notes', () => {
  assert.equal(readImports(buildElf({ needed: ['libc.so.6'] })).size, 0);
  assert.equal(readImports(Buffer.from('#!/bin/sh\n')).size, 0);
  assert.deepEqual(readDlopenNotes(buildElf({})), []);
  assert.deepEqual(readDlopenNotes(Buffer.from('not elf')), []);
});
