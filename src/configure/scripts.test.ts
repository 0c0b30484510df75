import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ImageTree } from '../tree/index.js';
import type { UnpackedPackage } from '../unpack/types.js';
import { scanScripts, scriptReports } from './scripts.js';
import * as debian from '../../test/support/configure/debian-scripts.js';
import { installFake, mergedUsrTree, type FakePackage } from '../../test/support/configure/packages.js';
import type { ScriptReport } from './types.js';

function scan(...specs: FakePackage[]): { reports: ScriptReport[]; tree: ImageTree; actions: ReturnType<typeof scanScripts>['actions'] } {
  const tree = mergedUsrTree(new ImageTree());
  const pkgs: UnpackedPackage[] = specs.map((s) => installFake(tree, s));
  const result = scanScripts(tree, pkgs, 'amd64');
  return { reports: scriptReports(result), tree, actions: result.actions };
}

const report = (reports: ScriptReport[], pkg: string, script = 'postinst'): ScriptReport => {
  const r = reports.find((x) => x.pkg === pkg && x.script === script);
  assert.ok(r, `no report for ${pkg} ${script}`);
  return r;
};

test('login postinst: touch, chown and chmod of literal paths are reproduced', () => {
  const { reports } = scan({ name: 'login', scripts: { postinst: debian.loginPostinst } });
  assert.deepEqual(report(reports, 'login'), {
    pkg: 'login',
    script: 'postinst',
    reproduced: [
      'line 9: touch /var/log/faillog',
      'line 10: chown 0:0 /var/log/faillog',
      'line 11: chmod 644 /var/log/faillog',
      'line 16: touch /etc/subuid',
      'line 17: chown 0:0 /etc/subuid',
      'line 18: chmod 644 /etc/subuid',
      'line 22: touch /etc/subgid',
      'line 23: chown 0:0 /etc/subgid',
      'line 24: chmod 644 /etc/subgid',
    ],
    notApplicable: [
      'line 3: set -e',
      "line 6: '[' configure = configure ']'",
      "line 8: '[' '' = '' ']'",
      "line 8: '[' '!' -f /var/log/faillog ']'",
      "line 15: '[' '!' -e /etc/subuid ']'",
      "line 21: '[' '!' -e /etc/subgid ']'",
      "line 29: dpkg-maintscript-helper rm_conffile /etc/securetty '1:4.7-1~' -- configure '' (nothing to migrate on a first installation)",
      'line 33: exit 0',
    ],
    notReproduced: [],
  });
});

test('mawk postinst: update-alternatives --install, continuation lines joined', () => {
  const { reports, actions } = scan({ name: 'mawk', scripts: { postinst: debian.mawkPostinst } });
  assert.deepEqual(report(reports, 'mawk').reproduced, [
    'line 5: update-alternatives --install /usr/bin/awk awk /usr/bin/mawk 5 --slave /usr/share/man/man1/awk.1.gz awk.1.gz /usr/share/man/man1/mawk.1.gz --slave /usr/bin/nawk nawk /usr/bin/mawk --slave /usr/share/man/man1/nawk.1.gz nawk.1.gz /usr/share/man/man1/mawk.1.gz (by the alternatives effect)',
  ]);
  assert.deepEqual(actions[0]!.action, {
    kind: 'alternative',
    link: '/usr/bin/awk',
    name: 'awk',
    path: '/usr/bin/mawk',
    priority: 5,
    slaves: [
      { link: '/usr/share/man/man1/awk.1.gz', name: 'awk.1.gz', path: '/usr/share/man/man1/mawk.1.gz' },
      { link: '/usr/bin/nawk', name: 'nawk', path: '/usr/bin/mawk' },
      { link: '/usr/share/man/man1/nawk.1.gz', name: 'nawk.1.gz', path: '/usr/share/man/man1/mawk.1.gz' },
    ],
  });
});

test('adduser through a wrapper function (dbus) and addgroup behind getent (openssh-client)', () => {
  const { reports, actions } = scan(
    { name: 'dbus-system-bus-common', scripts: { postinst: debian.dbusSystemBusCommonPostinst } },
    { name: 'openssh-client', scripts: { postinst: debian.opensshClientPostinst }, files: { '/usr/bin/ssh-agent': { content: 'x', mode: 0o755 } } },
  );
  assert.deepEqual(report(reports, 'dbus-system-bus-common').reproduced, [
    'line 11 in in_sysroot(): adduser --system --quiet --home /nonexistent --no-create-home --disabled-password --group messagebus (by the users effect)',
  ]);
  const ssh = report(reports, 'openssh-client');
  assert.deepEqual(ssh.reproduced, [
    'line 21 in set_ssh_agent_permissions(): addgroup --system --quiet --force-badname _ssh (by the users effect)',
    'line 24 in set_ssh_agent_permissions(): chgrp _ssh /usr/bin/ssh-agent',
    'line 25 in set_ssh_agent_permissions(): chmod 2755 /usr/bin/ssh-agent',
  ]);
  // The upgrade-only helpers (groupmod of an old "ssh" group, removing old alternatives) never run.
  assert.ok(!JSON.stringify(ssh).includes('groupmod'));
  assert.ok(!JSON.stringify(ssh).includes('--remove'));
  assert.deepEqual(ssh.notReproduced, []);
  assert.deepEqual(
    actions.map((a) => a.action),
    [
      { kind: 'add-user', name: 'messagebus', tool: 'adduser', system: true, group: { kind: 'same' }, home: '/nonexistent', shell: '/usr/sbin/nologin', createHome: false, extraGroups: [] },
      { kind: 'add-group', name: '_ssh', system: true },
      { kind: 'chown', group: '_ssh', paths: ['/usr/bin/ssh-agent'], recursive: false },
      { kind: 'chmod', mode: '2755', paths: ['/usr/bin/ssh-agent'], recursive: false },
    ],
  );
});

