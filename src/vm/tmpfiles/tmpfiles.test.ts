// The image's tmpfiles.d entries done at build time and by BusyBox at boot, checked against
// systemd-tmpfiles itself: the same entries applied by `systemd-tmpfiles --create --remove --boot
// --root=DIR` must leave the same files, modes, owners and links as jeos's build-time changes plus
// its /run archive unpacked by the real BusyBox.
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, symlinkSync, chmodSync, lchownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImageTree } from '../../tree/index.js';
import { journalReaders, planTmpfiles, type TmpfilesContext } from './tmpfiles.js';
import { parseTmpfilesLine } from '../../configure/tmpfiles/parse.js';
import { RUN_ARCHIVE, RUN_MADE_FLAG } from './tmpfiles-boot.js';
import { readTar } from '../../unpack/tar.js';
import { readAccounts } from '../../tree/index.js';

const CTX: TmpfilesContext = { hostname: 'web', journal: 'journald', sourceDateEpoch: 1700000000 };
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nsystemd-network:x:998:998::/:/usr/sbin/nologin\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n';
const GROUP = 'root:x:0:\nadm:x:4:\nsystemd-journal:x:999:\nsystemd-network:x:998:\nwww-data:x:33:\n';

function image(conf: Record<string, string>, extra: (t: ImageTree) => void = () => {}): ImageTree {
  const t = new ImageTree();
  t.writeFile('etc/passwd', PASSWD);
  t.writeFile('etc/group', GROUP);
  for (const [name, text] of Object.entries(conf)) t.writeFile(`usr/lib/tmpfiles.d/${name}`, text);
  for (const dir of ['run', 'var', 'tmp']) t.mkdirp(dir);
  extra(t);
  return t;
}

test('a line: type and modifiers, defaults as `-` or missing, the argument the rest of the line', () => {
  assert.deepEqual(parseTmpfilesLine('/f.conf', 'L+ /etc/mtab   -    -    -    -  ../proc/self/mounts'), {
    file: '/f.conf',
    text: 'L+ /etc/mtab   -    -    -    -  ../proc/self/mounts',
    type: 'L',
    modifiers: '+',
    path: '/etc/mtab',
    argument: '../proc/self/mounts',
  });
  const d = parseTmpfilesLine('/f.conf', 'd- /root :0700 root :root -')!;
  assert.deepEqual([d.type, d.modifiers, d.mode, d.user, d.group, d.argument], ['d', '-', ':0700', 'root', ':root', undefined]);
  const w = parseTmpfilesLine('/f.conf', 'w /etc/motd - - - - hello  world')!;
  assert.equal(w.argument, 'hello  world');
  assert.equal(parseTmpfilesLine('/f.conf', '  # comment'), undefined);
  assert.equal(parseTmpfilesLine('/f.conf', 'd "/srv/with space" 0755')!.path, '/srv/with space');
});

/** The members of the /run archive the plan wrote into the tree: `path kind mode uid:gid [-> target | "content"]`. */
function runArchive(tree: ImageTree): string[] {
  const data = tree.readFile(RUN_ARCHIVE);
  assert.ok(data, `${RUN_ARCHIVE} is written`);
  return readTar(data, { label: 'test', member: RUN_ARCHIVE }).map((e) => {
    const tail = e.type === 'symlink' ? ` -> ${e.linkname}` : e.type === 'file' ? ` ${JSON.stringify(e.data.toString())}` : '';
    return `${e.path} ${e.type} ${e.mode.toString(8)} ${e.uid}:${e.gid}${tail}`;
  });
}

