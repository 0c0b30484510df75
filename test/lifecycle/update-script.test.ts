// The image's /usr/lib/jeos/jeos-update (src/vm/system/update.ts), run by the host's BusyBox sh
// against a channel directory served on loopback, with the host's gpg and a channel key made by
// jeos's own key code: releases are signed as jeos publish signs them (releaseText,
// signDetached). systemd-sysupdate and systemctl are stand-ins that say what they were asked
// to do, so this proves the script's decisions: what it installs, and what it refuses and why.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { compareVersions } from '../../src/archive/version.js';
import { imageKeyring, newKeyPair, readSigningKey, releaseText, signDetached, type Release } from '../../src/lifecycle/channel/index.js';
import { updateScript } from '../../src/vm/index.js';
import { serveDirectory, type Served } from '../fixtures/serve.js';

const missing = ['busybox', 'gpg'].filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length > 0 && `missing ${missing.join(', ')} (apt-get install busybox gpg)`;
const BUSYBOX = spawnSync('sh', ['-c', 'command -v busybox']).stdout.toString().trim();
const DAY = 86400_000;

interface Run {
  code: number | null;
  out: string;
  /** The machine's directory (state, ESP), to run again on the same machine. */
  dir: string;
  /** What the stand-in systemd-sysupdate and systemctl were asked, one line a call. */
  calls: string[];
}

