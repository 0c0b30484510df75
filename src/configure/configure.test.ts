/**
 * The configure stage end to end: real .debs (dpkg-deb) with real Debian maintainer
 * scripts, unpacked by the unpack stage, configured, and then checked with the real
 * tools — dpkg --verify and dpkg -l on the written-out tree, ldconfig -p on the cache,
 * openssl for the certificate hash links.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDeb, type DebRecipe } from '../../test/fixtures/debs.js';
import { buildElf } from '../../test/support/elf/synthetic.js';
import { ImageTree } from '../tree/index.js';
import { unpackPackages, type UnpackedPackage } from '../unpack/index.js';
import { configureImage } from './configure.js';
import { makeCert } from '../../test/support/configure/certs.js';
import * as debian from '../../test/support/configure/debian-scripts.js';
import { materialize } from '../../test/support/configure/materialize.js';
import type { ConfigureOptions, ConfigureReport } from './types.js';

const EPOCH = 1_750_000_000;
const DAYS = Math.floor(EPOCH / 86400);
const OPTIONS: ConfigureOptions = {
  architecture: 'amd64',
  sourceDateEpoch: EPOCH,
  workloadUser: 'app',
  os: { codename: 'trixie', versionId: '13', imageId: 'websvc', imageVersion: '0a1b2c3d4e5f' },
};
const have = (tool: string, ...args: string[]): boolean => spawnSync(tool, args.length ? args : ['--version']).status === 0;
const hasOpenssl = have('openssl', 'version');

const work = await mkdtemp(join(tmpdir(), 'jeos-configure-'));
after(() => rm(work, { recursive: true, force: true }));

/** A web service package modelled on nginx-common's postinst, with a unit, a sysusers fragment and a conffile naming www-data. */
const websvcPostinst = `#!/bin/sh
set -e

case "$1" in
  configure)
    if ! getent passwd websvc >/dev/null; then
      adduser --system --group --home /var/lib/websvc --gecos "Web service" websvc
    fi
    logdir="/var/log/websvc"
    if ! dpkg-statoverride --list "$logdir" >/dev/null; then
      mkdir -p $logdir
      chown www-data:adm $logdir
      chmod 0750 $logdir
    fi
    if [ -z "$2" ]; then
      touch "$logdir/access.log"
      chown websvc:adm "$logdir/access.log"
      chmod 640 "$logdir/access.log"
    fi
    chown nosuchuser /usr/sbin/websvc || true
    update-mime-database /usr/share/mime
    ;;
  abort-upgrade|abort-remove|abort-deconfigure)
    ;;
  *)
    echo "postinst called with unknown argument \\\`$1'" >&2
    exit 1
    ;;
esac

# Automatically added by dh_installsystemd/13.24.2
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ] ; then
	# was-enabled defaults to true, so new installations run enable.
	if deb-systemd-helper --quiet was-enabled 'websvc.service'; then
		deb-systemd-helper enable 'websvc.service' >/dev/null || true
	else
		deb-systemd-helper update-state 'websvc.service' >/dev/null || true
	fi
fi
# End automatically added section
exit 0
`;

const so = (soname: string): Buffer => buildElf({ soname, needed: soname === 'libc.so.6' ? [] : ['libc.so.6'] });

let certs: Record<string, string> = {};