test('/run entries go into one archive, unpacked by one BusyBox tar once a boot, each entry with its mode and owner', () => {
  const tree = image({
    'a.conf': 'd /run/lock 1777 root root -\nd /run/lock/subsys 0755\nL /run/shm - - - - /dev/shm\nd /run/netif 0755 systemd-network systemd-network -\nf /run/flag 0600 - - - up\nd /run/deep 0700\nZ /run/deep 0750 - www-data -\nd /run/deep/er/est 0700\n',
    'b.conf': 'd /run/lock 0755 root root -\n',
  });
  const plan = planTmpfiles(tree, CTX);
  assert.equal(plan.needsService, undefined);
  assert.deepEqual(plan.bootLines, [`[ -e ${RUN_MADE_FLAG} ] || { $bb tar -xpf /${RUN_ARCHIVE} -C / && : > ${RUN_MADE_FLAG}; }`]);
  assert.equal(tree.get(RUN_ARCHIVE), undefined, 'nothing is written before apply');
  plan.apply();
  assert.deepEqual(runArchive(tree), [
    'run/deep/ dir 750 0:33',
    'run/deep/er/ dir 750 0:33',
    'run/deep/er/est/ dir 750 0:33',
    'run/flag file 600 0:0 "up"',
    'run/lock/ dir 1777 0:0',
    'run/lock/subsys/ dir 755 0:0',
    'run/netif/ dir 755 998:998',
    'run/shm symlink 777 0:0 -> /dev/shm',
  ]);
  assert.deepEqual(plan.record.nothingToDo, [{ line: '/usr/lib/tmpfiles.d/b.conf: d /run/lock 0755 root root -', reason: 'an earlier line for the same path wins' }]);
  assert.equal(plan.record.boot.length, 8);
  const build = () => {
    const t = image({ 'a.conf': 'd /run/lock 1777 root root -\n' });
    planTmpfiles(t, CTX).apply();
    return t.readFile(RUN_ARCHIVE);
  };
  assert.deepEqual(build(), build(), 'the archive is the same from build to build');
});

test('without /run entries there is no archive and no line', () => {
  const tree = image({ 'a.conf': 'd /srv/site 0700\n' });
  const plan = planTmpfiles(tree, CTX);
  plan.apply();
  assert.deepEqual(plan.bootLines, []);
  assert.equal(tree.get(RUN_ARCHIVE), undefined);
});

