/**
 * A hostile out/ (a cloned project can carry anything in it): entries named like jeos's
 * leftovers, journal or lock that are symlinks, files, or another user's never make jeos
 * move, rename, delete or write anything outside out/. Each case plants something, runs a
 * build and a reader, and checks the decoy directory the plant points at is unchanged.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chown, lstat, mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JeosError } from '../errors.js';
import { CONTRACT_IMAGE, contractTree, EPOCH, snapshot } from './contract.case.test.js';
import { lockOutputDir, recoverOutputDir, writeOutputs } from './index.js';
import type { OutputContext } from './types.js';

const isRoot = process.getuid?.() === 0;

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

interface Plant {
  out: string;
  decoy: string;
  pid: number;
}

interface Case {
  name: string;
  plant(p: Plant): Promise<void>;
  /** The refusal every command gives (a build, a reader); none: both proceed, acting only on jeos's own entries. */
  refused?: { code: string; names: (p: Plant) => string; readerProceeds?: true };
  /** After a build that proceeded: what must still hold in out/. */
  check?(p: Plant): Promise<void>;
  rootOnly?: boolean;
}

const journalOf = (pid: number, staging: string, old: string) =>
  JSON.stringify({ version: 1, owner: { pid, host: 'elsewhere' }, staging, old, incoming: ['rootfs.tar'], outgoing: ['oci', 'rootfs.tar', 'vm'] });

const isLink = async (path: string) => assert.ok((await lstat(path)).isSymbolicLink(), `${path} is still the planted symlink`);

const CASES: Case[] = [
  {
    name: 'a .jeos-old-<dead pid> symlink to a directory holding output names',
    plant: (p) => symlink(p.decoy, join(p.out, `.jeos-old-${p.pid}-0a`)),
    check: async (p) => {
      await isLink(join(p.out, `.jeos-old-${p.pid}-0a`));
      assert.ok(!(await readdir(p.out)).includes('vm'), 'nothing came into out/ from the link');
    },
  },
  {
    name: 'a .jeos-staging-<dead pid> symlink',
    plant: (p) => symlink(p.decoy, join(p.out, `.jeos-staging-${p.pid}-0a`)),
    check: (p) => isLink(join(p.out, `.jeos-staging-${p.pid}-0a`)),
  },
  {
    name: 'a .jeos-old-<dead pid> regular file',
    plant: (p) => writeFile(join(p.out, `.jeos-old-${p.pid}-0a`), 'not a directory'),
    check: async (p) => assert.ok((await lstat(join(p.out, `.jeos-old-${p.pid}-0a`))).isFile()),
  },
  {
    name: 'a .jeos-old-<dead pid> directory of another user',
    rootOnly: true,
    plant: async (p) => {
      await mkdir(join(p.out, `.jeos-old-${p.pid}-0a`, 'vm'), { recursive: true });
      await chown(join(p.out, `.jeos-old-${p.pid}-0a`), 65534, 65534);
    },
    check: async (p) => {
      assert.deepEqual(await readdir(join(p.out, `.jeos-old-${p.pid}-0a`)), ['vm'], 'left alone');
      assert.ok(!(await readdir(p.out)).includes('vm'));
    },
  },
  {
    name: 'a .jeos-old-<dead pid> directory holding symlinks out of out/',
    plant: async (p) => {
      await mkdir(join(p.out, `.jeos-old-${p.pid}-0a`));
      await symlink(join(p.decoy, 'vm'), join(p.out, `.jeos-old-${p.pid}-0a`, 'vm'));
      await symlink(join(p.decoy, 'secret'), join(p.out, `.jeos-old-${p.pid}-0a`, 'secret'));
    },
    check: async (p) => assert.ok(!(await readdir(p.out)).some((n) => n.startsWith('.jeos-old-')), 'deleted, links and all (not what they point at)'),
  },
  {
    name: 'an output name (oci) that is a symlink out of out/',
    plant: async (p) => {
      await rm(join(p.out, 'oci'), { recursive: true });
      await symlink(join(p.decoy, 'oci'), join(p.out, 'oci'));
    },
    check: async (p) => assert.ok(!(await readdir(p.out)).includes('oci'), 'the link went, as a stale output'),
  },
  {
    name: 'a journal that is a symlink',
    plant: (p) => symlink(join(p.decoy, 'secret'), join(p.out, '.jeos-commit.json')),
    refused: { code: 'E_OUTPUT_FOREIGN', names: (p) => join(p.out, '.jeos-commit.json') },
  },
  {
    name: 'a journal that is not JSON',
    plant: (p) => writeFile(join(p.out, '.jeos-commit.json'), 'garbage'),
    refused: { code: 'E_OUTPUT_FOREIGN', names: (p) => join(p.out, '.jeos-commit.json') },
  },
  {
    name: 'a journal that is a directory',
    plant: (p) => mkdir(join(p.out, '.jeos-commit.json')),
    refused: { code: 'E_OUTPUT_FOREIGN', names: (p) => join(p.out, '.jeos-commit.json') },
  },
  {
    name: 'a dead build\'s journal whose old directory is a symlink out of out/',
    plant: async (p) => {
      const staging = `.jeos-staging-${p.pid}-0a`;
      await mkdir(join(p.out, staging));
      await writeFile(join(p.out, staging, 'rootfs.tar'), 'x');
      await symlink(p.decoy, join(p.out, `.jeos-old-${p.pid}-0a`));
      await writeFile(join(p.out, '.jeos-commit.json'), journalOf(p.pid, staging, `.jeos-old-${p.pid}-0a`));
    },
    refused: { code: 'E_OUTPUT_FOREIGN', names: (p) => join(p.out, `.jeos-old-${p.pid}-0a`) },
  },
  {
    name: 'a journal naming directories outside out/',
    plant: (p) => writeFile(join(p.out, '.jeos-commit.json'), journalOf(p.pid, `../../${p.decoy}`, '/')),
    refused: { code: 'E_OUTPUT_FOREIGN', names: (p) => join(p.out, '.jeos-commit.json') },
  },
  {
    name: 'a journal of another user',
    rootOnly: true,
    plant: async (p) => {
      await writeFile(join(p.out, '.jeos-commit.json'), journalOf(p.pid, `.jeos-staging-${p.pid}-0a`, `.jeos-old-${p.pid}-0a`));
      await chown(join(p.out, '.jeos-commit.json'), 65534, 65534);
    },
    refused: { code: 'E_OUTPUT_FOREIGN', names: (p) => join(p.out, '.jeos-commit.json') },
  },
  {
    name: 'a lock that is a symlink',
    plant: (p) => symlink(join(p.decoy, 'secret'), join(p.out, '.jeos-lock')),
    // With no commit to roll back, a reader does not need the lock.
    refused: { code: 'E_OUTPUT_FOREIGN', names: (p) => join(p.out, '.jeos-lock'), readerProceeds: true },
  },
  {
    name: 'a lock that is a directory',
    plant: (p) => mkdir(join(p.out, '.jeos-lock')),
    // With no commit to roll back, a reader does not need the lock.
    refused: { code: 'E_OUTPUT_FOREIGN', names: (p) => join(p.out, '.jeos-lock'), readerProceeds: true },
  },
  {
    name: 'out/ itself a symlink',
    plant: async (p) => {
      await rename(p.out, `${p.out}.real`);
      await symlink(p.decoy, p.out);
    },
    refused: { code: 'E_OUTPUT_DIR_SYMLINK', names: (p) => p.out },
  },
];

