/**
 * Debian's setup helpers reproduced at build time (issue 24, point 1): real maintainer
 * scripts (or verbatim snippets of them) run through the whole configure stage on fake
 * packages that ship what the scripts act on, and the tree checked afterwards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { ImageTree } from '../tree/index.js';
import { configureImage } from './configure.js';
import type { ConfigureOptions, ConfigureReport } from './types.js';
import * as debian from '../../test/support/configure/debian-scripts.js';
import * as snippets from '../../test/support/configure/debian-snippets.js';
import { installFake, mergedUsrTree, type FakePackage } from '../../test/support/configure/packages.js';
import { readSysusers } from './effects/sysusers.js';

const OPTIONS: ConfigureOptions = {
  architecture: 'amd64',
  sourceDateEpoch: 1_750_000_000,
  os: { codename: 'trixie', versionId: '13', imageId: 'test', imageVersion: '1' },
};

function configure(specs: FakePackage[], options: Partial<ConfigureOptions> = {}): { tree: ImageTree; report: ConfigureReport } {
  const tree = mergedUsrTree(new ImageTree());
  const pkgs = specs.map((s) => installFake(tree, s));
  return { tree, report: configureImage(tree, pkgs, { ...OPTIONS, ...options }) };
}

const notReproduced = (report: ConfigureReport, pkg: string): string[] => report.scripts.filter((s) => s.pkg === pkg).flatMap((s) => s.notReproduced);
const passwd = (tree: ImageTree): Map<string, string[]> =>
  new Map((tree.readFile('etc/passwd')?.toString() ?? '').trim().split('\n').map((l) => [l.split(':')[0]!, l.split(':')] as const));
const groupId = (tree: ImageTree, name: string): number => Number((tree.readFile('etc/group')?.toString() ?? '').split('\n').find((l) => l.startsWith(`${name}:`))?.split(':')[2]);

/** apache2's modules as trixie ships them: each with its .load, some with a .conf, and the # Depends: lines of their .load. */
const MODULES: Record<string, { conf?: boolean; depends?: string; conflicts?: string }> = {
  mpm_event: { conf: true, conflicts: 'mpm_worker mpm_prefork' },
  mpm_prefork: { conf: true, conflicts: 'mpm_event mpm_worker' },
  authz_host: { depends: 'authz_core' },
  auth_basic: { depends: 'authn_core' },
  access_compat: { depends: 'authn_core' },
  authn_file: {},
  authz_user: { depends: 'authz_core' },
  alias: { conf: true },
  dir: { conf: true },
  autoindex: { conf: true },
  env: {},
  mime: { conf: true },
  negotiation: { conf: true },
  setenvif: { conf: true },
  filter: {},
  deflate: { conf: true, depends: 'filter' },
  status: { conf: true },
  reqtimeout: { conf: true },
  authz_core: {},
  authn_core: {},
};

function apache2(): FakePackage {
  const files: FakePackage['files'] = { '/var/log/apache2/.keep': '' };
  for (const [name, m] of Object.entries(MODULES)) {
    files[`/etc/apache2/mods-available/${name}.load`] =
      (m.depends ? `# Depends: ${m.depends}\n` : '') + (m.conflicts ? `# Conflicts: ${m.conflicts}\n` : '') + `LoadModule ${name}_module /usr/lib/apache2/modules/mod_${name}.so\n`;
    if (m.conf) files[`/etc/apache2/mods-available/${name}.conf`] = `# ${name}\n`;
  }
  for (const c of ['charset', 'localized-error-pages', 'other-vhosts-access-log', 'security', 'serve-cgi-bin']) files[`/etc/apache2/conf-available/${c}.conf`] = '\n';
  files['/etc/apache2/sites-available/000-default.conf'] = '<VirtualHost *:80>\n</VirtualHost>\n';
  files['/etc/apache2/mods-enabled/.keep'] = '';
  files['/etc/apache2/conf-enabled/.keep'] = '';
  files['/etc/apache2/sites-enabled/.keep'] = '';
  return { name: 'apache2', scripts: { postinst: snippets.apache2Postinst }, files };
}