test('what jeos cannot do without systemd-tmpfiles keeps the service, naming the line; nothing is applied then', () => {
  for (const [line, why] of [
    ['d /run/%b 0755', /%b is known only once the machine has booted/],
    ['p /run/fifo 0600', /the type p at boot/],
    ['d /run/x* 0755', /a pattern/],
    ['f /run/motd 0644 - - - "quoted"', /content with quotes or escapes/],
    ['w /proc/sys/kernel/x - - - - 1', /kernel's files/],
    ['L /run/factory', /\/usr\/share\/factory/],
  ] as const) {
    const t = image({ 'a.conf': `d /srv/made 0700\n${line}\n` });
    const plan = planTmpfiles(t, CTX);
    assert.match(plan.needsService ?? '', why, line);
    assert.ok(plan.needsService!.startsWith(`/usr/lib/tmpfiles.d/a.conf: ${line}`), plan.needsService);
    plan.apply();
    assert.equal(t.get('srv/made'), undefined, 'nothing is applied when the service stays');
  }
});

test('the journal lines: nothing to do while only root can read the journal; a member of adm keeps the service', () => {
  const conf = { 'systemd.conf': 'z /run/log/journal 2755 root systemd-journal - -\na+ /run/log/journal - - - - group:adm:r-x\nz /var/log/journal/%m 2755 root systemd-journal - -\n' };
  const alone = planTmpfiles(image(conf), CTX);
  assert.equal(alone.needsService, undefined);
  assert.deepEqual(alone.record.nothingToDo.map((n) => n.reason), [
    'it lets members of adm and systemd-journal read the journal, and the image has none besides root',
    'it lets members of adm and systemd-journal read the journal, and the image has none besides root',
    'journald keeps the journal in /run/log/journal (Storage=auto, no /var/log/journal in the image); a disk image\'s jeos-disk-journal.service makes /var/log/journal on the /var partition',
  ]);
  const withReader = image(conf, (t) => t.writeFile('etc/group', GROUP.replace('adm:x:4:', 'adm:x:4:www-data')));
  assert.deepEqual(journalReaders(readAccounts(withReader)), ['www-data']);
  assert.match(planTmpfiles(withReader, CTX).needsService ?? '', /let www-data read it, and BusyBox cannot set ACLs/);
  assert.equal(planTmpfiles(image(conf), { ...CTX, journal: 'none' }).record.nothingToDo[0]!.reason, 'the VM runs no journald');
});

test('paths are followed through the image\'s symlinks: /var/run/x is made in /run at boot, patterns too', () => {
  const t = image({ 'a.conf': 'd /var/run/site 0700\nR /var/run/site-old-*\n' }, (tree) => tree.symlink('var/run', '../run'));
  const plan = planTmpfiles(t, CTX);
  plan.apply();
  assert.deepEqual(runArchive(t), ['run/site/ dir 700 0:0']);
  assert.deepEqual(plan.record.nothingToDo, [{ line: '/usr/lib/tmpfiles.d/a.conf: R /var/run/site-old-*', reason: '/run is a new, empty tmpfs at every boot' }]);
});

test('credentials, /dev, ACLs on the ramfs root and cleaning exclusions have nothing to act on', () => {
  const plan = planTmpfiles(
    image({ 'a.conf': 'f^ /etc/hosts - - - - network.hosts\nc /dev/fuse 0666 - - - 10:229\na+ /srv - - - - u:www-data:rwx\nh /srv - - - - +C\nx /tmp/keep-*\n' }),
    CTX,
  );
  assert.equal(plan.needsService, undefined);
  assert.deepEqual(plan.record.nothingToDo.map((n) => n.reason), [
    'its content comes from a credential, and a jeos VM is given none',
    'systemd-tmpfiles-setup.service leaves /dev to devtmpfs (--exclude-prefix=/dev)',
    'the root is a ramfs, which keeps no ACLs or file attributes (systemd-tmpfiles fails this line too)',
    'the root is a ramfs, which keeps no ACLs or file attributes (systemd-tmpfiles fails this line too)',
    'it only keeps a path from being cleaned by age, and nothing cleans at boot',
  ]);
});

// ---- the same entries through systemd-tmpfiles and through jeos (build time + BusyBox at boot) ----

const ORACLE_CONF = {
  '10-dirs.conf': [
    'd /srv/app 0750 www-data www-data -',
    'd /srv/app/cache 0700 www-data - -',
    'q /var/tmp 1777 root root 30d',
    'Q /home 0755 - - -',
    'd /var/log 0755 - - -',
    'd /var/lib/existing 0700 - - -',
    'e /var/lib/adjust-me 0711 - - -',
    'D! /tmp/.X11-unix 1777 root root 10d',
    'D /var/lib/emptied 0755 - - -',
  ].join('\n'),
  '20-files.conf': [
    'f /etc/made.conf 0640 root www-data - made by tmpfiles',
    'f /etc/kept.conf 0600 - - - not written: the file exists',
    'f+ /etc/truncated.conf - - - - new content',
    'w /etc/written.conf - - - - replaced',
    'w+ /etc/appended.conf - - - - more',
    'w /etc/absent.conf - - - - nothing to write to',
  ].join('\n'),
  '30-links.conf': ['L /var/run - - - - ../run', 'L+ /etc/mtab - - - - ../proc/self/mounts', 'L /etc/existing-link - - - - /elsewhere', 'L /var/lib/dangling - - - - ../nowhere'].join('\n'),
  '40-adjust.conf': ['z /etc/kept.conf 0644 www-data - -', 'Z /srv/tree 0750 www-data www-data -', 'r /etc/remove-me', 'R /var/cache/old-*', 'r! /forcefsck'].join('\n'),
  '50-run.conf': [
    'd /run/lock 1777 root root -',
    'd /run/lock/subsys 0755 root root -',
    'd /run/netif 0755 systemd-network systemd-network -',
    'L /run/shm - - - - /dev/shm',
    'f /run/flag 0600 www-data - - up',
    'f /run/empty - - - -',
    'z /run/lock/subsys 0750 - - -',
    'd /run/tree 0755 - - -',
    'Z /run/tree 0750 www-data - -',
    'd /run/tree/a/b 0700 - - -',
    'r /run/stale',
  ].join('\n'),
};

function oracleImage(): ImageTree {
  return image(ORACLE_CONF, (t) => {
    const m = (mode: number) => ({ mode, uid: 0, gid: 0, mtime: CTX.sourceDateEpoch });
    t.mkdirp('var/lib/existing', m(0o755));
    t.mkdirp('var/lib/adjust-me', m(0o755));
    t.writeFile('var/lib/emptied/old', 'x');
    t.writeFile('etc/kept.conf', 'kept\n', m(0o600));
    t.writeFile('etc/truncated.conf', 'old content\n', m(0o640));
    t.writeFile('etc/written.conf', 'old\n');
    t.writeFile('etc/appended.conf', 'first\n');
    t.writeFile('etc/mtab', 'a file to replace\n');
    t.symlink('etc/existing-link', '/somewhere');
    t.writeFile('etc/remove-me', 'x');
    t.writeFile('var/cache/old-1/data', 'x');
    t.writeFile('var/cache/old-2', 'x');
    t.writeFile('var/cache/new', 'x');
    t.writeFile('srv/tree/a/b', 'x', m(0o644));
  });
}

/** Write a tree to a directory, owners and modes included (as root). */
function materialize(tree: ImageTree, dir: string): void {
  for (const [path, node] of tree.entries()) {
    const at = join(dir, path);
    if (node.kind === 'dir') mkdirSync(at, { recursive: true });
    else if (node.kind === 'file') writeFileSync(at, node.data);
    else if (node.kind === 'symlink') symlinkSync(node.target, at);
    else continue;
    lchownSync(at, node.uid, node.gid);
    if (node.kind !== 'symlink') chmodSync(at, node.mode);
  }
}

/** Every entry under dir: kind, mode, owner, and the link target or file content. */
function describe(dir: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    // The tree's own inputs, and what jeos adds to make /run: the archive and the flag that it was unpacked.
    if (['usr', 'etc/passwd', 'etc/group', 'etc/jeos', RUN_MADE_FLAG.slice(1)].includes(path)) continue;
    const st = lstatSync(join(dir, path));
    const owner = `${st.uid}:${st.gid}`;
    if (st.isSymbolicLink()) out.set(path, `link -> ${readlinkSync(join(dir, path))}`);
    else if (st.isDirectory()) {
      out.set(path, `dir ${(st.mode & 0o7777).toString(8)} ${owner}`);
      for (const [k, v] of describe(dir, path)) out.set(k, v);
    } else out.set(path, `file ${(st.mode & 0o7777).toString(8)} ${owner} ${JSON.stringify(readFileSync(join(dir, path), 'utf8'))}`);
  }
  return out;
}

