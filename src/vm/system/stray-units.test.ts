/**
 * In a VM with a workload unit, the units packages enabled start only when the workload
 * needs them: postgresql-common's postgresql.service (enabled next to pgbouncer, failing on
 * /bin/true) goes; what the workload's unit or the package unit it replaces wants stays, as
 * do systemd's own units and the ones jeos enabled.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImageTree } from '../../tree/index.js';
import { disableStrayUnits, neededUnits } from './stray-units.js';

const LIB = 'usr/lib/systemd/system';
const WANTS = 'etc/systemd/system/multi-user.target.wants';
const unit = (exec: string, needs = '') => `[Unit]\n${needs}\n[Service]\nExecStart=${exec}\n\n[Install]\nWantedBy=multi-user.target\n`;

function tree(): ImageTree {
  const t = new ImageTree();
  const files: Record<string, string> = {
    [`${LIB}/pgbouncer.service`]: unit('/usr/sbin/pgbouncer /etc/pgbouncer/pgbouncer.ini', 'Wants=pgbouncer-auth.service'),
    [`${LIB}/pgbouncer-auth.service`]: unit('/usr/sbin/pgbouncer-auth', 'Requires=pgbouncer-keys.service'),
    [`${LIB}/pgbouncer-keys.service`]: unit('/usr/sbin/pgbouncer-keys'),
    [`${LIB}/postgresql.service`]: unit('/bin/true'),
    [`${LIB}/logrotate.timer`]: '[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n',
    [`${LIB}/systemd-pstore.service`]: unit('/usr/lib/systemd/systemd-pstore'),
    [`${LIB}/getty@.service`]: unit('/sbin/agetty'),
    [`${LIB}/jeos-network.service`]: unit('/usr/lib/jeos/network'),
    'etc/systemd/system/site.service': unit('/usr/sbin/pgbouncer /etc/pgbouncer/pgbouncer.ini', 'Wants=site-extra.service'),
    [`${LIB}/site-extra.service`]: unit('/usr/bin/extra'),
    'var/lib/dpkg/info/systemd.list': `/.\n/${LIB}/systemd-pstore.service\n/${LIB}/getty@.service\n`,
  };
  for (const [path, text] of Object.entries(files)) {
    t.mkdirp(path.slice(0, path.lastIndexOf('/')));
    t.writeFile(path, text);
  }
  t.mkdirp(WANTS);
  t.mkdirp('etc/systemd/system/timers.target.wants');
  for (const u of ['pgbouncer-auth.service', 'pgbouncer-keys.service', 'postgresql.service', 'systemd-pstore.service', 'getty@tty1.service', 'jeos-network.service', 'site.service', 'site-extra.service']) {
    t.symlink(`${WANTS}/${u}`, `/${LIB}/${u.replace('@tty1', '@')}`);
  }
  t.symlink('etc/systemd/system/timers.target.wants/logrotate.timer', `/${LIB}/logrotate.timer`);
  return t;
}

test("a unit a package enabled and the workload does not need is disabled (postgresql.service next to pgbouncer), a timer too; each reported", () => {
  const t = tree();
  // pgbouncer.service itself was disabled before, as a duplicate of the workload (system.ts).
  const report = { enabled: ['jeos-network.service'], disabled: [{ unit: 'pgbouncer.service', reason: 'it starts /usr/sbin/pgbouncer, which the workload runs' }] };
  disableStrayUnits(t, 'site.service', report);
  assert.equal(t.get(`${WANTS}/postgresql.service`), undefined);
  assert.equal(t.get('etc/systemd/system/timers.target.wants/logrotate.timer'), undefined);
  assert.deepEqual(report.disabled.slice(1).map((d) => d.unit).sort(), ['logrotate.timer', 'postgresql.service']);
  assert.match(report.disabled[1]!.reason, /a package enabled it, and the VM starts only the workload's site\.service and the units it needs/);
});

test("what the workload's unit or the package unit it replaces needs stays, through their own needs; systemd's units and jeos's stay", () => {
  const t = tree();
  const report = { enabled: ['jeos-network.service'], disabled: [{ unit: 'pgbouncer.service', reason: 'duplicate' }] };
  disableStrayUnits(t, 'site.service', report);
  for (const kept of ['site.service', 'site-extra.service', 'pgbouncer-auth.service', 'pgbouncer-keys.service', 'systemd-pstore.service', 'getty@tty1.service', 'jeos-network.service']) {
    assert.ok(t.get(`${WANTS}/${kept}`), kept);
  }
  assert.deepEqual([...neededUnits(t, 'pgbouncer.service')].sort(), ['pgbouncer-auth.service', 'pgbouncer-keys.service', 'pgbouncer.service']);
});