test('apache2: a2enmod, a2enconf and a2ensite make the links of *-enabled, dependencies first', () => {
  const { tree, report } = configure([apache2()]);
  const enabled = (dir: string) => tree.list(`etc/apache2/${dir}-enabled`).filter((n) => n !== '.keep').sort();
  const mods = Object.entries(MODULES).filter(([n]) => n !== 'mpm_prefork').flatMap(([n, m]) => [`${n}.load`, ...(m.conf ? [`${n}.conf`] : [])]).sort();
  assert.deepEqual(enabled('mods'), mods);
  assert.deepEqual(tree.get('etc/apache2/mods-enabled/deflate.load'), { ...tree.get('etc/apache2/mods-enabled/deflate.load'), kind: 'symlink', target: '../mods-available/deflate.load' });
  assert.deepEqual(enabled('conf'), ['charset.conf', 'localized-error-pages.conf', 'other-vhosts-access-log.conf', 'security.conf', 'serve-cgi-bin.conf']);
  assert.deepEqual(enabled('sites'), ['000-default.conf']);
  assert.equal((tree.get('etc/apache2/sites-enabled/000-default.conf') as { target: string }).target, '../sites-available/000-default.conf');
  // The logs the site's branch touches: root:adm 0640.
  const log = tree.get('var/log/apache2/error.log')!;
  assert.deepEqual([log.uid, log.gid, log.mode], [0, 4, 0o640]);
  assert.deepEqual(notReproduced(report, 'apache2'), []);
});

test('a2dismod removes the links; a module that conflicts with an enabled one is not enabled, and says so', () => {
  const pkg = apache2();
  pkg.scripts = { postinst: '#!/bin/sh\nset -e\na2enmod -q mpm_event status\na2dismod -q status\na2enmod -q mpm_prefork || true\na2enmod nosuchmod || true\n' };
  const { tree, report } = configure([pkg]);
  assert.deepEqual(tree.list('etc/apache2/mods-enabled').filter((n) => n !== '.keep').sort(), ['mpm_event.conf', 'mpm_event.load']);
  assert.deepEqual(notReproduced(report, 'apache2'), [
    'line 5: a2enmod -q mpm_prefork (module mpm_prefork conflicts with mpm_event, which is enabled)',
    'line 6: a2enmod nosuchmod (mods-available has no nosuchmod)',
  ]);
});

test('bind9: the bind account, /var/lib/bind, and /var/cache/bind group-writable by bind although rndc.key (made by rndc-confgen) is missing', () => {
  const { tree, report } = configure([
    {
      name: 'bind9',
      scripts: { postinst: snippets.bind9Postinst },
      files: {
        '/etc/bind/named.conf': 'include "/etc/bind/named.conf.options";\n',
        '/etc/bind/named.conf.options': '\n',
        '/var/cache/bind/.keep': '',
        // bind9-utils's, which the scan cannot run
        '/usr/sbin/rndc-confgen': { content: '\x7fELF', mode: 0o755 },
      },
      conffiles: ['/etc/bind/named.conf', '/etc/bind/named.conf.options'],
    },
  ]);
  const bind = passwd(tree).get('bind')!;
  assert.equal(bind[5], '/var/cache/bind');
  const gid = groupId(tree, 'bind');
  assert.equal(Number(bind[3]), gid);
  const cache = tree.get('var/cache/bind')!;
  assert.deepEqual([cache.uid, cache.gid, cache.mode & 0o7777], [0, gid, 0o775]);
  const lib = tree.get('var/lib/bind')!;
  assert.deepEqual([lib.uid, lib.gid, lib.mode & 0o7777], [0, gid, 0o775]);
  const etc = tree.get('etc/bind')!;
  assert.deepEqual([etc.gid, etc.mode & 0o7777], [gid, 0o2755]);
  assert.equal(tree.get('etc/bind/named.conf')!.gid, gid);
  const lines = notReproduced(report, 'bind9');
  assert.ok(lines.includes('line 20: rndc-confgen -a (rndc-confgen is not a command jeos reproduces)'), lines.join('\n'));
  assert.ok(
    lines.some((l) => l.startsWith('line 28: chgrp bind /etc/bind/rndc.key /var/cache/bind (/etc/bind/rndc.key does not exist in the image; done for the other paths')),
    lines.join('\n'),
  );
});