function isCode(code: string, path: string) {
  return (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected JeosError ${code}, got ${String((e as Error)?.stack ?? e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(path), `the message names ${path}: ${e.message}`);
    assert.ok(e.hint && e.hint.length > 10, `${code} has a hint`);
    return true;
  };
}

describe('a hostile out/ never makes jeos touch anything outside it', () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-hostile-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  CASES.forEach((c, i) => {
    test(c.name, { skip: c.rootOnly && !isRoot ? 'needs root to make a file of another user' : false }, async () => {
      const dir = join(work, String(i));
      const p: Plant = { out: join(dir, 'out'), decoy: join(dir, 'decoy'), pid: await deadPid() };
      const ctx: OutputContext = { outDir: p.out, sourceDateEpoch: EPOCH, extraFiles: (r) => [{ path: 'build.json', data: JSON.stringify(r) }] };
      await writeOutputs(contractTree(), CONTRACT_IMAGE, ['tar', 'oci'], ctx);
      // What the plants point at: files named like outputs, and a secret.
      await mkdir(join(p.decoy, 'oci'), { recursive: true });
      await mkdir(join(p.decoy, 'vm'));
      await writeFile(join(p.decoy, 'oci', 'index.json'), 'decoy');
      await writeFile(join(p.decoy, 'vm', 'vmlinuz'), 'decoy');
      await writeFile(join(p.decoy, 'rootfs.tar'), 'decoy');
      await writeFile(join(p.decoy, 'secret'), 'keep me');
      const decoy = await snapshot(p.decoy);

      await c.plant(p);
      const planted = await snapshot(c.name === 'out/ itself a symlink' ? `${p.out}.real` : p.out);
      const tree = contractTree();
      tree.writeFile('etc/hostname', 'the next build\n');
      const build = () => writeOutputs(tree, CONTRACT_IMAGE, ['tar'], ctx);
      if (c.refused) {
        const path = c.refused.names(p);
        await assert.rejects(build(), isCode(c.refused.code, path));
        if (c.refused.readerProceeds) await recoverOutputDir(p.out);
        else await assert.rejects(recoverOutputDir(p.out), isCode(c.refused.code, path));
        await assert.rejects(lockOutputDir(p.out).then((l) => l.release()), isCode(c.refused.code, path));
        assert.deepEqual(await snapshot(c.name === 'out/ itself a symlink' ? `${p.out}.real` : p.out), planted, 'out/ unchanged');
      } else {
        await build();
        await recoverOutputDir(p.out);
        assert.ok((await readdir(p.out)).includes('rootfs.tar'));
        await c.check?.(p);
      }
      assert.deepEqual(await snapshot(p.decoy), decoy, 'nothing outside out/ changed');
    });
  });
});
