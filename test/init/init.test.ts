// jeos init, end to end on the compiled CLI against a signed loopback repository (with a
// Contents index added to it) and a made-up root file system (--root) holding programs,
// libraries (real ELF headers) and a dpkg database.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { buildElf } from '../support/elf/synthetic.js';
import { startHarness, trixieRepo, type Harness } from '../cli/harness.js';

const unit = (exec: string, extra = '') => `[Unit]\nDescription=x\n\n[Service]\n${extra}ExecStart=${exec}\n\n[Install]\nWantedBy=multi-user.target\n`;
const INTERP = '/lib64/ld-linux-x86-64.so.2';

describe('jeos init', () => {
  let h: Harness;
  let root: string;

  before(async () => {
    h = await startHarness(
      trixieRepo(
        [
          { name: 'libc', version: '2.41-1', files: { '/usr/lib/x86_64-linux-gnu/libc.so.6': 'libc' } },
          {
            name: 'webd',
            version: '1.0-1',
            depends: 'libc',
            files: {
              '/usr/sbin/webd': { content: '#!/bin/sh\n', mode: 0o755 },
              '/usr/sbin/webd-admin': { content: '#!/bin/sh\n', mode: 0o755 },
              '/usr/lib/systemd/system/webd.service': unit('-/usr/sbin/webd --listen 8080 $WEBD_OPTS', 'User=www-data\n'),
            },
          },
          // Debian's layout: the program in nginx, the unit in nginx-common (same source).
          { name: 'nginx', version: '1.26-1', depends: 'nginx-common, libc', files: { '/usr/sbin/nginx': { content: 'x', mode: 0o755 } } },
          {
            name: 'nginx-common',
            version: '1.26-1',
            architecture: 'all',
            extraControl: { Source: 'nginx' },
            files: { '/usr/lib/systemd/system/nginx.service': unit("/usr/sbin/nginx -g 'daemon on; master_process on;'", 'Type=forking\n') },
          },
          { name: 'tool', version: '2-1', depends: 'libc', files: { '/usr/bin/tool': { content: 'x', mode: 0o755 } } },
          { name: 'two', version: '1', files: { '/usr/bin/one': { content: 'x', mode: 0o755 }, '/usr/bin/other': { content: 'x', mode: 0o755 } } },
          { name: 'libfoo1', version: '1.0-1', depends: 'libc', files: { '/usr/lib/x86_64-linux-gnu/libfoo.so.1': 'foo' } },
          // Renamed in this release: the machine has libold3, the archive libold3t64 that provides it.
          { name: 'libold3t64', version: '3-1', provides: 'libold3 (= 3-1)', files: { '/usr/lib/x86_64-linux-gnu/libold.so.3': 'old' } },
          // Essential, so no package depends on it: init adds it for a #!/bin/sh program.
          { name: 'dash', version: '0.5.12-12', files: { '/usr/bin/dash': { content: 'x', mode: 0o755 } } },
          { name: 'coreutils', version: '9.7-3', depends: 'libc', files: { '/usr/bin/env': { content: 'x', mode: 0o755 } } },
          { name: 'cached-tools', version: '1', depends: 'libc', files: { '/usr/bin/cachetool': { content: 'x', mode: 0o755 } } },
          // A server whose unit has ExecStartPre= lines and whose postinst runs an after-install generator.
          {
            name: 'dnsd',
            version: '1.0-1',
            depends: 'libc',
            files: {
              '/usr/sbin/dnsd': { content: 'x', mode: 0o755 },
              '/usr/sbin/dnsd-keygen': { content: 'x', mode: 0o755 },
              '/usr/sbin/rndc-confgen': { content: 'x', mode: 0o755 },
              '/usr/sbin/nsd-control-setup': { content: '#!/bin/sh\nopenssl genrsa\n', mode: 0o755 },
              '/usr/lib/systemd/system/dnsd.service': unit(
                '/usr/sbin/dnsd -d',
                'Environment=CONF=/etc/dnsd/dnsd.conf\nExecStartPre=-/usr/sbin/dnsd-keygen ${CONF} %n\nExecStartPre=+/usr/sbin/rndc-confgen -a\n',
              ),
            },
            scripts: { postinst: '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then\n  nsd-control-setup >/dev/null 2>&1 || true\nfi\n' },
          },
          { name: 'openssl', version: '3.5-1', depends: 'libc', files: { '/usr/bin/openssl': { content: 'x', mode: 0o755 } } },
          // A server whose unit sets up its surroundings: directories, capabilities, environment.
          {
            name: 'leased',
            version: '1.0-1',
            depends: 'libc',
            files: {
              '/usr/sbin/leased': { content: 'x', mode: 0o755 },
              '/etc/default/leased': 'LEASED_MODE=fast\n',
              '/usr/lib/systemd/system/leased.service': unit(
                '/usr/sbin/leased',
                'User=_lease\nEnvironment=LEASE_DIR=/var/lib/leased\nEnvironmentFile=-/etc/default/leased\nRuntimeDirectory=leased\nRuntimeDirectoryMode=0750\nStateDirectory=leased\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n',
              ),
            },
          },
        ],
        [],
      ),
    );
    await addContents(h, 'trixie', ['usr/bin/cachetool                     utils/cached-tools', 'usr/bin/tool     utils/tool']);
    root = join(h.work, 'root');
    await makeRoot(root);
  });
  after(async () => {
    await h?.close();
  });

  const yamlOf = async (dir: string) => readFile(join(h.work, dir, 'jeos.yaml'), 'utf8');
  const init = (dir: string, from: string, ...more: string[]) => h.jeos('init', dir, '--from', from, '--suite', 'trixie', '--json', ...more);

  test('a package: the command is its unit\'s ExecStart=, with User=, an unset $VAR expanded to nothing; the #!/bin/sh program brings dash; the config loads and the lock is fresh for jeos build', async () => {
    const r = await init('webd', 'webd');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.source, { kind: 'package', from: 'webd', package: 'webd' });
    assert.deepEqual(out.packages, ['webd', 'dash']);
    assert.deepEqual(out.command, ['/usr/sbin/webd', '--listen', '8080']);
    assert.equal(out.user, 'www-data');
    assert.ok(out.notes.some((n: string) => /names \$WEBD_OPTS, which neither its Environment= nor its EnvironmentFile= sets/.test(n)), out.notes.join('\n'));
    assert.ok(out.notes.some((n: string) => /no health check/.test(n)));
    assert.match(out.choices.find((c: { value: string }) => c.value === 'dash').why, /\/usr\/sbin\/webd is a script for \/bin\/sh/);
    assert.equal(out.locked.packages, 3);
    assert.ok(out.choices.find((c: { key: string; why: string }) => c.key === 'command' && /ExecStart= of webd\.service/.test(c.why)));

    const config = await h.jeos('config', 'webd', '--json');
    assert.equal(config.code, 0, config.stderr);
    const lock = JSON.parse(await readFile(join(h.work, 'webd', 'jeos.lock'), 'utf8'));
    assert.equal(lock.configDigest, JSON.parse(config.stdout).digest, 'the lock is made for the config as written');
    const build = await h.jeos('build', 'webd', '--frozen', '--format', 'tar', '-q');
    assert.equal(build.code, 0, build.stderr);
    assert.ok((await stat(join(h.work, 'webd', 'out', 'rootfs.tar'))).size > 0);
  });

  test('a unit that sets up its surroundings: its settings in jeos.yaml; the build makes the directories and the file capability, and reads the environment file', async () => {
    const r = await init('leased', 'leased');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.packages, ['leased']);
    assert.deepEqual(out.env, { LEASE_DIR: '/var/lib/leased' });
    assert.deepEqual(out.environmentFiles, ['/etc/default/leased']);
    assert.deepEqual(out.directories, [{ path: '/run/leased', mode: '0750' }, { path: '/var/lib/leased' }]);
    assert.deepEqual(out.capabilities, ['CAP_NET_BIND_SERVICE']);
    assert.match(await yamlOf('leased'), /directories:\n    - path: \/run\/leased\n      mode: "0750"\n/);
    const build = await h.jeos('build', 'leased', '--frozen', '--format', 'oci', '-q');
    assert.equal(build.code, 0, build.stderr + build.stdout);
    const record = JSON.parse(await readFile(join(h.work, 'leased', 'out', 'build.json'), 'utf8'));
    const setup = record.image.configure.find((e: { effect: string }) => e.effect === 'unit-setup').summary;
    assert.match(setup, /made .*\/run\/leased, \/var\/lib\/leased/);
    assert.match(setup, /\/usr\/sbin\/leased: file capabilities CAP_NET_BIND_SERVICE/);
    const index = JSON.parse(await readFile(join(h.work, 'leased', 'out', 'oci', 'index.json'), 'utf8'));
    const blob = async (digest: string) => JSON.parse(await readFile(join(h.work, 'leased', 'out', 'oci', 'blobs', ...digest.split(':')), 'utf8'));
    const { config } = await blob((await blob(index.manifests[0].digest)).config.digest);
    assert.ok(config.Env.includes('LEASE_DIR=/var/lib/leased') && config.Env.includes('LEASED_MODE=fast'), config.Env.join(' '));
    assert.equal(config.User, '_lease');
  });

  test('a known program: the unit from the same source package, foreground arguments, port, HTTP health check and its page', async () => {
    const r = await h.jeos('init', 'web', '--from', 'nginx', '--suite', 'trixie');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ExecStart= of nginx\.service \(package nginx-common\), with the arguments from jeos's table of known programs/);
    const yaml = await yamlOf('web');
    assert.match(yaml, /^# Written by jeos init --from nginx$/m);
    assert.match(yaml, /command: \[\/usr\/sbin\/nginx, -g, daemon off;\]/);
    assert.match(yaml, /ports: \[80\]/);
    assert.match(yaml, /http: http:\/\/localhost:80\//);
    assert.match(yaml, /path: \/var\/www\/html\/index\.html/);
    assert.doesNotMatch(yaml, /Type=forking/, 'the table fixes the forking unit, so no note about it');
  });

  test('a package without a unit: its program named like it, else its only one, else no command and a note', async () => {
    const tool = JSON.parse((await init('tool', 'tool')).stdout);
    assert.deepEqual(tool.command, ['/usr/bin/tool']);
    const two = await init('two', 'two');
    assert.equal(two.code, 0, two.stderr);
    const out = JSON.parse(two.stdout);
    assert.equal(out.command, null);
    assert.match(out.notes.join('\n'), /no command: two has no service unit and 2 programs \(\/usr\/bin\/one, \/usr\/bin\/other\)/);
  });

  test('an existing jeos.yaml is refused without --force, before the archive is read; --force replaces it', async () => {
    const before = await yamlOf('tool');
    const r = await h.jeos('init', 'tool', '--from', 'webd', '--offline', '--cache-dir', join(h.work, 'empty-cache'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error\[E_INIT_EXISTS\]: .*tool\/jeos\.yaml already exists/);
    assert.match(r.stderr, /^hint: .*--force/m);
    assert.equal(await yamlOf('tool'), before);
    const forced = await init('tool', 'webd', '--force');
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(await yamlOf('tool'), /packages: \[webd, dash\]/);
  });

  test('an unpackaged program: copied into DIR/files, its libraries mapped to packages (dpkg database, a renamed package through Provides), an unpackaged library copied with LD_LIBRARY_PATH', async () => {
    const r = await init('foo', '/usr/local/bin/foo --port 9090', '--root', root);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.packages, ['libc', 'libfoo1', 'libold3t64']);
    assert.deepEqual(out.command, ['/usr/local/bin/foo', '--port', '9090']);
    assert.deepEqual(out.ports, [9090]);
    assert.deepEqual(out.healthcheck, { tcp: 9090 });
    assert.deepEqual(out.env, { LD_LIBRARY_PATH: '/usr/local/lib' });
    assert.deepEqual(out.files.map((f: { path: string }) => f.path), ['/usr/local/bin/foo', '/usr/local/lib/libbar.so.2']);
    const old = out.choices.find((c: { value: string }) => c.value === 'libold3t64');
    assert.match(old.why, /belongs to libold3 on .*; the archive has no libold3, and libold3t64 provides it/);
    const copied = join(h.work, 'foo', 'files', 'usr', 'local', 'bin', 'foo');
    assert.deepEqual(await readFile(copied), await readFile(join(root, 'usr/local/bin/foo')));
    assert.equal((await stat(copied)).mode & 0o777, 0o755);
    assert.match(await yamlOf('foo'), /source: files\/usr\/local\/bin\/foo\n\s+mode: "0755"/);
    const build = await h.jeos('build', 'foo', '--frozen', '--format', 'tar', '-q');
    assert.equal(build.code, 0, build.stderr);
  });

  test("a library the program's DT_RPATH brings in finds its own libraries there too (as ld.so does)", async () => {
    const r = await init('rpath', '/opt/app/bin/app', '--root', root);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.files.map((f: { path: string }) => f.path), ['/opt/app/bin/app', '/usr/local/lib/libA.so.1', '/opt/app/lib/libB.so.1']);
    assert.deepEqual(out.env, { LD_LIBRARY_PATH: '/usr/local/lib' }, "libB is found through the program's RPATH, in the image too: only libA's directory needs LD_LIBRARY_PATH");
  });

  test('a packaged program by path takes its package and its unit\'s arguments; a command name is found on the PATH inside --root', async () => {
    const byPath = JSON.parse((await init('bypath', '/usr/sbin/webd', '--root', root)).stdout);
    assert.deepEqual(byPath.packages, ['webd', 'dash']);
    assert.deepEqual(byPath.command, ['/usr/sbin/webd', '--listen', '8080']);
    const r = await init('cmd', 'webd --listen 7000 --port 7000', '--root', root);
    assert.equal(r.code, 0, r.stderr);
    const cmd = JSON.parse(r.stdout);
    assert.equal(cmd.source.kind, 'command');
    assert.deepEqual(cmd.command, ['/usr/sbin/webd', '--listen', '7000', '--port', '7000'], 'the arguments are kept');
    assert.deepEqual(cmd.ports, [7000]);
  });

  test('a unit\'s ExecStartPre= lines become workload.pre (expanded, - kept, + taken off); a generator the unit or the postinst runs is written as the table writes it, with its packages and dash', async () => {
    const r = await init('dnsd', 'dnsd');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.command, ['/usr/sbin/dnsd', '-d']);
    assert.deepEqual(out.pre, [
      ['-/usr/sbin/dnsd-keygen', '/etc/dnsd/dnsd.conf', 'dnsd.service'],
      ['/bin/sh', '-c', '[ -s /etc/bind/rndc.key ] || exec /usr/sbin/rndc-confgen -a'],
      ['/usr/sbin/nsd-control-setup'],
    ]);
    assert.deepEqual(out.packages, ['dnsd', 'openssl', 'coreutils', 'dash']);
    const why = (value: string) => out.choices.find((c: { key: string; value: string }) => c.value === value)?.why ?? '';
    assert.match(why('-/usr/sbin/dnsd-keygen /etc/dnsd/dnsd.conf dnsd.service'), /ExecStartPre= of dnsd\.service/);
    assert.match(why('/usr/sbin/nsd-control-setup'), /after-install generator: nsd's postinst makes the remote-control keys/);
    assert.match(why('openssl'), /workload\.pre step \/usr\/sbin\/nsd-control-setup runs it/);
    assert.match(why('dash'), /workload\.pre runs before the command from \/etc\/jeos\/start/);
    const yaml = await yamlOf('dnsd');
    assert.match(yaml, /pre:\n {4}- \[-\/usr\/sbin\/dnsd-keygen, \/etc\/dnsd\/dnsd\.conf, dnsd\.service\]/);
    assert.equal(out.locked.packages, 5, 'the lock holds the steps\' packages: dnsd, libc, openssl, coreutils, dash');
  });

  test('an unpackaged script: copied, with the package of env and of the interpreter env finds on the image\'s PATH', async () => {
    const r = await init('script', '/usr/local/bin/run.sh', '--root', root);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.packages, ['coreutils', 'tool']);
    assert.deepEqual(out.files.map((f: { path: string }) => f.path), ['/usr/local/bin/run.sh']);
    assert.match(out.choices.find((c: { value: string }) => c.value === 'tool').why, /run\.sh runs it through \/usr\/bin\/env \(#!\)/);
  });

  test('a command on no PATH: the archive\'s Contents index names its package', async () => {
    const r = await init('ct', 'cachetool --port 4000', '--root', root);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.packages, ['cached-tools']);
    assert.deepEqual(out.command, ['/usr/bin/cachetool', '--port', '4000']);
    assert.match(out.choices[0].why, /Contents index lists \/usr\/bin\/cachetool in cached-tools/);
  });

  test('errors carry a code and a hint and write nothing', async () => {
    const cases: Array<[string, string[], RegExp]> = [
      ['nothere', ['nosuchthing'], /error\[E_INIT_NO_PACKAGE\]: there is no package nosuchthing/],
      ['notexec', ['/etc/motd', '--root', root], /error\[E_INIT_NOT_EXECUTABLE\]: \/etc\/motd is not an executable file/],
      ['nolib', ['/usr/local/bin/broken', '--root', root], /error\[E_INIT_LIBRARY_MISSING\]: .*broken needs libnowhere\.so\.7/],
      ['runpath', ['/opt/app/bin/app-runpath', '--root', root], /error\[E_INIT_LIBRARY_MISSING\]: \/usr\/local\/lib\/libA\.so\.1 needs libB\.so\.1/],
      ['quote', ["webd 'unclosed"], /error\[E_INIT_BAD_COMMAND\]: .*unterminated ' quote/],
      ['arm', ['/usr/local/bin/armprog', '--root', root], /error\[E_INIT_ARCH_MISMATCH\]: \/usr\/local\/bin\/armprog is not built for amd64 \(ELF machine 183, 64-bit\)/],
    ];
    for (const [dir, args, message] of cases) {
      const r = await h.jeos('init', dir, '--suite', 'trixie', '--from', ...args);
      assert.equal(r.code, 1, `${dir}: ${r.stdout}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /^hint: /m);
      await assert.rejects(stat(join(h.work, dir, 'jeos.yaml')));
    }
  });
});

/** Publish a Contents index for a suite's main component, listed in its Release, and sign it again. */
async function addContents(h: Harness, suite: string, lines: string[]): Promise<void> {
  const dir = join(h.repo.root, 'dists', suite);
  const gz = gzipSync(lines.join('\n') + '\n');
  await writeFile(join(dir, 'main', 'Contents-amd64.gz'), gz);
  const release = await readFile(join(dir, 'Release'), 'utf8');
  const line = ` ${createHash('sha256').update(gz).digest('hex')} ${String(gz.length).padStart(8)} main/Contents-amd64.gz`;
  await writeFile(join(dir, 'Release'), release.replace(/^SHA256:\n/m, `SHA256:\n${line}\n`));
  await h.repo.resign(suite);
}

/** A root file system as a Debian machine has it: programs, libraries, ld.so.conf and dpkg's file lists. */
async function makeRoot(root: string): Promise<void> {
  const put = async (path: string, data: string | Buffer, mode = 0o644) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), data);
    await chmod(join(root, path), mode);
  };
  const lib = (soname: string, needed: string[] = []) => buildElf({ soname, needed });
  await put('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', lib('ld-linux-x86-64.so.2'), 0o755);
  await mkdir(join(root, 'usr/lib64'), { recursive: true });
  await symlink('../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(root, 'usr/lib64/ld-linux-x86-64.so.2'));
  for (const d of ['lib', 'lib64', 'bin', 'sbin']) await symlink(`usr/${d}`, join(root, d));
  await put('/usr/lib/x86_64-linux-gnu/libc.so.6', lib('libc.so.6'));
  await put('/usr/lib/x86_64-linux-gnu/libfoo.so.1', lib('libfoo.so.1', ['libc.so.6']));
  await put('/usr/lib/x86_64-linux-gnu/libold.so.3', lib('libold.so.3', ['libc.so.6']));
  await put('/usr/local/lib/libbar.so.2', lib('libbar.so.2', ['libold.so.3', 'libc.so.6']));
  await put('/etc/ld.so.conf', 'include /etc/ld.so.conf.d/*.conf\n');
  await put('/etc/ld.so.conf.d/local.conf', '# local libraries\n/usr/local/lib\n');
  await put('/usr/local/bin/foo', buildElf({ type: 2, interpreter: INTERP, needed: ['libfoo.so.1', 'libbar.so.2', 'libc.so.6'] }), 0o755);
  await put('/usr/local/bin/broken', buildElf({ type: 2, interpreter: INTERP, needed: ['libnowhere.so.7'] }), 0o755);
  // libA (on ld.so.conf's path) needs libB, which only the program's DT_RPATH names: ld.so finds it through the
  // RPATH of the program that loads libA ($ORIGIN the program's directory), but not through a RUNPATH.
  await put('/usr/local/lib/libA.so.1', lib('libA.so.1', ['libB.so.1', 'libc.so.6']));
  await put('/opt/app/lib/libB.so.1', lib('libB.so.1', ['libc.so.6']));
  await put('/opt/app/bin/app', buildElf({ type: 2, interpreter: INTERP, needed: ['libA.so.1', 'libc.so.6'], rpath: '$ORIGIN/../lib' }), 0o755);
  await put('/opt/app/bin/app-runpath', buildElf({ type: 2, interpreter: INTERP, needed: ['libA.so.1', 'libc.so.6'], runpath: '$ORIGIN/../lib' }), 0o755);
  await put('/usr/local/bin/armprog', buildElf({ type: 2, machine: 183, interpreter: '/lib/ld-linux-aarch64.so.1' }), 0o755);
  await put('/usr/sbin/webd', '#!/bin/sh\n', 0o755);
  await put('/usr/bin/env', buildElf({ type: 2, interpreter: INTERP, needed: ['libc.so.6'] }), 0o755);
  await put('/usr/bin/tool', '#!/bin/sh\n', 0o755);
  await put('/usr/local/bin/run.sh', '#!/usr/bin/env tool\nhello\n', 0o755);
  await put('/etc/motd', 'hello\n');
  // dpkg's lists, in the forms real packages use: libc still names /lib64 (not merged), others /usr.
  const info = '/var/lib/dpkg/info';
  await put(`${info}/libc:amd64.list`, `/.\n/lib64\n${INTERP}\n/usr/lib/x86_64-linux-gnu/libc.so.6\n/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n`);
  await put(`${info}/libfoo1:amd64.list`, '/.\n/usr/lib/x86_64-linux-gnu/libfoo.so.1\n');
  await put(`${info}/libold3:amd64.list`, '/.\n/usr/lib/x86_64-linux-gnu/libold.so.3\n');
  await put(`${info}/webd.list`, '/.\n/usr/sbin/webd\n');
  await put(`${info}/coreutils.list`, '/.\n/usr/bin/env\n');
  await put(`${info}/tool.list`, '/.\n/usr/bin/tool\n');
}