test('apt postinst: _apt exists already (static), timers enabled, nothing for a running systemd', () => {
  const { reports } = scan({ name: 'apt', scripts: { postinst: debian.aptPostinst } });
  const apt = report(reports, 'apt');
  assert.deepEqual(apt.reproduced, [
    'line 29: deb-systemd-helper enable apt-daily-upgrade.timer (by the systemd-units effect)',
    'line 46: deb-systemd-helper enable apt-daily.timer (by the systemd-units effect)',
  ]);
  assert.deepEqual(apt.notReproduced, []);
  assert.ok(apt.notApplicable.includes('line 4: getent passwd _apt'));
  assert.ok(apt.notApplicable.includes("line 56: '[' -d /run/systemd/system ']'"));
  assert.ok(!apt.notApplicable.some((l) => l.includes('deb-systemd-invoke') || l.includes('update-state') || l.includes('rm -f')));
});

test('base-files postinst: its helper functions run with their arguments', () => {
  const { reports } = scan({
    name: 'base-files',
    scripts: { postinst: debian.baseFilesPostinst },
    files: { '/usr/share/base-files/profile': 'p', '/usr/share/base-files/dot.profile': 'p', '/usr/share/base-files/dot.bashrc': 'b', '/usr/share/base-files/motd': 'm', '/etc/dpkg/origins/debian': 'Vendor: Debian\n', '/var/log/.k': '', '/usr/local/.k': '' },
  });
  const bf = report(reports, 'base-files');
  assert.deepEqual(bf.notReproduced, []);
  for (const line of [
    'line 57: ln -sf debian /etc/dpkg/origins/default',
    'line 24 in install_from_default(): cp -p /usr/share/base-files/profile /etc/profile',
    'line 30 in install_directory(): mkdir /var/mail',
    'line 31 in install_directory(): chown root:mail /var/mail',
    'line 32 in install_directory(): chmod 2775 /var/mail',
    'line 74: ln -s ../mail /var/spool/mail',
    'line 39 in migrate_directory(): ln -s /run /var/run',
    'line 14 in install_local_dir(): mkdir -p /usr/local/share/man',
    'line 6 in ensure_file_owner_mode(): : > /var/log/wtmp',
    'line 8 in ensure_file_owner_mode(): chown root:utmp /var/log/wtmp',
  ]) {
    assert.ok(bf.reproduced.includes(line), line);
  }
  // No /etc/staff-group-for-usr-local: the staff chown is not taken; no /usr/share/info: no info dir.
  assert.ok(!JSON.stringify(bf).includes('root:staff'));
  assert.ok(!JSON.stringify(bf).includes('info.dir'));
});

test('ca-certificates postinst: decided through $(stat …), its files left to the ca-certificates effect', () => {
  const { reports } = scan({ name: 'ca-certificates', scripts: { postinst: debian.caCertificatesPostinst }, files: { '/usr/local/.k': '', '/usr/share/ca-certificates/mozilla/A.crt': 'x' } });
  const ca = report(reports, 'ca-certificates');
  assert.deepEqual(ca.reproduced, [
    'line 44: mkdir -m 755 /usr/local/share/ca-certificates',
    'line 45: chgrp 0 /usr/local/share/ca-certificates',
    'line 120: cat > /etc/ca-certificates.conf (by the ca-certificates effect)',
    "line 137: sed -e 's/^[[:space:]]*2[[:space:]]*//' -e 's/^[[:space:]]*1[[:space:]]*/!/' >> /etc/ca-certificates.conf (by the ca-certificates effect)",
    "line 147: update-ca-certificates --hooksdir '' (by the ca-certificates effect)",
  ]);
  assert.deepEqual(ca.notReproduced, []);
});

