import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageTree } from '../../tree/index.js';
import type { Action } from '../actions.js';
import { context } from '../../../test/support/configure/context.js';
import { mergedUsrTree } from '../../../test/support/configure/packages.js';
import { configureAlternatives } from './alternatives.js';

const m = { mode: 0o755, uid: 0, gid: 0, mtime: 0 };
const alt = (path: string, priority: number, slaves: Array<{ link: string; name: string; path: string }> = []): Action => ({ kind: 'alternative', link: '/usr/bin/editor', name: 'editor', path, priority, slaves });

test('highest priority wins; ties go to the first path; slaves follow the chosen one', () => {
  const tree = mergedUsrTree(new ImageTree());
  for (const p of ['usr/bin/vim.basic', 'usr/bin/nano', 'usr/bin/ed', 'usr/share/man/man1/nano.1.gz']) tree.writeFile(p, 'x', m);
  const man = (p: string) => [{ link: '/usr/share/man/man1/editor.1.gz', name: 'editor.1.gz', path: p }];
  const ctx = context(tree, [alt('/usr/bin/vim.basic', 40), alt('/usr/bin/nano', 40, man('/usr/share/man/man1/nano.1.gz')), alt('/bin/ed', -100)]);
  const report = configureAlternatives(ctx);
  assert.equal(report.summary, 'editor → /usr/bin/nano');
  assert.equal((tree.get('etc/alternatives/editor') as { target: string }).target, '/usr/bin/nano');
  assert.equal((tree.get('usr/bin/editor') as { target: string }).target, '/etc/alternatives/editor');
  assert.equal((tree.get('usr/share/man/man1/editor.1.gz') as { target: string }).target, '/etc/alternatives/editor.1.gz');
  assert.equal(
    tree.readFile('var/lib/dpkg/alternatives/editor')!.toString(),
    'auto\n/usr/bin/editor\neditor.1.gz\n/usr/share/man/man1/editor.1.gz\n\n/bin/ed\n-100\n\n/usr/bin/nano\n40\n/usr/share/man/man1/nano.1.gz\n/usr/bin/vim.basic\n40\n\n\n',
  );
});

test('--set makes a manual choice; a link that is a real file is left alone and reported', () => {
  const tree = mergedUsrTree(new ImageTree());
  for (const p of ['usr/bin/vim.basic', 'usr/bin/nano', 'usr/bin/editor']) tree.writeFile(p, 'x', m);
  const ctx = context(tree, [alt('/usr/bin/vim.basic', 40), alt('/usr/bin/nano', 50), { kind: 'alternative-set', name: 'editor', path: '/usr/bin/vim.basic' }, { kind: 'alternative-set', name: 'pager', path: '/usr/bin/less' }]);
  configureAlternatives(ctx);
  assert.equal((tree.get('etc/alternatives/editor') as { target: string }).target, '/usr/bin/vim.basic');
  assert.equal(tree.get('usr/bin/editor')!.kind, 'file');
  assert.match(tree.readFile('var/lib/dpkg/alternatives/editor')!.toString(), /^manual\n/);
  assert.deepEqual(ctx.actions.map((r) => r.failed), ['not replacing /usr/bin/editor (a file) with a link', undefined, undefined, 'no link group pager is registered']);
});
