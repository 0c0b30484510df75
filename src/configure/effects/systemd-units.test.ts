import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageTree } from '../../tree/index.js';
import { context } from '../../../test/support/configure/context.js';
import { mergedUsrTree } from '../../../test/support/configure/packages.js';
import { configureSystemdUnits } from './systemd-units.js';

const m = { mode: 0o644, uid: 0, gid: 0, mtime: 0 };

test('templates, RequiredBy, user units, and units that are not there', () => {
  const tree = mergedUsrTree(new ImageTree());
  tree.writeFile('usr/lib/systemd/system/getty@.service', '[Install]\nWantedBy=getty.target\nDefaultInstance=tty1\n', m);
  tree.writeFile('usr/lib/systemd/system/plain@.service', '[Install]\nWantedBy=multi-user.target\n', m);
  tree.writeFile('usr/lib/systemd/system/need.service', '[Unit]\nDescription=x\n[Install]\nRequiredBy=local-fs.target \\\n  remote-fs.target\n', m);
  tree.writeFile('usr/lib/systemd/user/agent.socket', '[Install]\nWantedBy=sockets.target\n', m);
  const ctx = context(tree, [
    { kind: 'enable-units', units: ['getty@.service', 'plain@.service', 'serial@ttyS0.service'] },
    { kind: 'enable-units', units: ['need.service', 'gone.service'] },
    { kind: 'enable-units', units: ['agent.socket'], user: true },
  ]);
  const report = configureSystemdUnits(ctx);
  assert.deepEqual(report.changed, [
    '/etc/systemd/system/getty.target.wants/getty@tty1.service',
    '/etc/systemd/system/local-fs.target.requires/need.service',
    '/etc/systemd/system/remote-fs.target.requires/need.service',
    '/etc/systemd/user/sockets.target.wants/agent.socket',
  ]);
  assert.equal((tree.get('etc/systemd/system/getty.target.wants/getty@tty1.service') as { target: string }).target, '/usr/lib/systemd/system/getty@.service');
  assert.deepEqual(ctx.actions.map((r) => r.failed), ['unit serial@ttyS0.service is not in the image', 'unit gone.service is not in the image', undefined]);
  assert.equal(report.summary, 'enabled: agent.socket (user), getty@tty1.service, need.service');
});
