import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageTree } from '../../tree/index.js';
import { installFake, mergedUsrTree } from '../../../test/support/configure/packages.js';
import { scanScripts, scriptReports } from '../scripts.js';
import { grepQuiet, posixRegExp } from './grep.js';
import { ScriptWorld } from './world.js';

test('POSIX basic and extended patterns as JavaScript; back-references are left unknown', () => {
  assert.equal(posixRegExp('^[A-Z]\\{20\\}$', false), '^[A-Z]{20}$');
  assert.equal(posixRegExp('^[A-Z]{20}$', true), '^[A-Z]{20}$');
  assert.equal(posixRegExp('a+(b)', false), 'a\\+\\(b\\)');
  assert.equal(posixRegExp('^[[:space:]]*listen', false), '^[ \\t\\n\\r\\f\\v]*listen');
  assert.equal(posixRegExp('\\(a\\)\\1', false), undefined);
});

test('grep -q is decided against the image file; a missing one (an effect may write it later) is left undecided', () => {
  const tree = mergedUsrTree(new ImageTree());
  installFake(tree, { name: 'p', files: { '/etc/p.cfg': 'modules = {\n  "roster";\n}\n' } });
  const world = new ScriptWorld(tree);
  assert.equal(grepQuiet(['-q', 'require "util.ztact"', '/etc/p.cfg'], world), false);
  assert.equal(grepQuiet(['-q', '"roster"', '/etc/p.cfg'], world), true);
  assert.equal(grepQuiet(['-qE', '^\\s+"ROSTER";$', '/etc/p.cfg'], world), false);
  assert.equal(grepQuiet(['-qiE', '^\\s+"ROSTER";$', '/etc/p.cfg'], world), true);
  assert.equal(grepQuiet(['-q', 'x', '/etc/none'], world), undefined);
  // Without -q the answer is left to the scan as before; an option it does not know too.
  assert.equal(grepQuiet(['roster', '/etc/p.cfg'], world), undefined);
  assert.equal(grepQuiet(['-q', '-P', 'x', '/etc/p.cfg'], world), undefined);
});

test("prosody's postinst: the in-place migration of a pre-0.8 configuration is not run, since the configuration does not name util.ztact", () => {
  const tree = mergedUsrTree(new ImageTree());
  const pkg = installFake(tree, {
    name: 'prosody',
    files: { '/etc/prosody/prosody.cfg.lua': 'admins = { }\nInclude "conf.d/*.cfg.lua"\n' },
    scripts: {
      postinst: `#!/bin/sh
set -e
if grep -q 'require "util.ztact"' /etc/prosody/prosody.cfg.lua; then
	sed -e 's|^local ztact = require "util.ztact"$||' -e d -i.dpkg-bak /etc/prosody/prosody.cfg.lua;
fi
`,
    },
  });
  const [report] = scriptReports(scanScripts(tree, [pkg], 'amd64'));
  assert.deepEqual(report!.notReproduced, []);
  assert.ok(!report!.notApplicable.some((l) => l.includes('sed')));
});
