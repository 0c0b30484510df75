// The parts of jeos init that read a package's units and files, on trees built here:
// expansion of a unit's command, the choice among a package's units, alternatives links,
// the foreground table, the config-directive table, the shell a command needs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { portFromConfig } from '../../src/init/config-ports.js';
import { isConfigCheck } from '../../src/init/from-package.js';
import { environmentOf, expandCommand, parseEnvironmentFile, specifiers } from '../../src/init/expand.js';
import { foregroundArgs, foregroundRule } from '../../src/init/foreground.js';
import { execTarget, interpreterNeed, shellCommand } from '../../src/init/shell.js';
import { parseService, parseSocketPorts } from '../../src/init/unit.js';
import { realProgram, serviceCandidates, throughAlternatives } from '../../src/init/units.js';
import { workloadOf } from '../../src/init/workload.js';
import { ImageTree } from '../../src/tree/index.js';
import type { UnpackedPackage } from '../../src/unpack/index.js';
import { buildElf } from '../support/elf/synthetic.js';

const run = promisify(execFile);

/** A tree with these files, and the packages that ship them (path → package). */
function treeOf(files: Record<string, string | { link: string }>, owners: Record<string, string>) {
  const tree = new ImageTree();
  const packages = new Map<string, string[]>();
  for (const [path, content] of Object.entries(files)) {
    const dir = path.slice(1, path.lastIndexOf('/'));
    if (dir) tree.mkdirp(dir);
    if (typeof content === 'string') tree.writeFile(path.slice(1), content);
    else tree.symlink(path.slice(1), content.link);
    const pkg = owners[path] ?? Object.entries(owners).find(([prefix]) => prefix.endsWith('/') && path.startsWith(prefix))?.[1] ?? 'main';
    packages.set(pkg, [...(packages.get(pkg) ?? []), path]);
  }
  const list = [...packages].map(([name, paths]) => ({ name, paths }) as unknown as UnpackedPackage);
  return { tree, packages: list };
}

describe('expanding a unit\'s command as systemd does', () => {
  test('$VAR as a word splits into zero or more words, ${VAR} is one word anywhere, $VAR inside a word stays', () => {
    const env = new Map([['OPTS', '-u bind  -4'], ['DIR', '/etc/x y'], ['EMPTY', '']]);
    const r = expandCommand(['/usr/sbin/d', '$OPTS', '--conf=${DIR}/d.conf', 'a$OPTS', '$UNSET', '$EMPTY', '${EMPTY}', '${NONE}x', '$$5'], env);
    assert.deepEqual(r.argv, ['/usr/sbin/d', '-u', 'bind', '-4', '--conf=/etc/x y/d.conf', 'a$OPTS', 'x', '$5']);
    assert.deepEqual(r.unset, ['UNSET', 'NONE']);
    assert.deepEqual(r.emptyWords, ['${EMPTY}']);
    const pid = expandCommand(['/usr/sbin/nsd', '-d', '-P', '', '-c', '${CONF}'], new Map());
    assert.deepEqual(pid.argv, ['/usr/sbin/nsd', '-d'], 'an empty option argument goes with its option');
    assert.deepEqual(pid.emptyWords, ['-P ""', '-c ${CONF}']);
  });

  test('EnvironmentFile= read as systemd reads it, overriding Environment=; specifiers filled in', () => {
    const file = parseEnvironmentFile(`# Options for the daemon\n; another comment\nOPTIONS="-u bind -f"\nexport NAME='single quoted'\nPLAIN =  spaced value  \nESC="a \\"b\\""\nLONG=one \\\ntwo\nnot a line\n`);
    assert.deepEqual(file, ['OPTIONS=-u bind -f', 'NAME=single quoted', 'PLAIN=spaced value', 'ESC=a "b"', 'LONG=one two']);
    const env = environmentOf(['OPTIONS=-x', 'KEEP=1'], [file]);
    assert.equal(env.get('OPTIONS'), '-u bind -f', 'the file wins over Environment=');
    assert.equal(env.get('KEEP'), '1');
    assert.equal(specifiers('/etc/postfix-%i/%p.cf:%t/%N.pid:100%%', { name: 'postfix@main.service', instance: 'main' }), '/etc/postfix-main/postfix.cf:/run/postfix@main.pid:100%');
  });

  test('unit files: Environment= (quoted, several per line), EnvironmentFile= (- optional), PIDFile=, DefaultInstance=, a socket\'s ListenStream=', () => {
    const s = parseService(`[Service]\nType=forking\nPIDFile=/run/x.pid\nEnvironment="A=1 2" B=3\nEnvironmentFile=-/etc/default/x\nEnvironmentFile=/etc/x.env\nExecStart=/usr/sbin/x $A\n[Install]\nDefaultInstance=main\n`);
    assert.deepEqual(s.environment, ['A=1 2', 'B=3']);
    assert.deepEqual(s.environmentFiles, [{ path: '/etc/default/x', optional: true }, { path: '/etc/x.env', optional: false }]);
    assert.equal(s.pidFile, '/run/x.pid');
    assert.equal(s.defaultInstance, 'main');
    assert.equal(parseService('[Service]\nUser=_chrony\nExecStart=!/usr/sbin/chronyd $DAEMON_OPTS\n').user, undefined, "chrony's ! runs chronyd as root (it drops privileges itself)");
    assert.equal(parseService('[Service]\nUser=web\nExecStart=-/usr/sbin/webd\n').user, 'web');
    assert.deepEqual(parseSocketPorts('[Socket]\nListenStream=/run/x.sock\nListenStream=0.0.0.0:8080\nListenStream=[::]:22\nListenStream=53\nListenDatagram=53\n'), [8080, 22, 53]);
  });
});

