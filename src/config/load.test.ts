import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JeosError } from '../errors.js';
import { configDigest, loadConfig, parseConfig } from './load.js';
import { DEFAULT_SUITES } from './schema.js';

function failure(text: string): JeosError {
  try {
    parseConfig(text, 'jeos.yaml');
  } catch (e) {
    assert.ok(e instanceof JeosError, `expected a JeosError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the config to be rejected');
}

const minimal = 'name: web\nworkload:\n  packages: [nginx]\n';

test('a minimal config gets every default', () => {
  const c = parseConfig(minimal);
  assert.equal(c.name, 'web');
  assert.deepEqual(c.debian.suites, DEFAULT_SUITES);
  assert.deepEqual(c.debian.components, ['main']);
  assert.equal(c.debian.architecture, 'amd64');
  assert.deepEqual(c.workload, {
    packages: ['nginx'],
    recommends: false,
    profile: 'none',
    user: 'root',
    workdir: '/',
    env: {},
    environmentFiles: [],
    directories: [],
    capabilities: [],
    files: [],
    ports: [],
    pre: [],
    restart: 'on-failure',
  });
  assert.deepEqual(c.outputs, ['tar', 'oci']);
  assert.deepEqual(c.vm, { kernel: 'linux-image-cloud-amd64', modules: [], memory: 256, cmdline: '', debug: false, init: 'systemd', network: 'busybox', root: 'initramfs' });
});

test('an unknown key is an error at its line and column, with the nearest valid key', () => {
  const e = failure('name: web\nworkload:\n  pakages: [nginx]\n');
  assert.equal(e.code, 'E_CONFIG_INVALID');
  assert.match(e.message, /^jeos\.yaml:3:3: unknown key "workload\.pakages" \(did you mean "packages"\?\)$/);
  assert.equal(e.hint, 'rename "pakages" to "packages"');
});

test('an unknown top-level key far from any valid one lists the valid keys', () => {
  const e = failure(`${minimal}zzzzzz: 1\n`);
  assert.match(e.message, /jeos\.yaml:4:1: unknown key "zzzzzz"$/);
  assert.match(e.hint ?? '', /valid keys here: name, description, debian, workload, outputs/);
});

test('a bad enum value names the allowed values and suggests the closest', () => {
  const e = failure(`${minimal}outputs: [tar, ocii]\n`);
  assert.match(e.message, /^jeos\.yaml:4:16: outputs\.1: "ocii" is not one of tar, oci, oci-archive, vm, disk \(did you mean "oci"\?\)/);
});

test('malformed YAML is reported with its position', () => {
  const e = failure('name: web\nworkload:\n  packages: [nginx\n');
  assert.equal(e.code, 'E_CONFIG_YAML');
  assert.match(e.message, /^jeos\.yaml:\d+:\d+: /);
});

test('duplicate keys are refused', () => {
  const e = failure('name: web\nname: other\nworkload:\n  packages: [nginx]\n');
  assert.equal(e.code, 'E_CONFIG_YAML');
  assert.match(e.message, /jeos\.yaml:2:1: .*unique/i);
});

test('missing required keys and wrong types say what was expected, every problem listed', () => {
  const e = failure('name: Bad Name\nworkload:\n  packages: []\n  recommends: maybe\n');
  const all = [e.message, ...e.details].join('\n');
  assert.match(all, /jeos\.yaml:1:7: name: "Bad Name" is not valid/);
  assert.match(all, /jeos\.yaml:3:13: workload\.packages: .*>=1/);
  assert.match(all, /jeos\.yaml:4:15: workload\.recommends: .*expected boolean/);
  const missing = failure('name: web\n');
  assert.match(missing.message, /workload: missing required key/);
});

test('package requests are checked for form', () => {
  const e = failure('name: web\nworkload:\n  packages: ["nginx (>= 1)"]\n');
  assert.match(e.message, /workload\.packages\.0/);
  for (const ok of ['nginx', 'nginx=1.26.*', 'nginx=1:2.0-1+deb13u1', 'nginx/trixie-security', 'libstdc++6']) {
    assert.doesNotThrow(() => parseConfig(`name: web\nworkload:\n  packages: ["${ok}"]\n`), ok);
  }
});

test('the digest ignores comments, key order and spelled-out defaults, and follows real changes', () => {
  const a = configDigest(parseConfig(minimal));
  const b = configDigest(
    parseConfig('# a comment\nworkload:\n  recommends: false\n  packages: [nginx]\nname: web\noutputs: [tar, oci]\n'),
  );
  const c = configDigest(parseConfig('name: web\nworkload:\n  packages: [nginx, curl]\n'));
  assert.equal(a, b);
  assert.notEqual(a, c);
  assert.match(a, /^[0-9a-f]{64}$/);
});

test('the workload section: command, files, ports and a health check', () => {
  const c = parseConfig(
    [
      'name: web',
      'workload:',
      '  packages: [nginx]',
      '  command: [/usr/sbin/nginx, -g, daemon off;]',
      '  env: { LANG: C.UTF-8 }',
      '  files:',
      '    - { path: /var/www/html/index.html, content: hello }',
      '  ports: [80, 53/udp]',
      '  healthcheck: { http: "http://localhost/" }',
    ].join('\n'),
  );
  assert.deepEqual(c.workload.command, ['/usr/sbin/nginx', '-g', 'daemon off;']);
  assert.deepEqual(c.workload.files, [{ path: '/var/www/html/index.html', content: 'hello', mode: '0644', owner: 'root:root' }]);
  assert.deepEqual(c.workload.ports, [80, '53/udp']);
  assert.deepEqual(c.workload.healthcheck, { http: 'http://localhost/', status: 200, timeout: 60 });
});

test('workload files and health checks refuse ambiguous or unsafe entries', () => {
  const base = 'name: web\nworkload:\n  packages: [nginx]\n';
  const both = failure(`${base}  files:\n    - { path: /a, content: x, source: y }\n`);
  assert.match(both.message, /jeos\.yaml:5:7: workload\.files\.0: give exactly one of content or source/);
  const climbing = failure(`${base}  files:\n    - { path: /etc/../../x, content: x }\n`);
  assert.match(climbing.message, /workload\.files\.0\.path: .*absolute path inside the image/);
  const two = failure(`${base}  healthcheck: { tcp: 80, http: "http://localhost/" }\n`);
  assert.match(two.message, /workload\.healthcheck: give exactly one of http, tcp, dns, smtp, imap, ftp, nats, redis, ldap, ntp or command/);
});

test('the lock digest ignores the command, files and ports but follows the package selection', () => {
  const a = parseConfig('name: web\nworkload:\n  packages: [nginx]\n');
  const b = parseConfig('name: web\nworkload:\n  packages: [nginx]\n  command: [nginx]\n  ports: [80]\n');
  const c = parseConfig('name: web\nworkload:\n  packages: [nginx, curl]\n');
  assert.equal(configDigest(a), configDigest(b));
  assert.notEqual(configDigest(a), configDigest(c));
});

test('loadConfig reads DIR/jeos.yaml and names a missing file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'jeos-config-'));
  try {
    await assert.rejects(loadConfig(dir), (e: JeosError) => e.code === 'E_CONFIG_MISSING' && e.message.includes(join(dir, 'jeos.yaml')));
    await writeFile(join(dir, 'jeos.yaml'), minimal);
    const loaded = await loadConfig(dir);
    assert.equal(loaded.dir, dir);
    assert.equal(loaded.config.name, 'web');
    await writeFile(join(dir, 'jeos.yaml'), 'name: web\nworkload:\n  packges: [nginx]\n');
    await assert.rejects(loadConfig(dir), (e: JeosError) => e.message.startsWith(`${join(dir, 'jeos.yaml')}:3:3:`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the bundled example is valid', async () => {
  const loaded = await loadConfig(new URL('../../examples/nginx', import.meta.url).pathname);
  assert.deepEqual(loaded.config.workload.packages, ['nginx']);
});

test('vm.network: networkd with vm.init: busybox is refused at the key, with the reason', () => {
  const e = failure(`${minimal}vm:\n  init: busybox\n  network: networkd\n`);
  assert.equal(e.code, 'E_CONFIG_INVALID');
  assert.match(e.message, /^jeos\.yaml:6:\d+: .*vm\.network: networkd needs vm\.init: systemd/);
});

test('vm.network changes the digest of a VM config only when it differs from the default', () => {
  const vm = `${minimal}outputs: [vm]\n`;
  assert.equal(configDigest(parseConfig(`${vm}vm:\n  network: busybox\n`)), configDigest(parseConfig(vm)));
  assert.notEqual(configDigest(parseConfig(`${vm}vm:\n  network: networkd\n`)), configDigest(parseConfig(vm)));
});

test('a file that is not text (a program named by mistake) is refused, and YAML errors stay short however long the bad token', () => {
  assert.equal(failure(`name: web\n\0\x7fELF binary`).code, 'E_CONFIG_NOT_TEXT');
  const e = failure(`a: [\n${'x'.repeat(5000)}: ]\n${Array.from({ length: 40 }, (_, i) => `k${i}: [\n`).join('')}`);
  assert.equal(e.code, 'E_CONFIG_YAML');
  assert.ok(e.message.length <= 201, `message of ${e.message.length} characters`);
  assert.ok(e.details.length <= 10 && e.details.every((d) => d.length <= 201), JSON.stringify(e.details.map((d) => d.length)));
});
