import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ImageTree } from '../../tree/index.js';
import { installFake, mergedUsrTree } from '../../../test/support/configure/packages.js';
import { configureImage } from '../configure.js';
import { parseSed } from './sed.js';

const hasGnuSed = spawnSync('sed', ['--sandbox', '-e', 'p'], { input: '' }).status === 0;
const OPTIONS = { architecture: 'amd64', sourceDateEpoch: 0, os: { imageId: 't', imageVersion: '1' } };

// prosody's postinst: a pre-0.8 configuration that loads conf.d with util.ztact is migrated in place.
const POSTINST = `#!/bin/sh
set -e
if grep -q 'require "util.ztact"' /etc/prosody/prosody.cfg.lua; then
	sed -e 's|^local ztact = require "util.ztact"$||'\\
	-e 'T;: loop;N;s|^--------*$||m;t end;b loop;:end; i\\' \\
	-e 'Include "conf.d/*.cfg.lua"' \\
	-e 'd' -i.dpkg-bak /etc/prosody/prosody.cfg.lua;
fi
`;
const OLD = `admins = { }
local ztact = require "util.ztact"
for _, f in ipairs(ztact.dir("conf.d")) do dofile(f) end
-----------
VirtualHost "localhost"
`;

test('sed -i: the options read, clustered -i with a backup suffix; others refused', () => {
  assert.deepEqual(parseSed(['-e', 's/a/b/', '-i.dpkg-bak', '/etc/x']), { scripts: ['s/a/b/'], flags: [], suffix: '.dpkg-bak', files: ['/etc/x'] });
  assert.deepEqual(parseSed(['-Ei', 's/a+/b/', '/etc/x', '/etc/y']), { scripts: ['s/a+/b/'], flags: ['-E'], suffix: '', files: ['/etc/x', '/etc/y'] });
  assert.throws(() => parseSed(['-f', '/s.sed', '-i', '/etc/x']), /option -f/);
  assert.throws(() => parseSed(['s/a/b/', '/etc/x']), /without -i/);
});

test("sed -i on an image file is run by the host's sed on the tree's copy: prosody's migration of a configuration that names util.ztact, with its backup", { skip: !hasGnuSed && 'GNU sed is not installed' }, () => {
  const tree = mergedUsrTree(new ImageTree());
  const pkg = installFake(tree, { name: 'prosody', files: { '/etc/prosody/prosody.cfg.lua': { content: OLD, mode: 0o640, gid: 7 } }, scripts: { postinst: POSTINST } });
  const report = configureImage(tree, [pkg], OPTIONS);
  const lines = report.scripts.find((s) => s.pkg === 'prosody')!;
  assert.deepEqual(lines.notReproduced, []);
  const cfg = tree.readFile('etc/prosody/prosody.cfg.lua')!.toString();
  assert.equal(cfg, 'admins = { }\nInclude "conf.d/*.cfg.lua"\nVirtualHost "localhost"\n');
  assert.equal(tree.readFile('etc/prosody/prosody.cfg.lua.dpkg-bak')!.toString(), OLD);
  // The file keeps its owner and mode.
  const node = tree.get('etc/prosody/prosody.cfg.lua')!;
  assert.deepEqual([node.mode & 0o777, node.gid], [0o640, 7]);
});

test('sed -i with a command that writes another file is refused by --sandbox and stays not reproduced', { skip: !hasGnuSed && 'GNU sed is not installed' }, () => {
  const tree = mergedUsrTree(new ImageTree());
  const pkg = installFake(tree, { name: 'p', files: { '/etc/p.conf': 'a\n' }, scripts: { postinst: "#!/bin/sh\nsed -i -e 'w /tmp/escape' /etc/p.conf\n" } });
  const report = configureImage(tree, [pkg], OPTIONS);
  assert.match(report.scripts.find((s) => s.pkg === 'p')!.notReproduced.join('\n'), /the host's sed could not run the script/);
  assert.equal(tree.readFile('etc/p.conf')!.toString(), 'a\n');
});