describe('choosing the unit and its program', () => {
  const unit = (exec: string, extra = '') => `[Service]\n${extra}ExecStart=${exec}\n`;

  test('the unit that runs one of the package\'s programs wins over one named like the package; a oneshot comes last', () => {
    const { tree, packages } = treeOf(
      {
        '/usr/lib/systemd/system/mail.service': unit('/bin/true', 'Type=oneshot\n'),
        '/usr/lib/systemd/system/mail-daemon.service': unit('/usr/sbin/maild -f'),
        '/usr/lib/systemd/system/mail-helper.service': unit('/usr/bin/not-here'),
        '/usr/sbin/maild': 'x',
      },
      {},
    );
    const [first, ...rest] = serviceCandidates(tree, packages, 'mail');
    assert.equal(first?.name, 'mail-daemon.service');
    assert.deepEqual(rest.map((c) => c.name), [], '/bin/true and a missing program are no workloads');
  });

  test('a unit whose shell line ends by exec\'ing the package\'s daemon is the workload (sh -c "…; exec /usr/sbin/d"): the shell line kept, dash, the daemon\'s arguments for its ports', () => {
    const { tree, packages } = treeOf(
      {
        '/usr/lib/systemd/system/proxyd.service': unit(`/bin/sh -c "mkdir -p /run/proxyd && exec /usr/sbin/proxyd --port 3128 -d"`),
        '/usr/lib/systemd/system/proxyd-cleanup.service': unit('/usr/sbin/proxyd-clean --all'),
        '/usr/bin/dash': 'x',
        '/bin/sh': { link: '/usr/bin/dash' },
        '/usr/sbin/proxyd': 'x',
        '/usr/sbin/proxyd-clean': 'x',
      },
      { '/usr/bin/dash': 'dash', '/bin/sh': 'dash' },
    );
    const candidates = serviceCandidates(tree, packages.filter((p) => p.name !== 'dash'), 'proxyd');
    assert.deepEqual(candidates.map((c) => c.name), ['proxyd.service', 'proxyd-cleanup.service'], 'the exec\'d daemon counts as running the package\'s program; the name decides');
    assert.deepEqual(candidates[0]!.execs, { path: '/usr/sbin/proxyd', args: ['--port', '3128', '-d'] });
    assert.equal(candidates[0]!.shell?.package, 'dash');
    const w = workloadOf({ path: '/bin/sh', args: candidates[0]!.expanded.argv.slice(1), from: 'ExecStart= of proxyd.service', userArgs: false, daemon: candidates[0]!.execs });
    assert.deepEqual(w.command, ['/bin/sh', '-c', 'mkdir -p /run/proxyd && exec /usr/sbin/proxyd --port 3128 -d']);
    assert.deepEqual(w.ports, [3128], "the daemon's --port");
    assert.deepEqual(execTarget(['/bin/sh', '-c', 'test -d /x || exit 1; exec -a name "/usr/bin/a b" \'x y\'']), { path: '/usr/bin/a b', args: ['x y'] });
    assert.equal(execTarget(['/bin/sh', '-c', 'exec daemon -f']), undefined, 'a program by name is not followed');
    assert.equal(execTarget(['/usr/sbin/d', '-c', 'exec /usr/sbin/x']), undefined, 'only a shell\'s -c');
  });

  test('a link through /etc/alternatives is followed to the file for the command; a multi-call program\'s link is kept as written (valkey-server → valkey-check-rdb tells them apart by argv[0])', () => {
    const { tree } = treeOf(
      {
        '/usr/bin/valkey-server': { link: 'valkey-check-rdb' },
        '/usr/bin/valkey-check-rdb': 'x',
        '/usr/bin/kv': { link: '/etc/alternatives/kv' },
        '/etc/alternatives/kv': { link: '/usr/bin/kv-real' },
        '/usr/bin/kv-real': 'x',
      },
      {},
    );
    assert.equal(throughAlternatives(tree, '/usr/bin/valkey-server'), false);
    assert.equal(realProgram(tree, '/usr/bin/valkey-server'), '/usr/bin/valkey-check-rdb');
    assert.equal(throughAlternatives(tree, '/usr/bin/kv'), true);
    assert.equal(throughAlternatives(tree, '/usr/bin/kv-real'), false);
  });

  test('EnvironmentFile= from the package fills the command; a template runs as its DefaultInstance=', () => {
    const { tree, packages } = treeOf(
      {
        '/usr/lib/systemd/system/dns@.service': unit('/usr/sbin/dnsd -c /etc/dns/%i.conf $OPTIONS ${EXTRA}', 'EnvironmentFile=-/etc/default/dns\nEnvironment=EXTRA=--verbose\n') + '[Install]\nDefaultInstance=main\n',
        '/usr/lib/systemd/system/skipped@.service': unit('/usr/sbin/dnsd'),
        '/etc/default/dns': 'OPTIONS="-u dns -4"\n',
        '/usr/sbin/dnsd': 'x',
      },
      {},
    );
    const candidates = serviceCandidates(tree, packages, 'dns');
    assert.deepEqual(candidates.map((c) => c.name), ['dns@main.service'], 'a template without DefaultInstance= is not started by itself');
    assert.deepEqual(candidates[0]!.expanded.argv, ['/usr/sbin/dnsd', '-c', '/etc/dns/main.conf', '-u', 'dns', '-4', '--verbose']);
  });

  test('alternatives: the unit\'s /usr/bin/x leads through /etc/alternatives/x to the real program, which counts as the package\'s', () => {
    const { tree, packages } = treeOf(
      {
        '/usr/lib/systemd/system/kv.service': unit('/usr/bin/kv-server --conf /etc/kv.conf'),
        '/usr/bin/kv-server': { link: '/etc/alternatives/kv-server' },
        '/etc/alternatives/kv-server': { link: '/usr/bin/kv-server-real' },
        '/usr/bin/kv-server-real': 'x',
      },
      { '/usr/bin/kv-server': 'made-by-configure', '/etc/alternatives/kv-server': 'made-by-configure' },
    );
    const [c] = serviceCandidates(tree, packages, 'kv');
    assert.equal(c?.real, '/usr/bin/kv-server-real');
    assert.equal(c?.runsOwn, true);
    assert.equal(realProgram(tree, '/bin/kv-server'), '/usr/bin/kv-server-real', '/bin and /usr/bin are one');
  });

  test('ExecStart=/bin/sh -c … is accepted, and brings dash', () => {
    const { tree, packages } = treeOf({ '/usr/lib/systemd/system/job.service': unit("/bin/sh -c 'exec /usr/bin/jobd --serve'"), '/usr/bin/jobd': 'x' }, {});
    const [c] = serviceCandidates(tree, packages, 'job');
    assert.equal(c?.shell?.package, 'dash');
    assert.deepEqual(c?.expanded.argv, ['/bin/sh', '-c', 'exec /usr/bin/jobd --serve']);
  });
});

