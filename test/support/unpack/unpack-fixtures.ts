// The unpack stage's tests of whole packages (src/unpack/unpack-*.test.ts): .debs built by
// dpkg-deb or by hand, unpacked into a fresh tree, and the tree read back one line an entry.
// Importing this makes a scratch directory for the built .debs, removed after the file's tests.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { JeosError } from '../../../src/errors.js';
import { ImageTree, type TreeNode } from '../../../src/tree/index.js';
import { unpackPackages, type DebInput, type UnpackOptions } from '../../../src/unpack/unpack.js';
import { buildDeb, FIXTURE_EPOCH, type DebRecipe } from '../../fixtures/debs.js';
import { handDeb, type HandEntry } from './test-helpers.js';

const work = await mkdtemp(join(tmpdir(), 'jeos-unpack-'));
after(() => rm(work, { recursive: true, force: true }));

const T = FIXTURE_EPOCH;

/** A package built by dpkg-deb from `recipe`, labelled name_version_arch as the fetch stage would. */
export async function deb(recipe: DebRecipe): Promise<DebInput> {
  const path = await buildDeb(recipe, join(work, `${recipe.name}-${recipe.version}-${recipe.architecture ?? 'amd64'}-${Math.random()}`));
  return { label: `${recipe.name}_${recipe.version}_${recipe.architecture ?? 'amd64'}`, bytes: await readFile(path) };
}

/** A hand-made package: control fields plus raw tar entries (a `./` entry comes first). */
export function hand(name: string, entries: HandEntry[], fields: Record<string, string> = {}, controlFiles?: Record<string, string>): DebInput {
  const control = Object.entries({ Package: name, Version: '1.0', Architecture: 'amd64', ...fields, Description: 'hand-made' })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  const bytes = handDeb({ control: `${control}\n`, entries: [{ name: './', type: '5', mode: 0o755 }, ...entries], ...(controlFiles ? { controlFiles } : {}) });
  return { label: `${name}_1.0_amd64`, bytes };
}

/** The packages unpacked into a new tree (amd64 unless `options` says otherwise), and each one's record by name. */
export async function unpack(debs: DebInput[], options: Partial<UnpackOptions> = {}) {
  const tree = new ImageTree();
  const result = await unpackPackages(tree, debs, { architecture: 'amd64', ...options });
  return { tree, result, pkg: (name: string) => result.packages.find((p) => p.name === name)! };
}

/** `p` fails with a JeosError of `code` whose message mentions each of `mentions`, and which has a hint. */
export async function rejects(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected a JeosError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `message ${JSON.stringify(e.message)} should mention ${m}`);
    assert.ok(e.hint, 'every error has a hint');
    return true;
  });
}

/** One line per tree entry: path, kind, mode, owner, mtime, package, and content/target. */
export function snapshot(tree: ImageTree): string[] {
  return tree.entries().map(([path, n]) => {
    const what =
      n.kind === 'file'
        ? JSON.stringify(n.data.toString())
        : n.kind === 'symlink' || n.kind === 'hardlink'
          ? `-> ${n.target}`
          : n.kind === 'char' || n.kind === 'block'
            ? `${n.major},${n.minor}`
            : '';
    const meta = `${n.mode.toString(8)} ${n.uid}:${n.gid} ${n.mtime === T ? 'T' : n.mtime} ${n.pkg ?? '-'}`;
    return `${path || '/'} ${n.kind} ${meta}${what ? ` ${what}` : ''}`;
  });
}

/** The tree's entry at `path`, which must exist. */
export function node(tree: ImageTree, path: string): TreeNode {
  const n = tree.get(path);
  assert.ok(n, `${path} exists`);
  return n;
}
