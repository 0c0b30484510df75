// jeos build, end to end on the compiled CLI against a signed loopback repository:
// outputs, reproducibility, rootless builds, and refusal of bad packages without
// touching a previous output.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, chown, cp, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lockOutputDir } from '../../src/outputs/index.js';
import { handDeb } from '../support/unpack/test-helpers.js';
import { runTool } from '../fixtures/debs.js';
import { cli, runProgram, startHarness, trixieRepo, type Harness } from '../cli/harness.js';

const yaml = `name: webd
debian:
  suites: [trixie, trixie-security]
workload:
  packages: [webd]
  command: [/usr/sbin/webd, --port, "8080"]
  env: { WEBD_ROOT: /srv }
  files:
    - { path: /srv/index.html, content: "hello\\n", mode: "0640", owner: "www-data:www-data" }
  ports: [8080]
trim:
  # libweb is not really ELF, so nothing would reach it.
  keep: [/usr/lib/x86_64-linux-gnu/libweb.so.2]
`;

async function digestTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(p.slice(dir.length), createHash('sha256').update(await readFile(p)).digest('hex'));
    }
  };
  await walk(dir);
  return out;
}

const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe('jeos build', () => {
  let h: Harness;
  let project: string;

  /** Run the CLI with extra environment (another cache, SOURCE_DATE_EPOCH) and optionally as another user. */
  const jeosWith = (env: NodeJS.ProcessEnv, args: string[], asUser?: number) =>
    runProgram(
      [...(asUser === undefined ? [] : ['setpriv', `--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups']), process.execPath, cli, ...args],
      { env: { ...h.env, ...env }, cwd: h.work },
    );

  before(async () => {
    h = await startHarness(
      trixieRepo(
        [
          {
            name: 'webd',
            version: '1.0-1',
            depends: 'libweb (>= 2)',
            files: {
              '/usr/sbin/webd': { content: '#!/bin/sh\necho webd\n', mode: 0o755 },
              '/etc/webd/webd.conf': 'port 8080\n',
              '/usr/bin/webd': { symlink: '../sbin/webd' },
            },
          },
          // Ships into /lib: it must land in /usr/lib through the merged-/usr link.
          { name: 'libweb', version: '2.0-1', files: { '/lib/x86_64-linux-gnu/libweb.so.2': 'ELF-ish\n' } },
        ],
        [],
      ),
    );
    project = join(h.work, 'webd');
    await mkdir(project);
    await writeFile(join(project, 'jeos.yaml'), yaml);
  });
  after(async () => {
    await h?.close();
  });

  test('build locks, fetches, unpacks, configures and writes rootfs.tar, an OCI layout and build.json', async () => {
    const r = await h.jeos('build', project);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /note: jeos\.lock does not exist; locked again/);
    assert.match(r.stdout, /^built webd: 2 packages, \d+ files/m);
    assert.match(r.stdout, /image digest\s+sha256:[0-9a-f]{64}/);

    const listing = (await runTool('tar', ['--numeric-owner', '-tvf', join(project, 'out/rootfs.tar')])).toString();
    assert.match(listing, /^l\S+ 0\/0 .* lib -> usr\/lib$/m, 'merged-/usr links');
    assert.match(listing, / usr\/lib\/x86_64-linux-gnu\/libweb\.so\.2$/m, '/lib content landed in /usr/lib');
    assert.match(listing, /^-rwxr-xr-x 0\/0 .* usr\/sbin\/webd$/m);
    assert.match(listing, /^-rw-r----- 33\/33 .* srv\/index\.html$/m, 'workload file with the image\'s www-data ids');
    assert.match(listing, / var\/lib\/dpkg\/status$/m);

    const record = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    assert.equal(record.name, 'webd');
    assert.deepEqual(record.packages.map((p: { name: string }) => p.name), ['libweb', 'webd']);
    assert.deepEqual(record.outputs.map((o: { format: string }) => o.format), ['tar', 'oci']);
    assert.match(record.lockDigest, /^[0-9a-f]{64}$/);
    assert.equal(record.outputs[0].files[0].sha256, await sha(join(project, 'out/rootfs.tar')));
    assert.equal(record.recordVersion, 2);
    for (const stage of ['config', 'lock', 'fetch', 'image', 'outputs', 'total']) assert.equal(typeof record.timings[stage], 'number');
    assert.deepEqual(Object.keys(record.image.timings), ['unpack', 'configure', 'tmp', 'tmpfiles', 'workload', 'trim', 'unit-setup'], 'the image variant\'s steps, in order (no start-script without workload.pre; unit-setup after the trim)');
    assert.deepEqual(record.outputs.map((o: { variant: string }) => o.variant), ['image', 'image']);
    assert.deepEqual(record.image.addedPackages, []);
    assert.equal(record.vm, undefined);

    // The record lists the files that describe the build with their digests; the manifest says, for every path, what and whence.
    for (const f of record.records) assert.equal(f.sha256, await sha(join(project, 'out', f.path)), f.path);
    assert.deepEqual(record.records.map((f: { path: string }) => f.path), ['manifest.json', 'trim.json', 'sbom.spdx.json', 'sbom.cdx.json', 'report.html']);
    const manifest = JSON.parse(await readFile(join(project, 'out/manifest.json'), 'utf8'));
    assert.equal(manifest.manifestVersion, 1);
    assert.equal(manifest.trees.vm, undefined);
    const entry = (path: string) => manifest.trees.image.find((e: { path: string }) => e.path === path);
    const webd = entry('/usr/sbin/webd');
    const tarred = (await runTool('tar', ['-xOf', join(project, 'out/rootfs.tar'), 'usr/sbin/webd']));
    assert.deepEqual(
      { ...webd, sha256: undefined },
      { path: '/usr/sbin/webd', type: 'file', mode: '0755', uid: 0, gid: 0, owner: 'root', group: 'root', size: tarred.length, sha256: undefined, source: 'package', package: 'webd', version: record.packages.find((p: { name: string }) => p.name === 'webd').version, why: 'command' },
    );
    assert.equal(webd.sha256, createHash('sha256').update(tarred).digest('hex'));
    assert.deepEqual(
      { source: entry('/srv/index.html').source, owner: entry('/srv/index.html').owner, mode: entry('/srv/index.html').mode, why: entry('/srv/index.html').why },
      { source: 'workload', owner: 'www-data', mode: '0640', why: 'made-by-jeos' },
    );
    assert.deepEqual({ type: entry('/lib').type, target: entry('/lib').target, source: entry('/lib').source }, { type: 'symlink', target: 'usr/lib', source: 'jeos' });
    assert.equal(entry('/').type, 'dir');
    const names = (await runTool('tar', ['-tf', join(project, 'out/rootfs.tar')])).toString().trim().split('\n');
    const listed = new Set(names.map((n) => '/' + n.replace(/^\.\//, '').replace(/\/$/, '')));
    listed.add('/'); // the tar has no entry for the root itself
    assert.deepEqual(manifest.trees.image.map((e: { path: string }) => e.path), [...listed].sort(), 'one manifest entry for every entry of rootfs.tar, sorted');

    const config = JSON.parse(
      await readFile(join(project, 'out/oci/blobs/sha256', record.outputs[1].image.configDigest.slice(7)), 'utf8'),
    );
    assert.deepEqual(config.config.Entrypoint, ['/usr/sbin/webd'], 'the program is the entrypoint');
    assert.deepEqual(config.config.Cmd, ['--port', '8080'], 'its arguments the Cmd');
    assert.deepEqual(config.config.ExposedPorts, { '8080/tcp': {} });
    assert.ok(config.config.Env.includes('WEBD_ROOT=/srv'));
    assert.equal(config.config.Labels['org.opencontainers.image.version'], '1.0-1', "the workload package's version, from the lock");
    assert.deepEqual(record.outputs[1].image.refs, ['webd:latest'], 'named after name: by default, tagged latest');

    const inspected = JSON.parse((await runTool('skopeo', ['inspect', `oci:${join(project, 'out/oci')}:webd:latest`])).toString());
    assert.equal(inspected.Digest, record.outputs[1].image.manifestDigest);
  });

  test('reproducible: another directory, another cache, a later time give the same bytes', async () => {
    const first = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
    const other = join(h.work, 'elsewhere', 'webd-copy');
    await mkdir(join(h.work, 'elsewhere'));
    await cp(project, other, { recursive: true });
    await rm(join(other, 'out'), { recursive: true });
    await new Promise((r) => setTimeout(r, 1100));
    const r = await jeosWith({ JEOS_CACHE_DIR: join(h.work, 'other-cache') }, ['build', other, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    const second = JSON.parse(await readFile(join(other, 'out/build.json'), 'utf8'));
    assert.equal(await sha(join(other, 'out/rootfs.tar')), await sha(join(project, 'out/rootfs.tar')));
    assert.equal(second.outputs[1].image.manifestDigest, first.outputs[1].image.manifestDigest);

    // The timestamp is an input: SOURCE_DATE_EPOCH changes the bytes, deterministically.
    const epoch = await jeosWith({ SOURCE_DATE_EPOCH: '1000000000' }, ['build', other, '--quiet']);
    assert.equal(epoch.code, 0, epoch.stderr);
    assert.notEqual(await sha(join(other, 'out/rootfs.tar')), await sha(join(project, 'out/rootfs.tar')));
  });

  test('rootless: an unprivileged user builds the same image', { skip: process.getuid?.() !== 0 && 'needs root to switch to an unprivileged uid' }, async () => {
    const nobody = 65534;
    const home = join('/tmp', `jeos-rootless-${process.pid}`);
    await mkdir(home, { recursive: true });
    try {
      await cp(project, join(home, 'webd'), { recursive: true });
      await rm(join(home, 'webd/out'), { recursive: true });
      await chmod(home, 0o755);
      await runTool('chown', ['-R', `${nobody}:${nobody}`, home]);
      const r = await jeosWith({ HOME: home, JEOS_CACHE_DIR: join(home, 'cache') }, ['build', join(home, 'webd'), '--quiet'], nobody);
      assert.equal(r.code, 0, r.stderr);
      const built = await stat(join(home, 'webd/out/rootfs.tar'));
      assert.equal(built.uid, nobody, 'the output belongs to the unprivileged user');
      assert.equal(await sha(join(home, 'webd/out/rootfs.tar')), await sha(join(project, 'out/rootfs.tar')));
      const listing = (await runTool('tar', ['--numeric-owner', '-tvf', join(home, 'webd/out/rootfs.tar')])).toString();
      assert.match(listing, /^-rwxr-xr-x 0\/0 .* usr\/sbin\/webd$/m, 'owners are recorded, not taken from the builder');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  test('a second build into the same out/ is refused before any slow work, naming the first; out/ stays as it was', async () => {
    const out = join(project, 'out');
    const before = await digestTree(out);
    const requests = h.served.requests.length;
    const held = await lockOutputDir(out);
    try {
      const r = await h.jeos('build', project);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^error\\[E_OUTPUT_LOCKED\\]: .*\\b${process.pid}\\b`, 'm'));
      assert.match(r.stderr, /^hint: /m);
      assert.doesNotMatch(r.stderr, /^(lock|fetch) /m, 'refused before the lock and fetch steps');
      assert.equal(h.served.requests.length, requests);
    } finally {
      await held.release();
    }
    assert.deepEqual(await digestTree(out), before);
  });

  test('a build of fewer formats leaves only its own outputs in out/ (and the user\'s files)', async () => {
    const copy = join(h.work, 'fewer');
    await cp(project, copy, { recursive: true });
    await writeFile(join(copy, 'out', 'notes.txt'), 'mine\n');
    assert.ok((await readdir(join(copy, 'out'))).includes('oci'));
    const r = await h.jeos('build', copy, '--format', 'tar');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readdir(join(copy, 'out'))).sort(), ['build.json', 'manifest.json', 'notes.txt', 'report.html', 'rootfs.tar', 'sbom.cdx.json', 'sbom.spdx.json', 'trim.json']);
    const record = JSON.parse(await readFile(join(copy, 'out/build.json'), 'utf8'));
    assert.deepEqual(record.outputs.map((o: { format: string }) => o.format), ['tar']);
    const tested = await h.jeos('test', copy, '--container');
    assert.notEqual(tested.code, 0, 'no stale OCI image is tested');
    assert.match(tested.stderr, /oci/);
  });

  test('--frozen refuses a stale lock; without it the lock is made again', async () => {
    const copy = join(h.work, 'frozen');
    await cp(project, copy, { recursive: true });
    await writeFile(join(copy, 'jeos.yaml'), yaml.replace('packages: [webd]', 'packages: [webd, libweb]'));
    const frozen = await h.jeos('build', copy, '--frozen');
    assert.equal(frozen.code, 1);
    assert.match(frozen.stderr, /error\[E_BUILD_LOCK_STALE\]: lock: jeos\.lock was written for a different jeos\.yaml/);
    const relocked = await h.jeos('build', copy, '--offline');
    assert.equal(relocked.code, 0, relocked.stderr);
    assert.match(relocked.stderr, /locked again/);
  });

  test('unknown formats are refused up front, and a vm or disk the config does not ask for', async () => {
    const unknown = await h.jeos('build', project, '--format', 'iso');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /error\[E_BUILD_FORMAT_UNSUPPORTED\]: .*iso/);
    const disk = await h.jeos('build', project, '--format', 'disk');
    assert.equal(disk.code, 1);
    assert.match(disk.stderr, /error\[E_BUILD_DISK_NOT_CONFIGURED\]: --format disk needs disk among the outputs/);
    const vm = await h.jeos('build', project, '--format', 'vm');
    assert.equal(vm.code, 1);
    assert.match(vm.stderr, /error\[E_BUILD_VM_NOT_CONFIGURED\]: --format vm needs vm among the outputs/);
    assert.match(vm.stderr, /hint: add vm to outputs:/);
  });

  describe('bad packages are refused and out/ is left as it was', () => {
    const cases: Array<{ name: string; code: string; deb?: () => Buffer; mention: RegExp }> = [
      {
        name: 'path traversal',
        code: 'E_DEB_UNSAFE_ENTRY',
        deb: () => handDeb({ name: 'webd', entries: [{ name: './../../etc/evil', data: 'x' }] }),
        mention: /webd.*\.\.\/\.\.\/etc\/evil/,
      },
      {
        name: 'symlink escape',
        code: 'E_DEB_SYMLINK_ESCAPE',
        deb: () =>
          handDeb({
            name: 'webd',
            entries: [
              { name: './up', type: '2', linkname: '../../..' },
              { name: './up/etc/evil', data: 'x' },
            ],
          }),
        mention: /webd.*up\/etc\/evil/,
      },
      {
        name: 'truncated data member',
        code: 'E_DEB_TRUNCATED',
        deb: () => {
          const whole = handDeb({ name: 'webd', compression: 'none', entries: [{ name: './usr/sbin/webd', data: 'x'.repeat(4000) }] });
          return whole.subarray(0, whole.length - 3000);
        },
        mention: /webd/,
      },
      {
        name: 'bad compression stream',
        code: 'E_DEB_BAD_COMPRESSION',
        deb: () => handDeb({ name: 'webd', dataMember: Buffer.from('\xfd7zXZ\0 this is not xz at all', 'latin1') }),
        mention: /webd.*data\.tar\.xz/,
      },
      { name: 'checksum mismatch', code: 'E_FETCH_CHECKSUM', mention: /webd/ },
    ];

    for (const c of cases) {
      test(c.name, async () => {
        const dir = join(h.work, `bad-${c.code}`);
        await cp(project, dir, { recursive: true });
        const before = await digestTree(join(dir, 'out'));
        const lockPath = join(dir, 'jeos.lock');
        const lock = JSON.parse(await readFile(lockPath, 'utf8'));
        const entry = lock.packages.find((p: { name: string }) => p.name === 'webd');
        const pool = join(h.repo.root, entry.filename);
        const good = await readFile(pool);
        // The mirror serves other bytes. With a matching lock entry this is a malicious
        // package that passed every signature (unpack must refuse it); without, fetch must.
        const bad = c.deb ? c.deb() : Buffer.concat([good.subarray(0, good.length - 1), Buffer.from([good.at(-1)! ^ 1])]);
        await writeFile(pool, bad);
        if (c.deb) {
          entry.sha256 = createHash('sha256').update(bad).digest('hex');
          entry.size = bad.length;
          await writeFile(lockPath, JSON.stringify(lock, null, 2) + '\n');
        }
        try {
          const r = await jeosWith({ JEOS_CACHE_DIR: join(h.work, `cache-${c.code}`) }, ['build', dir]);
          assert.equal(r.code, 1, r.stderr);
          const err = new RegExp(`error\\[${c.code}\\]: ([a-z]+: )+.*`);
          assert.match(r.stderr, err);
          assert.match(r.stderr.split('\n').find((l) => l.startsWith('error['))!, c.mention);
          assert.match(r.stderr, /^hint: /m);
          assert.deepEqual(await digestTree(join(dir, 'out')), before, 'out/ is byte-identical and has no leftovers');
        } finally {
          await writeFile(pool, good);
        }
      });
    }
  });
});
