// Live tier: jeos init --from for servers of issue 24 whose command, port and check init finds
// from the package alone (EnvironmentFile= expansion, the foreground table, an empty option
// argument, the protocol checks), then jeos build and jeos test --container with no edits: the
// check init wrote must pass in podman. bind9 needs the trim to keep the root hints its
// configuration names (point 3); nsd the keys nsd-control-setup makes at start (workload.pre from
// init's table of after-install generators, point 1). exim4-daemon-light gets its generated
// configuration the same way, and needs the static account uucp that its configuration names.
// coturn (turnserver, TCP and UDP 3478) in podman and a VM. Then the same four in a VM, one at a time (init asks for tar, oci and vm outputs): the memory
// jeos build chose, and a starved bind9 VM named as out of memory.
import assert from 'node:assert/strict';
import { after, describe } from 'node:test';
import { test } from '../live.js';
import { hasPodman, hasQemu, serverHarness, vmOnly } from '../support/servers/harness.js';

const { jeos, init, buildAndTest, buildAndTestVm, cleanup } = await serverHarness();

describe('jeos init for common Debian servers', () => {
  after(cleanup);

  test('bind9: named in the foreground with -u bind from /etc/default/named, ports 53 TCP and UDP, a DNS check; built and answering in podman (the root hints named.conf names are kept)', async () => {
    const out = await init('bind9');
    assert.deepEqual(out.command, ['/usr/sbin/named', '-f', '-u', 'bind']);
    assert.deepEqual(out.ports, [53, '53/udp']);
    assert.deepEqual(out.healthcheck, { dns: { port: 53, name: 'localhost', type: 'A' } });
    assert.deepEqual(out.pre, [['/bin/sh', '-c', '[ -s /etc/bind/rndc.key ] || exec /usr/sbin/rndc-confgen -a']]);
    await buildAndTest('bind9');
    const why = await jeos('why', '/usr/share/dns/root.hints', 'bind9');
    assert.match(why.stdout, /named by \/etc\/bind\/named\.conf\.root-hints/);
  });

  test('nsd: its unit\'s -P "" left out with a note, a DNS check on port 53', async () => {
    const out = await init('nsd');
    assert.deepEqual(out.command, ['/usr/sbin/nsd', '-d']);
    assert.match(out.notes.join('\n'), /empty argument \(-P ""\)/);
    assert.deepEqual(out.healthcheck, { dns: { port: 53, name: 'localhost', type: 'A' } });
    assert.deepEqual(out.pre, [['/usr/sbin/nsd-control-setup']]);
    for (const p of ['openssl', 'coreutils', 'dash']) assert.ok(out.packages.includes(p), out.packages.join(', '));
    await buildAndTest('nsd');
  });

  test('exim4-daemon-light: the daemon in the foreground (-bdf), an SMTP greeting check on port 25, dash for the shell it runs', async () => {
    const out = await init('exim4-daemon-light');
    assert.deepEqual(out.command, ['/usr/sbin/exim4', '-bdf', '-q30m']);
    assert.deepEqual(out.healthcheck, { smtp: 25 });
    assert.ok(out.packages.includes('dash'), out.packages.join(', '));
    assert.match(out.pre.map((p: string[]) => p.join(' ')).join('\n'), /update-exim4\.conf/);
    assert.ok(out.files.some((f: { path: string }) => f.path === '/etc/exim4/update-exim4.conf.conf'));
  });

  test('exim4-daemon-light: built, and greeting on port 25 in podman (uucp, which exim4.conf.template names in MAIN_TRUSTED_USERS, is made)', async () => {
    const t = await buildAndTest('exim4-daemon-light');
    if (hasPodman) assert.match(t.detail!, /^smtp 25 greets: "220 .*ESMTP Exim/);
  });

  test('tinyproxy: the forking unit\'s daemon with -d, port 8888 from tinyproxy.conf, and the image passes its check in podman', async () => {
    const out = await init('tinyproxy');
    assert.deepEqual(out.command, ['/usr/bin/tinyproxy', '-d']);
    assert.deepEqual(out.healthcheck, { tcp: 8888 });
    assert.ok(out.choices.some((c: { key: string; why: string }) => c.key === 'ports' && /tinyproxy\.conf: Port 8888/.test(c.why)));
    const built = await jeos('build', 'tinyproxy', '--frozen', '--format', 'oci', '-q');
    assert.equal(built.code, 0, built.stderr + built.stdout);
    if (!hasPodman) return;
    const tested = await jeos('test', 'tinyproxy', '--container', '--json');
    assert.equal(tested.code, 0, `${tested.stderr}\n${tested.stdout}`);
    assert.match(JSON.parse(tested.stdout).healthcheck.detail, /^tcp 8888 accepts connections/);
  });

  // The same images in a VM, one at a time (point 5): the lock init wrote resolved the image and the
  // VM's packages together, jeos build chose the VM's memory from its initramfs (vm.memory is unset).
  test('bind9 in a VM: the DNS check passes with the memory jeos build chose, and 96 MiB runs out with E_VM_OUT_OF_MEMORY and a hint', vmOnly, async () => {
    const r = await buildAndTestVm('bind9');
    assert.match(r.healthcheck.detail, /^dns A localhost on port 53: /);
    assert.match(r.buildOutput, /^ {2}vm memory {6}\d+ MiB for jeos run and jeos test \(vm\.memory unset; the initramfs unpacks to [\d.]+ MiB from [\d.]+ MiB, and the kernel needs 72 MiB: at least (\d+) MiB to boot\)$/m);
    assert.ok(r.memoryMiB >= 256);
    const starved = await jeos('test', 'bind9', '--vm', '--memory', '96', '--json');
    assert.equal(starved.code, 1);
    const s = JSON.parse(starved.stdout);
    assert.equal(s.code, 'E_VM_OUT_OF_MEMORY', s.failure);
    assert.match(s.failure, /ran out of memory with 96 MiB \(".*(deadlocked on memory|Out of memory|invoked oom-killer)/);
    assert.match(s.hint, /at least \d+ MiB to boot\. Give the VM more: jeos test --vm --memory \d+/);
  });

  test('nsd in a VM: workload.pre makes its control keys before the daemon starts, the DNS check passes', vmOnly, async () => {
    const r = await buildAndTestVm('nsd');
    assert.match(r.healthcheck.detail, /^dns A localhost on port 53: /);
  });

  test('exim4-daemon-light in a VM: its configuration generated at start, the SMTP greeting on port 25', vmOnly, async () => {
    const r = await buildAndTestVm('exim4-daemon-light');
    assert.match(r.healthcheck.detail, /^smtp 25 greets: "220 .*ESMTP Exim/);
  });

  test('icecast2 (no unit: the known-program table runs it as Debian\'s init script does): its status page answers HTTP 200 in podman and in a VM', async () => {
    const out = await init('icecast2');
    assert.deepEqual(out.command, ['/usr/bin/icecast2', '-c', '/etc/icecast2/icecast.xml']);
    assert.equal(out.user, 'icecast2');
    assert.deepEqual(out.healthcheck, { http: 'http://localhost:8000/' });
    const t = await buildAndTest('icecast2');
    if (hasPodman) assert.match(t.detail!, /^HTTP 200 from http:\/\/localhost:8000\//);
    if (!hasQemu) return;
    const r = await buildAndTestVm('icecast2');
    assert.match(r.healthcheck.detail, /^HTTP 200 from http:\/\/localhost:8000\//);
  });

  test('coturn: turnserver with its configuration and no pid file, as the turnserver user, ports 3478 TCP and UDP; built and accepting on 3478 in podman and in a VM', async () => {
    const out = await init('coturn');
    assert.deepEqual(out.command, ['/usr/bin/turnserver', '-c', '/etc/turnserver.conf', '--pidfile=']);
    assert.equal(out.user, 'turnserver');
    assert.deepEqual(out.ports, [3478, '3478/udp']);
    assert.deepEqual(out.healthcheck, { tcp: 3478 });
    const t = await buildAndTest('coturn');
    if (hasPodman) assert.match(t.detail!, /^tcp 3478 accepts connections/);
    if (!hasQemu) return;
    const r = await buildAndTestVm('coturn');
    assert.match(r.healthcheck.detail, /^tcp 3478 accepts connections/);
  });

  test('tinyproxy in a VM: port 8888 accepts connections', vmOnly, async () => {
    const r = await buildAndTestVm('tinyproxy');
    assert.match(r.healthcheck.detail, /^tcp 8888 accepts connections/);
  });
});
