// The compiled CLI and library (dist/, from `npm run build`) on plain Node, against a signed loopback repository.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { root, startHarness, trixieRepo, type Harness } from './harness.js';

describe('jeos CLI (compiled)', () => {
  let h: Harness;
  let work: string;
  const jeos = (...args: string[]) => h.jeos(...args);

  before(async () => {
    h = await startHarness(
      trixieRepo(
        [
          { name: 'web', version: '1.0-1', depends: 'libweb (>= 1.0), base | other', provides: 'httpd', description: 'a small web server', installedSizeKiB: 300 },
          { name: 'libweb', version: '1.0-1', description: 'library for the web server', installedSizeKiB: 120 },
          { name: 'base', version: '3', description: 'base things' },
        ],
        [{ name: 'web', version: '1.0-1+deb13u1', depends: 'libweb (>= 1.0), base | other', description: 'a small web server', installedSizeKiB: 310 }],
      ),
    );
    work = h.work;
  });
  after(async () => {
    await h?.close();
  });

  test('--help lists the commands and --version prints the package version', async () => {
    const help = await jeos('--help');
    assert.equal(help.code, 0);
    for (const c of ['lock', 'resolve', 'why', 'show', 'search', 'update', 'config', 'schema']) assert.match(help.stdout, new RegExp(`^  ${c}\\b`, 'm'));
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    assert.equal((await jeos('--version')).stdout.trim(), version);
    assert.match((await jeos('show', '--help')).stdout, /--offline/);
  });

  test('show --json gives the candidate across suites, with sizes in KiB and parsed depends', async () => {
    const r = await jeos('show', 'web', '--json');
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout);
    assert.equal(p.name, 'web');
    assert.equal(p.version, '1.0-1+deb13u1');
    assert.equal(p.suite, 'trixie-security');
    assert.equal(p.installedSize, 310);
    assert.deepEqual(p.depends, ['libweb (>= 1.0)', 'base | other']);
    assert.deepEqual(p.otherVersions, [{ version: '1.0-1', suite: 'trixie', architecture: 'amd64' }]);
    // A release name stands for the release with its updates and security suites.
    const human = await jeos('show', 'web', '--suite', 'trixie');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /version\s+1\.0-1\+deb13u1 \(trixie-security\/main, amd64\)/);
    assert.match(human.stdout, /other versions\s+1\.0-1 \(trixie\)/);
    assert.match(human.stdout, /depends\s+libweb \(>= 1\.0\), base \| other/);
  });

  test('search and update print results, and JSON for scripts', async () => {
    const s = JSON.parse((await jeos('search', 'web', '--json')).stdout);
    assert.deepEqual(s.results.map((x: { name: string }) => x.name), ['web', 'libweb']);
    assert.match((await jeos('search', 'library')).stdout, /^libweb\s+1\.0-1/m);
    const u = await jeos('update', '--json');
    assert.equal(u.code, 0, u.stderr);
    assert.deepEqual(JSON.parse(u.stdout).suites.map((x: { suite: string }) => x.suite), ['trixie', 'trixie-updates', 'trixie-security']);
    assert.equal((await jeos('show', 'web', '--offline', '--json')).code, 0, 'the cache serves an offline run');
  });

  test('errors print a code, a message and a hint; --json puts them on stdout', async () => {
    const r = await jeos('show', 'nosuch');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error\[E_PACKAGE_NOT_FOUND\]: no package nosuch for amd64 in trixie, trixie-updates, trixie-security$/m);
    assert.match(r.stderr, /^hint: /m);
    const virtual = await jeos('show', 'httpd');
    assert.match(virtual.stderr, /E_PACKAGE_VIRTUAL.*provided by web/);
    const j = await jeos('show', 'nosuch', '--json');
    assert.equal(j.code, 1);
    assert.equal(JSON.parse(j.stdout).error.code, 'E_PACKAGE_NOT_FOUND');
    assert.equal((await jeos('show')).code, 2, 'a usage error exits 2');
    const badKeyring = await jeos('show', 'web', '--keyring', h.repo.otherKeyring);
    assert.equal(badKeyring.code, 1);
    assert.match(badKeyring.stderr, /E_SIGNATURE_UNKNOWN_KEY/);
    assert.doesNotMatch(badKeyring.stderr, /at \w+ \(/, 'an expected error prints no stack');
  });

  test('usage errors under --json are the JSON error object on stdout (E_USAGE, a message, a hint), exit 2, with no plain text', async () => {
    const cases: Array<[string[], RegExp, RegExp]> = [
      [['show', 'web', '--json', '--bogus'], /^unknown option '--bogus'/, /^run jeos show --help for usage$/],
      [['show', '--json'], /^missing required argument 'package'$/, /^run jeos show --help for usage$/],
      [['init', 'x', '--from', 'web', '--outputs', 'nope', '--json'], /^option '--outputs <list>' argument 'nope' is invalid\. a comma-separated list of /, /^run jeos init --help for usage$/],
      [['nosuch', '--json'], /^unknown command 'nosuch'$/, /^run jeos --help for usage$/],
    ];
    for (const [args, message, hint] of cases) {
      const r = await jeos(...args);
      const what = `jeos ${args.join(' ')}`;
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.equal(r.stderr, '', `${what}: nothing on stderr`);
      const out = JSON.parse(r.stdout);
      assert.equal(out.ok, false, what);
      assert.equal(out.error.code, 'E_USAGE', what);
      assert.match(out.error.message, message, what);
      assert.match(out.error.hint, hint, what);
    }
    // Without --json, commander's own text on stderr, as before.
    const plain = await jeos('show', 'web', '--bogus');
    assert.equal(plain.code, 2);
    assert.equal(plain.stdout, '');
    assert.match(plain.stderr, /^error: unknown option '--bogus'$/m);
  });

  test('config checks jeos.yaml with positions, and -C reads its debian settings', async () => {
    const dir = join(work, 'img');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await writeFile(join(dir, 'jeos.yaml'), 'name: web\nworkload:\n  packages: [web]\n  recomends: true\n');
    const bad = await jeos('config', dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /jeos\.yaml:4:3: unknown key "workload\.recomends" \(did you mean "recommends"\?\)/);
    await writeFile(join(dir, 'jeos.yaml'), 'name: web\ndebian:\n  suites: [trixie]\nworkload:\n  packages: [web]\n');
    const ok = JSON.parse((await jeos('config', dir, '--json')).stdout);
    assert.match(ok.digest, /^[0-9a-f]{64}$/);
    assert.deepEqual(ok.config.outputs, ['tar', 'oci']);
    const shown = JSON.parse((await jeos('show', 'web', '-C', dir, '--json')).stdout);
    assert.equal(shown.version, '1.0-1', 'only the suites of jeos.yaml were read');
    assert.equal(JSON.parse((await jeos('schema')).stdout).type, 'object');
    // jeos test's flags that name a VM's things are refused without --vm or --disk, before anything runs.
    const console = await jeos('test', dir, '--console', join(work, 'console.log'));
    assert.equal(console.code, 1);
    assert.match(console.stderr, /^error\[E_TEST_CONSOLE_WITHOUT_VM\]: --console keeps a VM's serial console: it goes with --vm or --disk$/m);
    const image = await jeos('test', dir, '--image', 'x.img');
    assert.match(image.stderr, /^error\[E_TEST_IMAGE_WITHOUT_DISK\]/m);
    // A console file that cannot be written: refused before QEMU starts, and nothing is left running.
    if (existsSync('/usr/share/OVMF/OVMF_CODE_4M.fd') && spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status === 0) {
      const gpt = Buffer.alloc(4096);
      gpt.write('EFI PART', 512, 'latin1');
      await writeFile(join(work, 'gpt.img'), gpt);
      const unwritable = await jeos('test', dir, '--disk', '--image', join(work, 'gpt.img'), '--console', join(work, 'no/such/dir/console.log'));
      assert.equal(unwritable.code, 1, unwritable.stderr);
      assert.match(unwritable.stderr, /^error\[E_VM_CONSOLE_FILE\]: cannot write the console to .*no\/such\/dir\/console\.log: ENOENT$/m);
    }
  });

  test('the library entry point exports the same functions', async () => {
    const lib = await import(join(root, 'dist/index.js'));
    for (const name of ['loadConfig', 'parseConfig', 'openArchive', 'loadArchive', 'compareVersions', 'JeosError']) {
      assert.equal(typeof lib[name], 'function', name);
    }
    assert.ok(lib.compareVersions('1.0~rc1', '1.0') < 0);
    assert.ok(lib.compareVersions('1:0.9', '2.0') > 0);
    assert.equal(lib.compareVersions('1.0', '1.00'), 0);
  });
});