const asRoot = process.getuid?.() === 0;
const tools = spawnSync('sh', ['-c', 'command -v systemd-tmpfiles && command -v busybox && command -v unshare']).status === 0;

test('jeos leaves what systemd-tmpfiles --create --remove --boot leaves, in the tree and in /run', { skip: asRoot && tools ? false : 'needs root, systemd-tmpfiles, busybox and unshare (CI installs them)' }, () => {
  const work = mkdtempSync(join(tmpdir(), 'jeos-tmpfiles-'));
  try {
    const bySystemd = join(work, 'systemd');
    const byJeos = join(work, 'jeos');
    materialize(oracleImage(), bySystemd);
    writeFileSync(join(bySystemd, 'run/stale'), 'x'); // /run at boot is empty: jeos does nothing for `r /run/stale`
    const run = spawnSync('systemd-tmpfiles', ['--create', '--remove', '--boot', '--exclude-prefix=/dev', `--root=${bySystemd}`], { encoding: 'utf8' });
    assert.ok(run.status === 0 || run.status === 65, `systemd-tmpfiles: ${run.status} ${run.stderr}`);
    assert.equal(spawnSync('test', ['-e', join(bySystemd, 'run/stale')]).status, 1, 'systemd-tmpfiles removed /run/stale');

    const tree = oracleImage();
    const plan = planTmpfiles(tree, CTX);
    assert.equal(plan.needsService, undefined, plan.needsService);
    plan.apply();
    materialize(tree, byJeos);
    // The /run line, run by BusyBox with /run bound to the jeos copy's, in a mount namespace of their own;
    // the archive is read where the copy has it.
    const lines = plan.bootLines.map((l) => l.replaceAll(`/${RUN_ARCHIVE}`, join(byJeos, RUN_ARCHIVE)));
    const script = `set -e; umask 022; mount --bind ${byJeos}/run /run; bb=$(command -v busybox)\n${lines.join('\n')}\n`;
    const boot = spawnSync('unshare', ['-m', 'sh', '-c', script], { encoding: 'utf8' });
    assert.equal(boot.status, 0, boot.stderr);

    const expected = describe(bySystemd);
    const got = describe(byJeos);
    assert.deepEqual(Object.fromEntries(got), Object.fromEntries(expected));
    // The entries the comparison is about are there at all.
    assert.equal(got.get('run/lock'), 'dir 1777 0:0');
    assert.equal(got.get('run/netif'), 'dir 755 998:998');
    assert.equal(got.get('run/tree/a/b'), 'dir 750 33:0', 'Z on /run/tree covers what lines for paths under it made');
    assert.equal(got.get('etc/mtab'), 'link -> ../proc/self/mounts');
    assert.equal(got.get('var/lib/emptied'), 'dir 755 0:0');
    assert.equal(got.has('var/cache/old-1'), false);
    assert.ok(lstatSync(join(byJeos, RUN_MADE_FLAG)).isFile(), 'the flag that keeps a restarted script from unpacking it again');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
