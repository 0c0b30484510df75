import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageTree } from '../../tree/index.js';
import { context } from '../../../test/support/configure/context.js';
import { CONF_HEADER, configureCaCertificates } from './ca-certificates.js';
import { makeCert } from '../../../test/support/configure/certs.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const m = { mode: 0o644, uid: 0, gid: 0, mtime: 0 };

test('hash links match openssl rehash: collisions numbered by file name, duplicates linked once', { skip: !hasOpenssl ? 'needs openssl' : false }, () => {
  // Two certificates with the same subject (same hash), one of them also under a second name.
  const same1 = makeCert('/O=Collide/CN=Same Subject');
  const same2 = makeCert('/O=Collide/CN=Same Subject');
  const other = makeCert('/CN=Other');
  const files: Record<string, string> = { 'b_Same.crt': same1, 'a_Same.crt': same2, 'c_Copy_of_b.crt': same1, 'Other.crt': other };
  const tree = new ImageTree();
  for (const [name, pem] of Object.entries(files)) tree.writeFile(`usr/share/ca-certificates/test/${name}`, pem, m);
  tree.writeFile('usr/local/share/ca-certificates/local.crt', other.trimEnd(), m); // no final newline
  configureCaCertificates(context(tree));

  // The same files, as regular files, through the real openssl rehash.
  const dir = mkdtempSync(join(tmpdir(), 'jeos-rehash-'));
  try {
    for (const name of tree.list('etc/ssl/certs')) {
      const n = tree.get(`etc/ssl/certs/${name}`)!;
      if (name.endsWith('.pem')) writeFileSync(join(dir, name), tree.readFile(`etc/ssl/certs/${name}`)!);
      else if (n.kind === 'file') writeFileSync(join(dir, name), n.data);
    }
    execFileSync('openssl', ['rehash', dir], { stdio: 'ignore' });
    const theirs = readdirSync(dir).filter((n) => /^[0-9a-f]{8}\.\d+$/.test(n)).sort().map((n) => `${n} -> ${readlinkSync(join(dir, n))}`);
    const ours = tree.list('etc/ssl/certs').filter((n) => /^[0-9a-f]{8}\.\d+$/.test(n)).map((n) => `${n} -> ${(tree.get(`etc/ssl/certs/${n}`) as { target: string }).target}`);
    assert.deepEqual(ours, theirs);
    assert.equal(ours.length, 3); // same subject twice (.0 and .1), Other once (local.pem is a duplicate of Other.pem)
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const names = ['test/Other.crt', 'test/a_Same.crt', 'test/b_Same.crt', 'test/c_Copy_of_b.crt'];
  assert.equal(tree.readFile('etc/ca-certificates.conf')!.toString(), CONF_HEADER + names.map((n) => `${n}\n`).join(''));
  assert.equal(tree.readFile('etc/ssl/certs/ca-certificates.crt')!.toString(), other + same2 + same1 + same1 + other.trimEnd() + '\n');
  assert.equal((tree.get('etc/ssl/certs/local.pem') as { target: string }).target, '/usr/local/share/ca-certificates/local.crt');
});

test('an existing ca-certificates.conf is followed, deselections included', () => {
  const tree = new ImageTree();
  tree.writeFile('usr/share/ca-certificates/x/One.crt', 'ONE\n', m);
  tree.writeFile('usr/share/ca-certificates/x/Two.crt', 'TWO\n', m);
  tree.writeFile('etc/ca-certificates.conf', '# mine\n!x/One.crt\nx/Two.crt\nx/Gone.crt\n', m);
  const report = configureCaCertificates(context(tree));
  assert.equal(tree.readFile('etc/ssl/certs/ca-certificates.crt')!.toString(), 'TWO\n');
  assert.equal(tree.get('etc/ssl/certs/One.pem'), undefined);
  assert.equal(report.summary, '1 certificates in /etc/ssl/certs/ca-certificates.crt, 0 subject-hash links; listed but missing: x/Gone.crt');
});

test('no /usr/share/ca-certificates: nothing written, update-ca-certificates reported', () => {
  const tree = new ImageTree();
  const ctx = context(tree, [{ kind: 'ca-certificates' }]);
  assert.equal(configureCaCertificates(ctx).summary, 'no /usr/share/ca-certificates in the image');
  assert.equal(ctx.actions[0]!.failed, '/usr/share/ca-certificates is not in the image');
  assert.equal(tree.get('etc/ssl'), undefined);
});