test('exim4-base: adduser --allow-bad-names makes Debian-exim, and install -d -o -g -m its directories', () => {
  const { tree, report } = configure([{ name: 'exim4-base', scripts: { postinst: snippets.exim4BasePostinst }, files: { '/var/log/.keep': '', '/run/.keep': '', '/var/spool/.keep': '' } }]);
  const exim = passwd(tree).get('Debian-exim')!;
  assert.deepEqual(exim.slice(5), ['/var/spool/exim4', '/usr/sbin/nologin']);
  const uid = Number(exim[2]);
  const gid = groupId(tree, 'Debian-exim');
  assert.equal(Number(exim[3]), gid);
  const meta = (p: string) => {
    const n = tree.get(p)!;
    return [n.kind, n.uid, n.gid, n.mode & 0o7777];
  };
  assert.deepEqual(meta('var/log/exim4'), ['dir', uid, 4, 0o2750]);
  for (const d of ['run/exim4', 'var/spool/exim4', 'var/spool/exim4/db', 'var/spool/exim4/input', 'var/spool/exim4/msglog']) assert.deepEqual(meta(d), ['dir', uid, gid, 0o750], d);
  assert.deepEqual(notReproduced(report, 'exim4-base'), []);
});

test('ucf TEMPLATE DEST installs the configuration file when DEST is absent (libdebuginfod-common, debconf default true)', () => {
  const { tree, report } = configure([
    {
      name: 'libdebuginfod-common',
      scripts: {
        postinst: debian.libdebuginfodCommonPostinst,
        templates: 'Template: libdebuginfod/usedebiandebuginfod\nType: boolean\nDefault: true\nDescription: x\n',
      },
      files: { '/usr/share/libdebuginfod-common/debuginfod.sh': 'export DEBUGINFOD_URLS=x\n', '/usr/share/libdebuginfod-common/debuginfod.csh': 'setenv DEBUGINFOD_URLS x\n', '/etc/profile.d/.keep': '' },
    },
  ]);
  assert.equal(tree.readFile('etc/profile.d/debuginfod.sh')?.toString(), 'export DEBUGINFOD_URLS=x\n');
  assert.equal(tree.readFile('etc/profile.d/debuginfod.csh')?.toString(), 'setenv DEBUGINFOD_URLS x\n');
  assert.equal(tree.get('etc/profile.d/debuginfod.sh')!.mode & 0o777, 0o644);
  const lines = report.scripts.find((s) => s.pkg === 'libdebuginfod-common')!;
  assert.ok(lines.reproduced.some((l) => /ucf --three-way --debconf-ok \/usr\/share\/libdebuginfod-common\/debuginfod.sh \/etc\/profile.d\/debuginfod.sh\b/.test(l)), lines.reproduced.join('\n'));
});

test('pam-auth-update --package writes /etc/pam.d/common-* from /usr/share/pam-configs, as the real tool wrote this machine\'s', () => {
  const read = (p: string) => readFileSync(p, 'utf8');
  const files: FakePackage['files'] = { '/etc/pam.d/other': '' };
  for (const t of ['auth', 'account', 'password', 'session', 'session-noninteractive']) files[`/usr/share/pam/common-${t}`] = read(`/usr/share/pam/common-${t}`);
  for (const p of ['unix', 'systemd', 'capability', 'mkhomedir']) if (existsSync(`/usr/share/pam-configs/${p}`)) files[`/usr/share/pam-configs/${p}`] = read(`/usr/share/pam-configs/${p}`);
  const { tree, report } = configure([{ name: 'libpam-runtime', scripts: { postinst: debian.libpamRuntimePostinst }, files }]);
  for (const t of ['auth', 'account', 'password', 'session', 'session-noninteractive']) {
    assert.equal(tree.readFile(`etc/pam.d/common-${t}`)?.toString(), read(`/etc/pam.d/common-${t}`), `common-${t}`);
  }
  assert.ok(!notReproduced(report, 'libpam-runtime').some((l) => l.includes('pam-auth-update')), notReproduced(report, 'libpam-runtime').join('\n'));
});