function recipes(): DebRecipe[] {
  return [
    {
      name: 'base-files',
      version: '13.8',
      essential: true,
      files: {
        '/usr/lib/os-release': 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nVERSION="13 (trixie)"\nVERSION_CODENAME=trixie\nDEBIAN_VERSION_FULL=13.1\nID=debian\n',
        '/etc/os-release': { symlink: '../usr/lib/os-release' },
        '/etc/dpkg/origins/debian': 'Vendor: Debian\n',
        '/usr/share/base-files/profile': '# /etc/profile\n',
        '/usr/share/base-files/dot.profile': '# ~/.profile\n',
        '/usr/share/base-files/dot.bashrc': '# ~/.bashrc\n',
        '/usr/share/base-files/motd': '\nThe programs included with the Debian GNU/Linux system are free software\n',
        '/run/.keep': '',
        '/var/log/.keep': '',
        '/var/spool/.keep': '',
        '/var/lib/.keep': '',
        '/usr/local/.keep': '',
        '/root/.keep': '',
        '/etc/debian_version': '13.1\n',
      },
      scripts: { postinst: debian.baseFilesPostinst, conffiles: '/etc/debian_version\n' },
    },
    {
      name: 'libc6',
      version: '2.41-12',
      multiArch: 'same',
      files: {
        '/usr/lib/x86_64-linux-gnu/libc.so.6': { content: so('libc.so.6'), mode: 0o755 },
        '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2': { content: so('ld-linux-x86-64.so.2'), mode: 0o755 },
        '/usr/lib64/ld-linux-x86-64.so.2': { symlink: '../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
        '/etc/ld.so.conf.d/x86_64-linux-gnu.conf': '# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n',
      },
      scripts: { triggers: debian.libc6Triggers, conffiles: '/etc/ld.so.conf.d/x86_64-linux-gnu.conf\n' },
    },
    {
      name: 'libc-bin',
      version: '2.41-12',
      essential: true,
      files: {
        '/usr/sbin/ldconfig': { content: '#!/bin/sh\n', mode: 0o755 },
        '/usr/share/libc-bin/nsswitch.conf': 'passwd:         files\ngroup:          files\n',
        '/etc/ld.so.conf': 'include /etc/ld.so.conf.d/*.conf\n\n',
      },
      scripts: { postinst: debian.libcBinPostinst, triggers: debian.libcBinTriggers, conffiles: '/etc/ld.so.conf\n' },
    },
    {
      name: 'libwebsvc1',
      version: '1.2-1',
      files: {
        '/usr/lib/x86_64-linux-gnu/libwebsvc.so.1.2.0': so('libwebsvc.so.1'),
        '/usr/lib/x86_64-linux-gnu/websvc/libplugin.so.0': so('libplugin.so.0'),
        '/etc/ld.so.conf.d/websvc.conf': '/usr/lib/x86_64-linux-gnu/websvc\n',
      },
      scripts: { triggers: 'activate-noawait ldconfig\n', conffiles: '/etc/ld.so.conf.d/websvc.conf\n' },
    },
    { name: 'mawk', version: '1.3.4.20250131-1', files: { '/usr/bin/mawk': { content: '#!/bin/sh\n', mode: 0o755 } }, scripts: { postinst: debian.mawkPostinst } },
    {
      name: 'gawk-ghost',
      version: '1.0',
      files: { '/usr/share/doc/gawk-ghost/README': 'no binary\n' },
      scripts: { postinst: '#!/bin/sh\nset -e\nupdate-alternatives --install /usr/bin/awk awk /usr/bin/gawk 10\n' },
    },
    { name: 'login', version: '1:4.17.4-2', files: { '/usr/bin/login': { content: '#!/bin/sh\n', mode: 0o755 } }, scripts: { postinst: debian.loginPostinst } },
    { name: 'passwd', version: '1:4.17.4-2', files: { '/usr/sbin/shadowconfig': { content: '#!/bin/sh\n', mode: 0o755 } }, scripts: { postinst: debian.passwdPostinst } },
    { name: 'openssh-client', version: '1:10.0p1-7', files: { '/usr/bin/ssh-agent': { content: '#!/bin/sh\n', mode: 0o755 } }, scripts: { postinst: debian.opensshClientPostinst } },
    {
      name: 'ca-certificates',
      version: '20250419',
      architecture: 'all',
      files: Object.fromEntries(Object.entries(certs).map(([name, pem]) => [`/usr/share/ca-certificates/mozilla/${name}`, pem])),
      scripts: { postinst: debian.caCertificatesPostinst, triggers: 'interest-noawait update-ca-certificates\ninterest-noawait update-ca-certificates-fresh\n' },
    },
    {
      name: 'websvc',
      version: '2.0-1',
      depends: 'libwebsvc1 (>= 1.2)',
      files: {
        '/usr/sbin/websvc': { content: '#!/bin/sh\n', mode: 0o755 },
        '/usr/bin/update-mime-database': { content: '#!/bin/sh\n', mode: 0o755 },
        '/etc/websvc/websvc.conf': 'user www-data;\nworker_processes auto;\n',
        '/usr/lib/systemd/system/websvc.service': '[Unit]\nDescription=Web service\n\n[Service]\nUser=websvc\nExecStart=/usr/sbin/websvc\n\n[Install]\nWantedBy=multi-user.target\nAlias=httpd.service\nAlso=websvc.socket\n',
        '/usr/lib/systemd/system/websvc.socket': '[Socket]\nListenStream=80\n\n[Install]\nWantedBy=sockets.target\n',
        '/usr/lib/sysusers.d/websvc.conf': '# extra accounts\ng webextra -\nm websvc webextra\nu sysu 250 "Sys U" /var/lib/sysu\n',
      },
      scripts: { postinst: websvcPostinst, conffiles: '/etc/websvc/websvc.conf\n' },
    },
  ];
}

let tree: ImageTree;
let packages: UnpackedPackage[];
let report: ConfigureReport;
let root: string;

async function unpacked(): Promise<{ tree: ImageTree; packages: UnpackedPackage[] }> {
  const t = new ImageTree();
  const debs = [];
  for (const r of recipes()) {
    const path = await buildDeb(r, join(work, 'debs'));
    debs.push({ label: path, bytes: await readFile(path) });
  }
  const result = await unpackPackages(t, debs, { architecture: 'amd64' });
  return { tree: t, packages: result.packages };
}

before(async () => {
  if (hasOpenssl) {
    certs = {
      'Example_Root_CA.crt': makeCert('/C=DE/O=Example Org/CN=Example Root CA'),
      'Other_(Test),_Root.crt': makeCert('/CN=Other Test Root'),
    };
  }
  ({ tree, packages } = await unpacked());
  report = configureImage(tree, packages, OPTIONS);
  root = join(work, 'root');
  await materialize(tree, root);
});

const text = (path: string): string => tree.readFile(path)?.toString() ?? assert.fail(`no file ${path}`);
const meta = (path: string): string => {
  const n = tree.get(path) ?? assert.fail(`no ${path}`);
  return `${n.kind} ${n.mode.toString(8)} ${n.uid}:${n.gid}${n.kind === 'symlink' ? ` -> ${n.target}` : ''}`;
};
const effect = (name: string) => report.effects.find((e) => e.effect === name) ?? assert.fail(`no effect ${name}`);
const scriptReport = (pkg: string, script = 'postinst') => report.scripts.find((s) => s.pkg === pkg && s.script === script) ?? assert.fail(`no ${pkg} ${script}`);

test('effects run in their fixed order', () => {
  assert.deepEqual(
    report.effects.map((e) => e.effect),
    ['users', 'filesystem', 'alternatives', 'ld-so', 'ca-certificates', 'os-release', 'machine-id', 'systemd-units', 'dpkg-database'],
  );
});

test('accounts: referenced static ids, sorted dynamic ids from 100, sysusers, the workload user', () => {
  assert.equal(
    text('etc/passwd'),
    [
      'root:x:0:0:root:/root:/bin/bash',
      'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
      'app:x:102:102::/nonexistent:/usr/sbin/nologin',
      'websvc:x:104:104:Web service:/var/lib/websvc:/usr/sbin/nologin',
      'sysu:x:250:250:Sys U:/var/lib/sysu:/usr/sbin/nologin',
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
      '',
    ].join('\n'),
  );
  assert.equal(
    text('etc/group'),
    ['root:x:0:', 'adm:x:4:', 'mail:x:8:', 'www-data:x:33:', 'shadow:x:42:', 'utmp:x:43:', '_ssh:x:101:', 'app:x:102:', 'webextra:x:103:websvc', 'websvc:x:104:', 'sysu:x:250:', 'nogroup:x:65534:', ''].join('\n'),
  );
  assert.equal(
    text('etc/shadow'),
    [`root:*:${DAYS}:0:99999:7:::`, `www-data:*:${DAYS}:0:99999:7:::`, `app:!*:${DAYS}::::::`, `websvc:!*:${DAYS}::::::`, `sysu:!*:${DAYS}::::::`, `nobody:*:${DAYS}:0:99999:7:::`, ''].join('\n'),
  );
  assert.match(text('etc/gshadow'), /^root:\*::\n.*webextra:!\*::websvc\n/s);
  assert.equal(meta('etc/passwd'), 'file 644 0:0');
  assert.equal(meta('etc/shadow'), 'file 640 0:42');
  assert.equal(meta('etc/gshadow'), 'file 640 0:42');
  // adduser --system --home DIR makes the home; sysusers never does.
  assert.equal(meta('var/lib/websvc'), 'dir 755 104:104');
  assert.equal(tree.get('var/lib/sysu'), undefined);
});

test('script file operations: ownership by name, modes, base-files directories and files', () => {
  assert.equal(meta('var/log/websvc'), 'dir 750 33:4');
  assert.equal(meta('var/log/websvc/access.log'), 'file 640 104:4');
  assert.equal(meta('var/mail'), 'dir 2775 0:8');
  assert.equal(meta('var/log/wtmp'), 'file 664 0:43');
  assert.equal(meta('var/log/btmp'), 'file 660 0:43');
  assert.equal(meta('run/lock'), 'dir 1777 0:0');
  assert.equal(meta('var/run'), 'symlink 777 0:0 -> /run');
  assert.equal(meta('var/spool/mail'), 'symlink 777 0:0 -> ../mail');
  assert.equal(meta('etc/dpkg/origins/default'), 'symlink 777 0:0 -> debian');
  assert.equal(text('etc/profile'), '# /etc/profile\n');
  assert.equal(text('etc/nsswitch.conf'), 'passwd:         files\ngroup:          files\n');
  assert.equal(meta('usr/bin/ssh-agent'), 'file 2755 0:101');
  assert.equal(meta('usr/local/share/ca-certificates'), 'dir 755 0:0');
  assert.equal(meta('etc/subuid'), 'file 644 0:0');
});

test('alternatives: the best choice in the image, slaves without files skipped, admin file', () => {
  assert.equal(meta('etc/alternatives/awk'), 'symlink 777 0:0 -> /usr/bin/mawk');
  assert.equal(meta('usr/bin/awk'), 'symlink 777 0:0 -> /etc/alternatives/awk');
  assert.equal(meta('usr/bin/nawk'), 'symlink 777 0:0 -> /etc/alternatives/nawk');
  assert.equal(tree.get('etc/alternatives/awk.1.gz'), undefined); // mawk.1.gz is not in the image
  assert.equal(
    text('var/lib/dpkg/alternatives/awk'),
    'auto\n/usr/bin/awk\nawk.1.gz\n/usr/share/man/man1/awk.1.gz\nnawk\n/usr/bin/nawk\nnawk.1.gz\n/usr/share/man/man1/nawk.1.gz\n\n/usr/bin/mawk\n5\n/usr/share/man/man1/mawk.1.gz\n/usr/bin/mawk\n/usr/share/man/man1/mawk.1.gz\n\n',
  );
  assert.deepEqual(scriptReport('gawk-ghost').notReproduced, [
    'line 3: update-alternatives --install /usr/bin/awk awk /usr/bin/gawk 10 (alternative path /usr/bin/gawk is not in the image)',
  ]);
});

test('update-alternatives --query reads what the effect wrote', { skip: !have('update-alternatives') }, () => {
  const out = execFileSync('update-alternatives', ['--admindir', join(root, 'var/lib/dpkg/alternatives'), '--altdir', join(root, 'etc/alternatives'), '--query', 'awk']).toString();
  assert.match(out, /^Name: awk\nLink: \/usr\/bin\/awk\nSlaves:\n awk.1.gz \/usr\/share\/man\/man1\/awk.1.gz\n nawk \/usr\/bin\/nawk\n/);
  assert.match(out, /Status: auto\nBest: \/usr\/bin\/mawk\nValue: \/usr\/bin\/mawk\n/);
});

test('ld.so.cache lists the libraries, including the ld.so.conf.d directory', { skip: !have('ldconfig') }, () => {
  const out = execFileSync('ldconfig', ['-p', '-C', join(root, 'etc/ld.so.cache')], { env: { ...process.env, LC_ALL: 'C' } }).toString();
  assert.match(out, /^4 libs found in cache/);
  for (const line of [
    'libwebsvc.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libwebsvc.so.1',
    'libplugin.so.0 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/websvc/libplugin.so.0',
    'libc.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libc.so.6',
    'ld-linux-x86-64.so.2 (libc6,x86-64) => /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
  ]) {
    assert.ok(out.includes(`\t${line}\n`), line);
  }
  assert.match(out, /Cache generated by: ldconfig \(Debian GLIBC 2\.41-12\) stable release version 2\.41/);
  // The soname link ldconfig would have made.
  assert.equal(meta('usr/lib/x86_64-linux-gnu/libwebsvc.so.1'), 'symlink 777 0:0 -> libwebsvc.so.1.2.0');
});

test('CA certificates: configuration, .pem links, bundle, and hash links as openssl computes them', { skip: !hasOpenssl ? 'needs openssl' : false }, () => {
  const names = Object.keys(certs).sort();
  assert.equal(text('etc/ca-certificates.conf').split('\n').filter((l) => l && !l.startsWith('#')).join('\n'), names.map((n) => `mozilla/${n}`).join('\n'));
  assert.equal(meta('etc/ssl/certs/Example_Root_CA.pem'), 'symlink 777 0:0 -> /usr/share/ca-certificates/mozilla/Example_Root_CA.crt');
  assert.equal(meta('etc/ssl/certs/Other_=Test=__Root.pem'), 'symlink 777 0:0 -> /usr/share/ca-certificates/mozilla/Other_(Test),_Root.crt');
  assert.equal(text('etc/ssl/certs/ca-certificates.crt'), names.map((n) => certs[n]).join(''));
  for (const [pem, name] of [['Example_Root_CA.pem', 'Example_Root_CA.crt'], ['Other_=Test=__Root.pem', 'Other_(Test),_Root.crt']] as const) {
    const hash = execFileSync('openssl', ['x509', '-hash', '-noout'], { input: certs[name] }).toString().trim();
    assert.equal(meta(`etc/ssl/certs/${hash}.0`), `symlink 777 0:0 -> ${pem}`);
  }
  // The trigger ca-certificates activates for itself runs its postinst again.
  assert.deepEqual(scriptReport('ca-certificates', 'postinst triggered').reproduced, ['line 157: update-ca-certificates (by the ca-certificates effect)']);
});

test('os-release and machine-id', () => {
  assert.equal(
    text('etc/os-release'),
    'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID=13\nVERSION="13 (trixie)"\nVERSION_CODENAME=trixie\nDEBIAN_VERSION_FULL=13.1\nID=debian\nVARIANT=jeos\nVARIANT_ID=jeos\nIMAGE_ID=websvc\nIMAGE_VERSION=0a1b2c3d4e5f\n',
  );
  assert.equal(meta('etc/os-release'), 'file 644 0:0');
  assert.equal(text('usr/lib/os-release').startsWith('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME='), true);
  assert.equal(meta('etc/machine-id'), 'file 444 0:0');
  assert.equal(text('etc/machine-id'), '');
});

test('systemd units: WantedBy, Alias and Also links', () => {
  assert.equal(meta('etc/systemd/system/multi-user.target.wants/websvc.service'), 'symlink 777 0:0 -> /usr/lib/systemd/system/websvc.service');
  assert.equal(meta('etc/systemd/system/httpd.service'), 'symlink 777 0:0 -> /usr/lib/systemd/system/websvc.service');
  assert.equal(meta('etc/systemd/system/sockets.target.wants/websvc.socket'), 'symlink 777 0:0 -> /usr/lib/systemd/system/websvc.socket');
  assert.equal(effect('systemd-units').summary, 'enabled: websvc.service, websvc.socket');
});

test('dpkg database: dpkg --verify finds nothing wrong and dpkg -l lists every package installed', { skip: !have('dpkg') }, () => {
  const verify = spawnSync('dpkg', [`--root=${root}`, '--verify'], { env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(verify.stderr.toString(), '');
  assert.equal(verify.stdout.toString(), '');
  assert.equal(verify.status, 0);
  const list = execFileSync('dpkg', [`--root=${root}`, '-l'], { env: { ...process.env, LC_ALL: 'C', COLUMNS: '200' } }).toString();
  const installed = list
    .split('\n')
    .filter((l) => l.startsWith('ii '))
    .map((l) => l.split(/\s+/)[1]);
  assert.deepEqual(installed, ['base-files', 'ca-certificates', 'gawk-ghost', 'libc-bin', 'libc6:amd64', 'libwebsvc1:amd64', 'login', 'mawk', 'openssh-client', 'passwd', 'websvc'].map((n) => n.replace(':amd64', n === 'libc6:amd64' ? ':amd64' : '')));
  const status = execFileSync('dpkg-query', [`--root=${root}`, '-W', '-f=${Package} ${Status} ${Conffiles}\\n', 'websvc'], { env: { ...process.env, LC_ALL: 'C' } }).toString();
  const md5 = execFileSync('md5sum', [join(root, 'etc/websvc/websvc.conf')]).toString().split(' ')[0];
  assert.equal(status, `websvc install ok installed  /etc/websvc/websvc.conf ${md5}\n`);
  assert.equal(text('var/lib/dpkg/info/libc6:amd64.triggers'), debian.libc6Triggers);
  assert.equal(meta('var/lib/dpkg/info/websvc.postinst'), 'file 755 0:0');
});

test('dpkg --verify notices a changed file afterwards (the md5sums are real)', { skip: !have('dpkg') }, async () => {
  const { writeFile } = await import('node:fs/promises');
  const copy = join(work, 'changed');
  await materialize(tree, copy);
  await writeFile(join(copy, 'usr/sbin/websvc'), '#!/bin/sh\necho changed\n');
  const verify = spawnSync('dpkg', [`--root=${copy}`, '--verify', 'websvc'], { env: { ...process.env, LC_ALL: 'C' } });
  assert.equal(verify.stdout.toString(), '??5??????   /usr/sbin/websvc\n');
});

test('script report: reproduced, not applicable, and not reproduced with reasons', () => {
  const ws = scriptReport('websvc');
  assert.deepEqual(ws.reproduced, [
    "line 7: adduser --system --group --home /var/lib/websvc --gecos 'Web service' websvc (by the users effect)",
    'line 11: mkdir -p /var/log/websvc',
    'line 12: chown www-data:adm /var/log/websvc',
    'line 13: chmod 0750 /var/log/websvc',
    'line 16: touch /var/log/websvc/access.log',
    'line 17: chown websvc:adm /var/log/websvc/access.log',
    'line 18: chmod 640 /var/log/websvc/access.log',
    'line 35: deb-systemd-helper enable websvc.service (by the systemd-units effect)',
  ]);
  assert.deepEqual(ws.notReproduced, [
    'line 20: chown nosuchuser /usr/sbin/websvc (user nosuchuser does not exist)',
    'line 21: update-mime-database /usr/share/mime (update-mime-database is not a command jeos reproduces)',
  ]);
  for (const pkg of ['base-files', 'libc-bin', 'login', 'mawk', 'openssh-client', 'passwd', 'ca-certificates']) {
    assert.deepEqual(scriptReport(pkg).notReproduced, [], pkg);
  }
});

test('the same inputs give the same tree, byte for byte', async () => {
  const again = await unpacked();
  configureImage(again.tree, again.packages, OPTIONS);
  const dump = (t: ImageTree): string[] =>
    t.entries().map(([p, n]) => `${p} ${n.kind} ${n.mode} ${n.uid}:${n.gid} ${n.mtime} ${n.kind === 'file' ? n.data.toString('hex') : 'target' in n ? n.target : ''}`);
  assert.deepEqual(dump(again.tree), dump(tree));
});

test('an image with no packages still gets accounts, os-release, machine-id and an empty dpkg database', () => {
  const empty = new ImageTree();
  const r = configureImage(empty, [], { ...OPTIONS, workloadUser: undefined });
  assert.deepEqual(r.scripts, []);
  assert.equal(empty.readFile('etc/passwd')!.toString(), 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  assert.equal(empty.readFile('var/lib/dpkg/status')!.toString(), '');
  assert.equal(empty.get('etc/ld.so.cache'), undefined);
  assert.equal(r.effects.find((e) => e.effect === 'ld-so')!.summary, 'no shared libraries in the image; no cache written');
  assert.equal(empty.readFile('etc/machine-id')!.length, 0);
});