describe('jeos-update in the image: release.json checked before systemd-sysupdate installs', { skip }, () => {
  let work: string;
  let channel: string;
  let served: Served;
  let keyring: string;
  let sign: (data: Buffer) => Promise<Buffer>;
  let signForeign: (data: Buffer) => Promise<Buffer>;
  let script: string;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-update-'));
    channel = join(work, 'channel');
    await mkdir(channel);
    const own = await newKeyPair(join(work, 'keys'));
    const foreign = await newKeyPair(join(work, 'other-keys'));
    const ownKey = await readSigningKey(own.dir);
    const foreignKey = await readSigningKey(foreign.dir);
    sign = (d) => signDetached(d, ownKey);
    signForeign = (d) => signDetached(d, foreignKey);
    keyring = join(work, 'import-pubring.gpg');
    await writeFile(keyring, (await imageKeyring(await readFile(own.publicKey, 'utf8'), 'channel.pub')).keyring);
    script = join(work, 'jeos-update');
    await writeFile(script, updateScript('now'), { mode: 0o755 });
    served = await serveDirectory(channel);
  });
  after(async () => {
    await served?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const release = (version: string, validUntil: Date): Release => ({
    releaseVersion: 1,
    name: 'webd',
    version,
    architecture: 'amd64',
    lockDigest: '0'.repeat(64),
    published: new Date(Date.now() - DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    validUntil: validUntil.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    previous: '1.0',
    changes: { added: [], removed: [], upgraded: [], downgraded: [] },
    files: [],
  });
  /** Publish `r` as jeos-<as>.release.json (the version it names unless told), signed by `by`. */
  const put = async (r: Release, options: { as?: string; by?: (d: Buffer) => Promise<Buffer> } = {}) => {
    const text = Buffer.from(releaseText(r));
    const name = `jeos-${options.as ?? r.version}.release.json`;
    await writeFile(join(channel, name), text);
    await writeFile(join(channel, `${name}.gpg`), await (options.by ?? sign)(text));
  };

  /** Run the script as jeos-update.service would, on a machine running `running` that is offered `offered`. */
  const run = async (offered: string, options: { running?: string; entries?: string[]; dir?: string; checkNewFails?: string; updateFails?: string; onTrial?: boolean; leftovers?: string[]; keepEsp?: boolean } = {}): Promise<Run> => {
    const dir = options.dir ?? (await mkdtemp(join(work, 'machine-')));
    const calls = join(dir, 'calls');
    await writeFile(calls, '');
    const standIn = async (name: string, body: string) => {
      const path = join(dir, name);
      await writeFile(path, `#!${BUSYBOX} sh\necho "${name} $*" >>${calls}\n${body}\n`);
      await chmod(path, 0o755);
      return path;
    };
    if (!options.keepEsp) await rm(join(dir, 'esp'), { recursive: true, force: true });
    await mkdir(join(dir, 'esp/loader/entries'), { recursive: true });
    for (const e of options.entries ?? []) await writeFile(join(dir, 'esp/loader/entries', e), 'title jeos\n');
    await mkdir(join(dir, 'esp/jeos'), { recursive: true });
    for (const l of options.leftovers ?? []) await writeFile(join(dir, 'esp', l), 'partial');
    await writeFile(join(dir, 'cmdline'), `console=ttyS0 panic=-1 jeos.version=${options.running ?? '1.0'}\n`);
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      JEOS_BUSYBOX: BUSYBOX,
      JEOS_SYSUPDATE: await standIn('sysupdate', options.checkNewFails
        ? `[ "$1" = check-new ] && { echo "${options.checkNewFails}" >&2; exit 1; }\nexit 0`
        : `[ "$1" = check-new ] && { [ -n "${offered}" ] && echo ${offered} && exit 0; echo 'Determining available update sets...' >&2; exit 1; }\n${options.updateFails ? `printf '%s\\n' '${options.updateFails}' >&2; exit 1` : 'exit 0'}`),
      JEOS_SYSTEMCTL: await standIn('systemctl', options.onTrial ? '[ "$1" = is-active ] && exit 3\nexit 0' : 'exit 0'),
      JEOS_GPG: 'gpg',
      JEOS_KEYRING: keyring,
      JEOS_CHANNEL: served.url,
      JEOS_STATE: join(dir, 'state'),
      JEOS_ESP: join(dir, 'esp'),
      JEOS_CMDLINE: join(dir, 'cmdline'),
      JEOS_TMP: dir,
      JEOS_PENDING: join(dir, 'pending'),
    };
    // Asynchronously: the channel is served from this process.
    const result = await new Promise<{ code: number | null; out: string }>((done) => {
      execFile(BUSYBOX, ['sh', script], { env }, (e, stdout, stderr) => done({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out: stdout + stderr }));
    });
    return { ...result, dir, calls: (await readFile(calls, 'utf8')).split('\n').filter(Boolean).filter((c) => !c.startsWith('sysupdate check-new') && c !== 'systemctl is-active --quiet boot-complete.target') };
  };

  test('the script is POSIX sh (sh -n, busybox sh -n), for both reboot modes', async () => {
    for (const mode of ['now', '*-*-* 03:00']) {
      const path = join(work, 'syntax');
      await writeFile(path, updateScript(mode));
      for (const sh of [['sh', '-n', path], [BUSYBOX, 'sh', '-n', path]]) {
        const r = spawnSync(sh[0]!, sh.slice(1));
        assert.equal(r.status, 0, `${sh.join(' ')}: ${r.stderr}`);
      }
    }
  });

  test('a newer, signed, current release: systemd-sysupdate update <v>, then reboot', async () => {
    await put(release('2.0', new Date(Date.now() + 30 * DAY)));
    const r = await run('2.0');
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(r.calls, ['sysupdate update 2.0', 'systemctl reboot']);
    assert.match(r.out, /installing 2\.0 \(running 1\.0/);
  });

  test('a version on trial (boot-complete.target not reached) does not update: exit 0, nothing asked', async () => {
    await put(release('2.0', new Date(Date.now() + 30 * DAY)));
    const r = await run('2.0', { onTrial: true });
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(r.calls, []);
    assert.match(r.out, /has not completed its boot \(on trial\): no update now/);
  });

  test('the temporaries of an update cut short are removed from the ESP, nothing else', async () => {
    const r = await run('', { entries: ['jeos-1.0.conf'], leftovers: ['jeos/.#sysupdatejeos-2.0.initrd0123abcd', 'loader/entries/.#sysupdatejeos-2.0.conf4567'] });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /removed \/jeos\/\.#sysupdatejeos-2\.0\.initrd0123abcd, left by an update that was cut short/);
    assert.deepEqual(await readdir(join(r.dir, 'esp/jeos')), []);
    assert.deepEqual(await readdir(join(r.dir, 'esp/loader/entries')), ['jeos-1.0.conf']);
  });

  test('a version whose install a power cut left incomplete (empty entry, missing or empty file) is removed, so it is installed again', async () => {
    const whole = 'title t\nlinux /jeos/jeos-2.0.linux\ninitrd /jeos/jeos-2.0.initrd\n';
    const dir = await mkdtemp(join(work, 'machine-'));
    const esp = join(dir, 'esp');
    const put = async (path: string, text: string) => {
      await mkdir(join(esp, path, '..'), { recursive: true });
      await writeFile(join(esp, path), text);
    };
    // 2.0: the entry renamed into place empty. 2.1: whole. 2.2: its initrd empty. 1.0: the disk's own, not sysupdate's.
    await put('loader/entries/jeos-2.0+3-0.conf', '');
    await put('jeos/jeos-2.0.linux', 'k');
    await put('jeos/jeos-2.0.initrd', 'i');
    await put('loader/entries/jeos-2.1+3-0.conf', whole.replaceAll('2.0', '2.1'));
    await put('jeos/jeos-2.1.linux', 'k');
    await put('jeos/jeos-2.1.initrd', 'i');
    await put('loader/entries/jeos-2.2.conf', whole.replaceAll('2.0', '2.2'));
    await put('jeos/jeos-2.2.linux', 'k');
    await put('jeos/jeos-2.2.initrd', '');
    const r = await run('', { dir, entries: ['jeos-1.0.conf'], keepEsp: true });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /removed version 2\.0: its entry or files were left incomplete/);
    assert.match(r.out, /removed version 2\.2: /);
    assert.doesNotMatch(r.out, /removed version 2\.1|removed version 1\.0/);
    assert.deepEqual((await readdir(join(esp, 'loader/entries'))).sort(), ['jeos-1.0.conf', 'jeos-2.1+3-0.conf']);
    assert.deepEqual((await readdir(join(esp, 'jeos'))).sort(), ['jeos-2.1.initrd', 'jeos-2.1.linux']);
  });

  test('an incomplete version that cannot be removed (the ESP read-only after a FAT error) is a refusal naming the ESP, not a removal claimed', { skip: spawnSync('sh', ['-c', 'command -v chattr']).status === 0 ? false : 'chattr (e2fsprogs) is not installed' }, async (t) => {
    const dir = await mkdtemp(join(work, 'machine-'));
    const esp = join(dir, 'esp');
    await mkdir(join(esp, 'loader/entries'), { recursive: true });
    await mkdir(join(esp, 'jeos'), { recursive: true });
    const entry = join(esp, 'loader/entries/jeos-2.0+3-0.conf');
    await writeFile(entry, '');
    // An immutable file stands for a read-only ESP: even root cannot remove it (rm fails as on EROFS).
    const immutable = spawnSync('chattr', ['+i', entry]);
    if (immutable.status !== 0) return t.skip(`chattr +i is not supported here: ${immutable.stderr}`);
    try {
      const r = await run('', { dir, entries: ['jeos-1.0.conf'], keepEsp: true });
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /refused: version 2\.0 was left incomplete by a power cut during its install and cannot be removed from the ESP .*fsck\.fat -a/);
      assert.doesNotMatch(r.out, /removed version 2\.0/);
    } finally {
      spawnSync('chattr', ['-i', entry]);
    }
  });

  test('no new version (systemd-sysupdate check-new exits 1 and says nothing failed): nothing installed, exit 0', async () => {
    const r = await run('');
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(r.calls, []);
    assert.match(r.out, /no new version \(running 1\.0\)/);
  });

  test('refused, nothing installed: expired, older, signed by another key, another version\'s release, rolled back', async () => {
    const refused = async (r: Run, why: RegExp) => {
      assert.equal(r.code, 1, r.out);
      assert.deepEqual(r.calls, [], 'systemd-sysupdate was not asked to install');
      assert.match(r.out, why);
    };
    await put(release('3.0', new Date(Date.now() - 60_000)));
    await refused(await run('3.0'), /refused: release 3\.0 expired at /);

    await put(release('0.9', new Date(Date.now() + DAY)));
    await refused(await run('0.9'), /refused: version 0\.9 is not newer than the running 1\.0/);
    // 1.0~rc1 sorts before 1.0 (Debian order), so it is a downgrade too.
    await put(release('1.0~rc1', new Date(Date.now() + DAY)));
    await refused(await run('1.0~rc1'), /not newer than the running 1\.0/);
    // The running version offered (a disk built from the channel's newest): no news, no alarm.
    const same = await run('2.0', { running: '2.0' });
    assert.equal(same.code, 0, same.out);
    assert.deepEqual(same.calls, []);
    assert.match(same.out, /no new version \(running 2\.0, the channel's newest\)/);

    await put(release('4.0', new Date(Date.now() + DAY)), { by: signForeign });
    await refused(await run('4.0'), /refused: jeos-4\.0\.release\.json is not signed by the channel key/);

    // A signed release of 2.0 replayed under 5.0's name.
    await put(release('2.0', new Date(Date.now() + DAY)), { as: '5.0' });
    await refused(await run('5.0'), /refused: jeos-5\.0\.release\.json is the release of version '2\.0'/);

    // 2.0's entry ran out of tries on this machine: recorded on /var, never installed again, and no alarm (exit 0).
    const rolled = await run('2.0', { entries: ['jeos-1.0.conf', 'jeos-2.0+0-3.conf'] });
    assert.equal(rolled.code, 0, rolled.out);
    assert.deepEqual(rolled.calls, [], 'systemd-sysupdate was not asked to install');
    assert.match(rolled.out, /2\.0 was rolled back: it will not be installed again/);
    assert.match(rolled.out, /version 2\.0 was rolled back on this machine: staying on 1\.0/);
    // The entry gone from the ESP, the record on /var still holds.
    const again = await run('2.0', { entries: ['jeos-1.0.conf'], dir: rolled.dir });
    assert.equal(again.code, 0, again.out);
    assert.deepEqual(again.calls, []);

    await refused(await run('6.0'), /refused: cannot fetch jeos-6\.0\.release\.json/);

    // SHA256SUMS.gpg bad or by another key: sysupdate's check-new fails, and its last line is the reason given.
    const sums = await run('7.0', { checkNewFails: 'DOWNLOAD INVALID: Signature verification failed.\nExiting.\n(sd-pull) failed with exit status 1.' });
    await refused(sums, /refused: systemd-sysupdate check-new failed, nothing fetched past SHA256SUMS \(DOWNLOAD INVALID: Signature verification failed\.\)/);
  });

  test('an install that fails is a refusal with systemd-sysupdate\'s reason, and for a full ESP or a download cut off, what that means', async () => {
    await put(release('2.0', new Date(Date.now() + 30 * DAY)));
    const full = await run('2.0', { updateFails: "Failed to retrieve image file.\n(sd-pull-raw) failed with exit status 1: No space left on device" });
    assert.equal(full.code, 1, full.out);
    assert.match(full.out, /jeos-update: refused: systemd-sysupdate could not install 2\.0 \(\(sd-pull-raw\) failed with exit status 1: No space left on device: \d+\.\d MB free on the ESP \(.*\/esp\), too little for version 2\.0's files\)/);
    const cut = await run('2.0', { updateFails: "Failed to retrieve image file.\n(sd-pull-raw) failed with exit status 1: Input/output error" });
    assert.match(cut.out, /could not install 2\.0 \(\(sd-pull-raw\) failed with exit status 1: Input\/output error: a download from http:\/\/127\.0\.0\.1:\d+\/? did not complete\)/);
    const other = await run('2.0', { updateFails: 'Failed to install: Permission denied' });
    assert.match(other.out, /could not install 2\.0 \(Failed to install: Permission denied\)$/m);
    for (const r of [full, cut, other]) assert.deepEqual(r.calls, ['sysupdate update 2.0'], 'no reboot after a failed install');
  });

  test('a version whose files (as its signed release.json lists them) do not fit on the ESP is refused before anything is downloaded', async () => {
    const r = release('2.0', new Date(Date.now() + 30 * DAY));
    // Bigger than any test machine's disk; the lock is not written to the ESP, so its size does not count.
    r.files = [
      { name: 'jeos-2.0.linux', size: 2 ** 20, sha256: '0'.repeat(64) },
      { name: 'jeos-2.0.initrd', size: 2 ** 50, sha256: '0'.repeat(64) },
      { name: 'jeos-2.0.lock', size: 2 ** 52, sha256: '0'.repeat(64) },
    ];
    await put(r);
    const dir = await mkdtemp(join(work, 'machine-'));
    // Another version sysupdate installed (it may remove it first: counted as room) and the running one's (never removed).
    await mkdir(join(dir, 'esp/jeos'), { recursive: true });
    await writeFile(join(dir, 'esp/jeos/jeos-1.5.linux'), Buffer.alloc(200 * 1024, 1));
    await writeFile(join(dir, 'esp/jeos/jeos-1.0.initrd'), Buffer.alloc(600 * 1024, 1));
    const full = await run('2.0', { dir, keepEsp: true });
    assert.equal(full.code, 1, full.out);
    assert.deepEqual(full.calls, [], 'systemd-sysupdate was not asked to install');
    assert.match(full.out, /refused: no room on the ESP \(.*\/esp\) for version 2\.0: its kernel, initrd and entry take 1073741825\.1 MB, [\d.]+ MB free and 0\.2 MB of older versions to remove \(nothing downloaded\)/);
    // What fits is installed: the lock's size is not counted.
    r.files = r.files.filter((f) => f.name !== 'jeos-2.0.initrd');
    await put(r);
    const fits = await run('2.0', { dir, keepEsp: true });
    assert.equal(fits.code, 0, fits.out);
    assert.deepEqual(fits.calls, ['sysupdate update 2.0', 'systemctl reboot']);
  });

  test('the reboot window: installed, the reboot left to the window\'s timer', async () => {
    const windowed = join(work, 'jeos-update-window');
    await writeFile(windowed, updateScript('Sun *-*-* 03:00'));
    const saved = script;
    script = windowed;
    try {
      const r = await run('2.0');
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(r.calls, ['sysupdate update 2.0']);
      assert.match(r.out, /rebooting into 2\.0 in the window \(Sun \*-\*-\* 03:00\)/);
    } finally {
      script = saved;
    }
  });

  test('its version order is Debian\'s (src/archive/version.ts) for the versions jeos.yaml allows', () => {
    const versions = ['1.0~rc1', '1.0', '1.0.1', '1.0a', '1.0.a', '1.00.2', '1.1', '2', '2.0~~', '2.0~', '10.0', '9.99', '1.0~rc2', '0~1764000000', '1a~b', '1A'];
    const lines = versions.flatMap((a) => versions.map((b) => `${a} ${b}\n`)).join('');
    const script = `while read a b; do vercmp "$a" "$b"; done`;
    const vercmp = /^vercmp\(\) .*?' <\/dev\/null; \}$/ms.exec(updateScript('now'))![0];
    const r = spawnSync(BUSYBOX, ['sh', '-c', `bb=${BUSYBOX}\n${vercmp}\n${script}`], { input: lines });
    assert.equal(r.status, 0, r.stderr.toString());
    const got = r.stdout.toString().trim().split('\n').map(Number);
    const want = versions.flatMap((a) => versions.map((b) => Math.sign(compareVersions(a, b))));
    assert.deepEqual(got, want);
  });
});