test('cp -r and cp -a copy a shipped directory of defaults; -a keeps owners and modes', () => {
  const { tree, report } = configure([
    {
      name: 'app',
      scripts: { postinst: '#!/bin/sh\nset -e\ncp -r /usr/share/app/defaults /etc/app\ncp -a /usr/share/app/state/. /var/lib/app\n' },
      files: {
        '/usr/share/app/defaults/app.conf': 'a=1\n',
        '/usr/share/app/defaults/conf.d/extra.conf': 'b=2\n',
        '/usr/share/app/state/seed.db': { content: 'seed', mode: 0o600, uid: 33, gid: 33 },
        '/usr/share/app/state/link': { symlink: 'seed.db' },
        '/var/lib/app/.keep': '',
      },
    },
  ]);
  assert.equal(tree.readFile('etc/app/app.conf')?.toString(), 'a=1\n');
  assert.equal(tree.readFile('etc/app/conf.d/extra.conf')?.toString(), 'b=2\n');
  const seed = tree.get('var/lib/app/seed.db')!;
  assert.deepEqual([seed.uid, seed.gid, seed.mode & 0o7777], [33, 33, 0o600]);
  assert.equal((tree.get('var/lib/app/link') as { target: string }).target, 'seed.db');
  assert.deepEqual(notReproduced(report, 'app'), []);
});

test('sysusers.d: `u name -:group` takes a dynamic uid and the named group as its primary group', () => {
  const conf = 'g mail 8\nu dovenull -:mail "Dovecot login user" /nonexistent\nu vmail - - /var/vmail\n';
  const tree = mergedUsrTree(new ImageTree());
  installFake(tree, { name: 'x', files: { '/usr/lib/sysusers.d/x.conf': conf } });
  const lines = readSysusers(tree);
  assert.deepEqual(lines.ignored, []);
  assert.deepEqual(lines.lines[1], { type: 'u', name: 'dovenull', groupName: 'mail', gecos: 'Dovecot login user', home: '/nonexistent', file: '/usr/lib/sysusers.d/x.conf' });
  const { tree: t2 } = configure([{ name: 'x', files: { '/usr/lib/sysusers.d/x.conf': conf } }]);
  const dovenull = passwd(t2).get('dovenull')!;
  assert.equal(dovenull[3], '8');
  assert.ok(Number(dovenull[2]) >= 100 && Number(dovenull[2]) < 1000);
  assert.ok(!(t2.readFile('etc/group')?.toString() ?? '').includes('dovenull:'), 'no group of its own');
});

test('static and script-less accounts the workload runs as: named -u bind, squid\'s cache_effective_user proxy, exim\'s MAIN_TRUSTED_USERS = uucp, a unit\'s User=', () => {
  const { tree, report } = configure(
    [
      { name: 'squid', files: { '/etc/squid/squid.conf': 'http_port 3128\ncache_effective_user proxy\n' }, conffiles: ['/etc/squid/squid.conf'] },
      { name: 'exim', files: { '/etc/exim4/exim4.conf.template': '.ifndef MAIN_TRUSTED_USERS\nMAIN_TRUSTED_USERS = uucp\n.endif\ntrusted_users = MAIN_TRUSTED_USERS\nadmin_groups = list : news\n' }, conffiles: ['/etc/exim4/exim4.conf.template'] },
      { name: 'web', files: { '/usr/lib/systemd/system/web.service': '[Service]\nUser=www-data\nExecStart=/usr/bin/web\n' } },
    ],
    { workload: { command: ['/usr/sbin/daemon', '-f', '--user=backup', '-u', 'daemon-user'], pre: [], packages: ['squid'], files: [] } },
  );
  const users = passwd(tree);
  assert.deepEqual(users.get('proxy')?.slice(2, 4), ['13', '13']);
  assert.deepEqual(users.get('www-data')?.slice(2, 4), ['33', '33']);
  assert.deepEqual(users.get('backup')?.slice(2, 4), ['34', '34']);
  assert.deepEqual(users.get('uucp')?.slice(2, 4), ['10', '10'], "exim's MAIN_TRUSTED_USERS = uucp");
  assert.equal(users.get('list'), undefined, 'a group list names groups, not users');
  for (const g of ['list:x:38:', 'news:x:9:']) assert.match(tree.readFile('etc/group')!.toString(), new RegExp(`^${g}$`, 'm'));
  assert.ok(users.get('daemon-user'), 'the user -u names is made');
  assert.match(report.effects.find((e) => e.effect === 'users')!.summary, /user the command runs as, daemon-user added/);
});