describe('what init writes for a program', () => {
  test('a Type=forking daemon the foreground table knows gets its flag (once, before a config file); one it does not know, a note naming PIDFile=', () => {
    assert.deepEqual(foregroundArgs(foregroundRule('/usr/sbin/privoxy')!, ['--user', 'privoxy', '/etc/privoxy/config']), ['--no-daemon', '--user', 'privoxy', '/etc/privoxy/config']);
    assert.deepEqual(foregroundArgs(foregroundRule('/usr/sbin/named')!, ['-f', '-u', 'bind']), ['-f', '-u', 'bind'], 'already in the foreground');
    assert.deepEqual(foregroundArgs(foregroundRule('/usr/sbin/exim4')!, ['-bd', '-q30m']), ['-bdf', '-q30m']);
    assert.deepEqual(foregroundArgs(foregroundRule('/usr/bin/turnserver')!, ['-c', '/etc/turnserver.conf', '-o']), ['-c', '/etc/turnserver.conf']);
    assert.equal(foregroundRule('/usr/sbin/php-fpm8.4')?.program, 'php-fpm');

    const named = workloadOf({ path: '/usr/sbin/named', args: ['-u', 'bind'], from: 'ExecStart= of named.service', userArgs: false, forking: true });
    assert.deepEqual(named.command, ['/usr/sbin/named', '-f', '-u', 'bind']);
    assert.deepEqual(named.healthcheck, { dns: { port: 53, name: 'localhost', type: 'A' } });
    assert.deepEqual(named.ports, [53, '53/udp']);
    const odd = workloadOf({ path: '/usr/sbin/oddd', args: [], from: 'ExecStart= of oddd.service', userArgs: false, forking: true, pidFile: '/run/oddd.pid' });
    assert.match(odd.notes.join('\n'), /Type=forking service \(PIDFile=\/run\/oddd\.pid\) and jeos's foreground table does not know oddd/);
    const given = workloadOf({ path: '/usr/sbin/named', args: ['-g'], from: 'the command line', userArgs: true, forking: true });
    assert.deepEqual(given.command, ['/usr/sbin/named', '-g'], 'arguments given by the user are kept');
  });

  test('ports: the arguments, then the configuration\'s directive, then the unit\'s socket, then the table; the check speaks the protocol', () => {
    const { tree } = treeOf(
      {
        '/etc/tinyproxy/tinyproxy.conf': '# Port 1\nPort 8899\nListen 127.0.0.1\n',
        '/etc/nginx/sites-available/default': 'server {\n\tlisten 8080 default_server;\n\tlisten [::]:8080 default_server;\n}\n',
        '/etc/bind/named.conf.options': 'options {\n\tlisten-on port 5353 { any; };\n};\n',
        '/etc/privoxy/config': 'listen-address  127.0.0.1:8118\n',
        '/etc/nats-server.conf': '# NATS config\nhost: 127.0.0.1\nport: 4222\n',
      },
      {},
    );
    assert.deepEqual(portFromConfig(tree, '/usr/bin/tinyproxy'), { port: 8899, from: '/etc/tinyproxy/tinyproxy.conf: Port 8899', loopbackOnly: true });
    assert.equal(portFromConfig(tree, '/usr/sbin/nginx')?.port, 8080);
    assert.equal(portFromConfig(tree, '/usr/sbin/privoxy')?.loopbackOnly, true);
    assert.deepEqual(portFromConfig(tree, '/usr/sbin/nats-server'), { port: 4222, from: '/etc/nats-server.conf: port: 4222', loopbackOnly: true }, "Debian's nats-server.conf: host: 127.0.0.1");
    assert.equal(portFromConfig(tree, '/usr/sbin/sshd'), undefined, 'no file: the table\'s default');

    const bind = workloadOf({ path: '/usr/sbin/named', args: ['-f'], from: 'u', userArgs: false, configPort: portFromConfig(tree, '/usr/sbin/named') });
    assert.deepEqual(bind.healthcheck, { dns: { port: 5353, name: 'localhost', type: 'A' } });
    const proxy = workloadOf({ path: '/usr/bin/tinyproxy', args: [], from: 'u', userArgs: false, configPort: portFromConfig(tree, '/usr/bin/tinyproxy') });
    assert.deepEqual(proxy.healthcheck, { tcp: 8899 });
    assert.match(proxy.notes.join('\n'), /listens on the loopback address only/);
    const socketed = workloadOf({ path: '/usr/bin/unknownd', args: [], from: 'u', userArgs: false, socket: { name: 'unknownd.socket', ports: [7000] } });
    assert.deepEqual(socketed.healthcheck, { tcp: 7000 });
    assert.ok(socketed.choices.some((c) => c.key === 'ports' && /ListenStream= of unknownd\.socket/.test(c.why)));
    const args = workloadOf({ path: '/usr/sbin/exim4', args: ['-bd', '-oX', '2525', '--port', '2526'], from: 'u', userArgs: true });
    assert.deepEqual(args.healthcheck, { smtp: 2526 }, 'the generic --port is read for a program whose entry names no option; the check stays SMTP');
    assert.deepEqual(workloadOf({ path: '/usr/sbin/exim4', args: ['-bd'], from: 'u', userArgs: false }).healthcheck, { smtp: 25 });
    assert.deepEqual(workloadOf({ path: '/usr/sbin/dovecot', args: [], from: 'u', userArgs: false }).healthcheck, { imap: 143 });
    const udp = workloadOf({ path: '/usr/sbin/kea-dhcp4', args: [], from: 'u', userArgs: false });
    assert.deepEqual(udp.ports, ['67/udp']);
    assert.match(udp.notes.join('\n'), /listens on UDP only/);
  });

  test('an ELF program calling system(), or execl() with "/bin/sh", needs dash; one calling execl() on another program does not', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'jeos-shell-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const compile = async (name: string, source: string) => {
      await writeFile(join(dir, `${name}.c`), source);
      await run('cc', ['-O0', '-o', join(dir, name), join(dir, `${name}.c`)]);
      return readFile(join(dir, name));
    };
    try {
      await run('cc', ['--version']);
    } catch {
      return t.skip('no C compiler (cc) to build the test programs');
    }
    const system = await compile('system', '#include <stdlib.h>\nint main(void) { return system("true"); }\n');
    assert.match(interpreterNeed('/usr/sbin/d', system)!.why, /imports system\(\), which runs its command with \/bin\/sh/);
    const sh = await compile('sh', '#include <unistd.h>\nint main(void) { return execl("/bin/sh", "sh", "-c", "true", (char *)0); }\n');
    assert.match(interpreterNeed('/usr/sbin/d', sh)!.why, /imports execl\(\) and names \/bin\/sh/);
    const other = await compile('other', '#include <unistd.h>\nint main(void) { return execl("/usr/bin/true", "true", (char *)0); }\n');
    assert.equal(interpreterNeed('/usr/sbin/d', other), undefined);
  });

  test('the shell a command needs: a shell command, a #! script for sh or env', () => {
    assert.equal(shellCommand(['/bin/sh', '-c', 'x'])?.package, 'dash');
    assert.equal(shellCommand(['/usr/bin/bash', '-c', 'x'])?.package, 'bash');
    assert.equal(shellCommand(['/usr/bin/python3', 'x']), undefined);
    assert.equal(interpreterNeed('/usr/sbin/wrap', Buffer.from('#!/bin/sh -e\nexec x\n'))?.package, 'dash');
    assert.equal(interpreterNeed('/usr/sbin/wrap', Buffer.from('#!/usr/bin/env bash\n'))?.package, 'coreutils');
    assert.equal(interpreterNeed('/usr/sbin/tool', Buffer.from('#!/usr/bin/perl\n')), undefined, 'perl is a declared dependency, not Essential');
    assert.equal(interpreterNeed('/usr/sbin/d', buildElf({ needed: ['libc.so.6'] })), undefined, 'an ELF file that runs nothing');
    const w = workloadOf({ path: '/bin/sh', args: ['-c', 'x'], from: 'u', userArgs: false, needs: [{ key: 'package', value: 'dash', why: 'sh -c' }] });
    assert.deepEqual(w.packages, ['dash']);
  });
});

test("a unit's ExecStartPre= that only checks the configuration is not a first-start step", () => {
  assert.equal(isConfigCheck(['/usr/sbin/nginx', '-t', '-q', '-g', 'daemon on; master_process on;'], '/usr/sbin/nginx'), true);
  assert.equal(isConfigCheck(['/usr/sbin/sshd', '-t'], '/usr/sbin/sshd'), true);
  assert.equal(isConfigCheck(['/usr/bin/named-checkconf', '/etc/bind/named.conf'], '/usr/sbin/named'), true);
  assert.equal(isConfigCheck(['-/usr/sbin/apache2ctl', 'configtest'], '/usr/sbin/apache2'), true);
  assert.equal(isConfigCheck(['/usr/sbin/nsd-control-setup'], '/usr/sbin/nsd'), false);
  assert.equal(isConfigCheck(['/usr/bin/other', '-t'], '/usr/sbin/nginx'), false, "another program's -t is not known to be a check");
  assert.equal(isConfigCheck(['/usr/sbin/haproxy', '-c', '-f', '/etc/haproxy/haproxy.cfg'], '/usr/sbin/haproxy'), false);
});