test('passwd postinst: groupadd shadow, shadowconfig, and no tmpfiles without systemd-tmpfiles', () => {
  const { reports } = scan({ name: 'passwd', scripts: { postinst: debian.passwdPostinst } });
  const p = report(reports, 'passwd');
  assert.deepEqual(p.reproduced, ['line 9: groupadd -g 42 shadow (by the users effect; condition undecided at build time)', 'line 26: shadowconfig on (by the users effect)']);
  assert.deepEqual(p.notReproduced, []);
  assert.ok(p.notApplicable.includes("line 30: '[' -x '' ']'"));

  const withSystemd = scan({ name: 'passwd', scripts: { postinst: debian.passwdPostinst }, files: { '/usr/bin/systemd-tmpfiles': { content: 'x', mode: 0o755 } } });
  assert.deepEqual(report(withSystemd.reports, 'passwd').notReproduced, [
    'line 31: systemd-tmpfiles --create passwd.conf (tmpfiles.d entries are applied by systemd-tmpfiles at boot, not in the image)',
  ]);
});

test('triggers: libc6 activates ldconfig, so libc-bin\'s postinst runs again as "triggered"', () => {
  const { reports } = scan(
    { name: 'libc-bin', scripts: { postinst: debian.libcBinPostinst, triggers: debian.libcBinTriggers }, files: { '/usr/share/libc-bin/nsswitch.conf': 'passwd: files\n' } },
    { name: 'libc6', multiArch: 'same', scripts: { triggers: debian.libc6Triggers } },
    { name: 'man-db', scripts: { triggers: 'interest-noawait /usr/share/man\n' } },
  );
  assert.deepEqual(report(reports, 'libc-bin').reproduced, [
    'line 7 in install_from_default(): cp -p /usr/share/libc-bin/nsswitch.conf /etc/nsswitch.conf',
    'line 36: ldconfig -r / (by the ld-so effect)',
  ]);
  assert.deepEqual(report(reports, 'libc-bin', 'triggers').notApplicable, ['interest-await ldconfig (activated by libc6:amd64: see its "postinst triggered" run)']);
  assert.deepEqual(report(reports, 'libc-bin', 'postinst triggered').reproduced, ['line 36: ldconfig -r / (by the ld-so effect)']);
  assert.deepEqual(report(reports, 'libc6:amd64', 'triggers').notApplicable, ['activate-noawait ldconfig (handled by libc-bin)']);
  assert.deepEqual(report(reports, 'man-db', 'triggers').notApplicable, ['interest-noawait /usr/share/man (not activated by any package in the image)']);
  assert.ok(!reports.some((r) => r.pkg === 'man-db' && r.script === 'postinst triggered'));
});

test('what is not understood is reported, never dropped', () => {
  const { reports } = scan(
    { name: 'perlish', scripts: { postinst: '#!/usr/bin/perl\nprint "hi\\n";\n' } },
    { name: 'broken', scripts: { postinst: '#!/bin/sh\nif true; then\n  echo x\n' } },
    {
      name: 'misc',
      files: { '/usr/bin/update-mime-database': { content: '#!/bin/sh\n', mode: 0o755 } },
      scripts: {
        preinst: '#!/bin/sh\nset -e\nif [ "$1" = install ]; then dpkg-divert --package misc --add --rename /usr/bin/x; fi\n',
        postinst: `#!/bin/sh
set -e
update-mime-database /usr/share/mime
echo "key=value" > /etc/misc.conf
echo "$(hostname)" > /etc/misc.name
cd /etc && cp template copy
sed -i 's/a/b/' /etc/misc.conf
py3compile -p misc
chown missinguser /etc/misc.conf
cat /etc/passwd.master > /etc/passwd
if perl -e '' 2>/dev/null; then echo has-perl; fi
`,
      },
    },
  );
  assert.deepEqual(report(reports, 'perlish'), { pkg: 'perlish', script: 'postinst', reproduced: [], notApplicable: [], notReproduced: ['whole script (written for /usr/bin/perl, which jeos does not interpret)'] });
  assert.deepEqual(report(reports, 'broken').notReproduced, ['whole script (could not be parsed (line 4: unexpected end of script))']);
  assert.deepEqual(report(reports, 'misc', 'preinst').reproduced, ['line 3: dpkg-divert --package misc --add --rename /usr/bin/x (recorded in /var/lib/dpkg/diversions)']);
  const misc = report(reports, 'misc');
  assert.deepEqual(misc.notReproduced, [
    'line 3: update-mime-database /usr/share/mime (update-mime-database is not a command jeos reproduces)',
    'line 5: echo "$(hostname)" > /etc/misc.name (writes to /etc/misc.name text not known when the image is built)',
    'line 6: cp template copy (path template is relative to a working directory the build does not have)',
    "line 7: sed -i s/a/b/ /etc/misc.conf (/etc/misc.conf was changed by an earlier step, whose content the build does not have yet)",
    'line 8: py3compile -p misc (Python byte-code is not compiled into the image)',
  ]);
  assert.ok(misc.notApplicable.includes("line 11: perl -e '' (perl is not in the image, so the command fails (status 127) as it would under dpkg)"));
  assert.ok(!misc.notApplicable.some((l) => l.includes('has-perl')));
  assert.deepEqual(misc.reproduced, [
    'line 4: echo key=value > /etc/misc.conf',
    'line 9: chown missinguser /etc/misc.conf',
    'line 10: cat /etc/passwd.master > /etc/passwd (by the users effect)',
  ]);
});