test('an unreproduced step on a path the workload uses stops the build (E_CONFIGURE_NOT_REPRODUCED, the step named); elsewhere it stays a line', () => {
  const app: FakePackage = {
    name: 'app',
    // sed -f (a script file) is an option the build's sed -i does not reproduce.
    scripts: { postinst: '#!/bin/sh\nset -e\nsed -i -f /etc/app/edit.sed /etc/app/app.conf\napp-initdb --dir /var/lib/app/db\nsed -i -f /etc/app/edit.sed /etc/other.conf\n' },
    files: {
      '/etc/app/app.conf': 'a\n',
      '/etc/other.conf': 'a\n',
      '/usr/bin/app-initdb': { content: '\x7fELF', mode: 0o755 },
      '/usr/lib/systemd/system/app.service': '[Service]\nExecStart=/usr/bin/app -f\nStateDirectory=app\n',
    },
    conffiles: ['/etc/app/app.conf'],
  };
  const workload = { command: ['/usr/bin/app', '-f'], pre: [] as string[][], packages: ['app'], files: [] as string[] };
  assert.throws(
    () => configure([app], { workload }),
    (e: unknown) => {
      const err = e as { code: string; message: string; hint: string; details: string[] };
      assert.equal(err.code, 'E_CONFIGURE_NOT_REPRODUCED');
      assert.match(err.message, /^2 maintainer-script steps .* app postinst: line 3: sed -i/);
      assert.deepEqual(
        err.details.map((d) => d.replace(/ \(.*\) —/, ' —')),
        ['app postinst: line 3: sed -i -f /etc/app/edit.sed /etc/app/app.conf — /etc/app/app.conf is a configuration file of app', 'app postinst: line 4: app-initdb --dir /var/lib/app/db — /var/lib/app/db is related to /var/lib/app, StateDirectory= of app.service'],
      );
      assert.match(err.hint, /workload\.files.*workload\.pre/);
      return true;
    },
  );
  // The user's answers: the file given, the first initialisation a start step.
  const { report } = configure([app], { workload: { ...workload, files: ['/etc/app/app.conf'], pre: [['/usr/bin/app-initdb', '--dir', '/var/lib/app/db']] } });
  assert.equal(notReproduced(report, 'app').length, 3);
});

test("a clean-up jeos did not do (find -delete, as redis-server's postinst runs on /etc/redis) does not stop the build; find -exec on the same path does", () => {
  const pkg = (script: string): FakePackage => ({
    name: 'redis-server',
    scripts: { postinst: `#!/bin/sh\nset -e\n${script}\n` },
    files: { '/etc/redis/redis.conf': 'port 6379\n', '/usr/bin/redis-server': { content: '\x7fELF', mode: 0o755 } },
    conffiles: ['/etc/redis/redis.conf'],
  });
  const workload = { command: ['/usr/bin/redis-server', '/etc/redis/redis.conf'], pre: [] as string[][], packages: ['redis-server'], files: [] as string[] };
  const { report } = configure([pkg("find /etc/redis -maxdepth 1 -type d -name 'redis-server.*.d' -empty -delete")], { workload });
  assert.match(notReproduced(report, 'redis-server')[0] ?? '', /find -delete removes files/, 'still a line in build.json');
  assert.throws(() => configure([pkg('find /etc/redis -name "*.conf" -exec chmod 600 {} +')], { workload }), (e: { code?: string }) => e.code === 'E_CONFIGURE_NOT_REPRODUCED');
});
