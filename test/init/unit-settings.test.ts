// What jeos init copies from a unit besides its command (unit-settings.ts): Environment= and
// EnvironmentFile=, the RuntimeDirectory= family, AmbientCapabilities=, WorkingDirectory=; the
// Essential packages a step or a shell line runs (essential.ts); configuration checks left out.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { essentialNeeds, scriptCommands } from '../../src/init/essential.js';
import { isConfigCheck } from '../../src/init/from-package.js';
import { parseService } from '../../src/init/unit.js';
import { unitSettings } from '../../src/init/unit-settings.js';
import { workloadOf } from '../../src/init/workload.js';

const KEA = `[Service]
User=_kea
AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW
Environment="KEA_LOCKFILE_DIR=/run/lock/kea"
ConfigurationDirectory=kea
RuntimeDirectory=kea lock/kea
RuntimeDirectoryMode=0750
LogsDirectory=kea
StateDirectory=kea
StateDirectoryMode=750
ExecStart=/usr/sbin/kea-dhcp4 -c /etc/kea/kea-dhcp4.conf
`;

describe('jeos init: what a unit sets up around its command', () => {
  test('parseService reads Group=, WorkingDirectory=, the directory kinds with their modes and AmbientCapabilities= (resets too)', () => {
    const s = parseService(`${KEA}Group=_kea\nWorkingDirectory=-/var/lib/kea\nCacheDirectory=a\nCacheDirectory=\nCacheDirectory=b:link\n`);
    assert.equal(s.group, '_kea');
    assert.equal(s.workingDirectory, '/var/lib/kea');
    assert.deepEqual(s.capabilities, ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']);
    assert.deepEqual(s.directories, [
      { kind: 'Configuration', name: 'kea' },
      { kind: 'Runtime', name: 'kea', mode: '0750' },
      { kind: 'Runtime', name: 'lock/kea', mode: '0750' },
      { kind: 'Logs', name: 'kea' },
      { kind: 'State', name: 'kea', mode: '0750' },
      { kind: 'Cache', name: 'b' },
    ]);
    assert.deepEqual(parseService('[Service]\nExecStart=/x\nAmbientCapabilities=CAP_NET_RAW\nAmbientCapabilities=\n').capabilities, []);
  });

  test('the settings: env from Environment= (a run-time specifier left out with a note), environment files, directories owned by the user (a shipped ConfigurationDirectory= left alone), capabilities, workdir', () => {
    const service = parseService(`${KEA}WorkingDirectory=/var/lib/kea\n`);
    const s = unitSettings(
      { name: 'kea-dhcp4-server.service', service, environment: [...service.environment, 'ETCD_NAME=%H'], environmentFiles: ['/etc/default/kea'] },
      service.user,
      (p) => p === '/etc/kea',
    );
    assert.deepEqual(s.env, { KEA_LOCKFILE_DIR: '/run/lock/kea' });
    assert.match(s.notes.join('\n'), /ETCD_NAME=%H .* left out of workload\.env/);
    assert.deepEqual(s.environmentFiles, ['/etc/default/kea']);
    assert.deepEqual(s.directories, [
      { path: '/run/kea', mode: '0750' },
      { path: '/run/lock/kea', mode: '0750' },
      { path: '/var/log/kea' },
      { path: '/var/lib/kea', mode: '0750' },
    ]);
    assert.deepEqual(s.capabilities, ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']);
    assert.equal(s.workdir, '/var/lib/kea');
    // A ConfigurationDirectory= no package ships is made, root's; as root, capabilities are not needed.
    const root = unitSettings({ name: 'x.service', service: parseService('[Service]\nExecStart=/x\nConfigurationDirectory=x\nAmbientCapabilities=CAP_NET_RAW\n'), environment: [], environmentFiles: [] }, undefined);
    assert.deepEqual(root.directories, [{ path: '/etc/x' }]);
    assert.deepEqual(root.capabilities, []);
  });

  test('workloadOf writes the settings into the plan part with their reasons', () => {
    const service = parseService(KEA);
    const part = workloadOf({
      path: '/usr/sbin/kea-dhcp4', args: ['-c', '/etc/kea/kea-dhcp4.conf'], from: 'ExecStart= of kea-dhcp4-server.service', userArgs: false, user: '_kea',
      settings: unitSettings({ name: 'kea-dhcp4-server.service', service, environment: service.environment, environmentFiles: [] }, '_kea'),
    });
    assert.deepEqual(part.env, { KEA_LOCKFILE_DIR: '/run/lock/kea' });
    assert.equal(part.directories.length, 5);
    assert.deepEqual(part.capabilities, ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']);
    assert.ok(part.choices.some((c) => c.key === 'directories' && c.value === '/run/kea' && /RuntimeDirectory=kea of kea-dhcp4-server\.service/.test(c.why)));
  });
});

describe('jeos init: Essential commands a step or a shell line runs', () => {
  test('a shell line\'s commands: first words after operators, assignments, exec and reserved words; quoted text does not split', () => {
    assert.deepEqual(scriptCommands('mkdir -p /run/slapd; \tchown "$U":"$G" /run/slapd; [ -d "$C" ] && f=-F || f=-f; exec /usr/sbin/slapd -h "a;b"'), ['mkdir', 'chown', '[', '/usr/sbin/slapd']);
    assert.deepEqual(scriptCommands('if [ -x /x ]; then X=1 sed -i s/a/b/ f | grep q; fi'), ['[', 'sed', 'grep']);
  });

  test('a step\'s program (prefix taken off) and a shell line\'s commands bring their Essential package; builtins and other programs bring none', () => {
    assert.deepEqual(essentialNeeds(['-/bin/mkdir', '-p', '/var/run/vsftpd/empty'], 'the step'), [{ package: 'coreutils', command: 'mkdir', why: 'the step runs /bin/mkdir' }]);
    const slapd = essentialNeeds(['sh', '-c', 'mkdir -p /run/slapd; chown "$U" /run/slapd; [ -d x ] && echo y; sed -n p f; exec /usr/sbin/slapd'], 'the command');
    assert.deepEqual(slapd.map((n) => n.package), ['coreutils', 'sed']);
    assert.deepEqual(essentialNeeds(['/usr/sbin/nsd-control-setup'], 'x'), []);
    assert.deepEqual(essentialNeeds(['sh', '-c', 'echo hi; exec /usr/sbin/d'], 'x'), []);
  });

  test('workloadOf adds coreutils for a unit\'s -/bin/mkdir step, beside dash for the start script', () => {
    const part = workloadOf({ path: '/usr/sbin/vsftpd', args: ['/etc/vsftpd.conf'], from: 'u', userArgs: false, pre: [{ argv: ['-/bin/mkdir', '-p', '/var/run/vsftpd/empty'], why: 'ExecStartPre=', packages: [] }] });
    assert.deepEqual(part.pre, [['-/bin/mkdir', '-p', '/var/run/vsftpd/empty']]);
    assert.deepEqual(part.packages, ['dash', 'coreutils']);
    assert.ok(part.choices.some((c) => c.value === 'coreutils' && /runs \/bin\/mkdir/.test(c.why)));
  });

  test('configuration checks: knotc conf-check, checkconfig and --check-config verbs, besides *checkconf and the program\'s own -t', () => {
    assert.ok(isConfigCheck(['/usr/sbin/knotc', 'conf-check'], '/usr/sbin/knotd'));
    assert.ok(isConfigCheck(['/usr/bin/x', '--check-config'], '/usr/sbin/y'));
    assert.ok(isConfigCheck(['/usr/sbin/named-checkconf'], '/usr/sbin/named'));
    assert.ok(!isConfigCheck(['/usr/sbin/knotc', 'zone-reload'], '/usr/sbin/knotd'));
    assert.ok(!isConfigCheck(['/bin/mkdir', '-p', '/run/x'], '/usr/sbin/x'));
  });
});

describe('jeos init: servers Debian sets up to serve nobody from outside', () => {
  test('knotd and etcd: the port\'s reason says what to add (knot.conf\'s listen, etcd\'s ETCD_LISTEN_CLIENT_URLS)', () => {
    const why = (path: string) => workloadOf({ path, args: [], from: 'u', userArgs: false }).choices.find((c) => c.key === 'ports')!.why;
    assert.match(why('/usr/sbin/knotd'), /Debian's knot\.conf has it commented out/);
    assert.match(why('/usr/bin/etcd'), /localhost only until ETCD_LISTEN_CLIENT_URLS/);
  });
});
