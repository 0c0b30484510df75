// The parts of jeos init that read text: systemd's [Service] section, command lines,
// and ports named by a program's arguments.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatCommandLine, knownProgram, parseService, portFromArgs, splitCommandLine } from '../../src/init/index.js';
import { parseConfig } from '../../src/config/load.js';
import { renderConfig } from '../../src/init/render.js';

describe('jeos init parsing', () => {
  test('ExecStart= as systemd reads it: prefixes, quotes, continuation lines, resets, $VAR words, User= and Type=', () => {
    const s = parseService(`[Unit]
ExecStart=/wrong
[Service]
Type=forking
ExecStart=/usr/bin/old
ExecStart=
ExecStart=-/usr/sbin/nginx -g 'daemon on; master_process on;' \\
  $DAEMON_OPTS \${MORE}
ExecStart=/usr/bin/second
User=www-data
[Install]
WantedBy=multi-user.target
`);
    assert.deepEqual(s.execStart, ['/usr/sbin/nginx', '-g', 'daemon on; master_process on;', '$DAEMON_OPTS', '${MORE}'], 'variables are expand.ts\'s job');
    assert.equal(s.user, 'www-data');
    assert.equal(s.type, 'forking');
    assert.deepEqual(parseService('[Service]\nExecStart=@/usr/bin/real argv0 --flag\n').execStart, ['/usr/bin/real', '--flag']);
    assert.equal(parseService('[Service]\nExecStart=/x\nExecStart=\n').execStart, undefined);
  });

  test('command lines split like a shell without variables, and format back to the same words', () => {
    const words = splitCommandLine(`redis-server --port 6380 "a b" 'c "d"' e\\ f`);
    assert.deepEqual(words, ['redis-server', '--port', '6380', 'a b', 'c "d"', 'e f']);
    assert.deepEqual(splitCommandLine(formatCommandLine(words)), words);
    assert.deepEqual(splitCommandLine(formatCommandLine(['x', "it's", ''])), ['x', "it's", '']);
    assert.throws(() => splitCommandLine('a "b'), /unterminated " quote/);
  });

  test('ports from arguments: the table\'s option, positional for http.server, the generic options otherwise', () => {
    assert.equal(portFromArgs(['--port', '6380'], knownProgram('/usr/bin/redis-server', [])), 6380);
    assert.equal(portFromArgs(['-p', '11311'], knownProgram('/usr/bin/memcached', [])), 11311);
    assert.equal(portFromArgs(['--port', '99'], knownProgram('/usr/bin/memcached', [])), undefined, 'memcached sets its port with -p');
    const py = ['-m', 'http.server', '--bind', '0.0.0.0', '8123'];
    assert.equal(portFromArgs(py, knownProgram('/usr/bin/python3.13', py)), 8123);
    assert.equal(knownProgram('/usr/bin/python3.13', py)?.argsStart?.[1], 'http.server', 'versioned interpreter names match');
    assert.equal(portFromArgs(['--listen-port=8443'], undefined), 8443);
    assert.equal(portFromArgs(['--port', '70000'], undefined), undefined);
    assert.equal(portFromArgs(['serve', '8080'], undefined), undefined, 'a bare number is a port only where the table says so');
  });

  test('the rendered jeos.yaml loads, notes become comments, and lists of values stay on one line', () => {
    const text = renderConfig(
      {
        source: { kind: 'command', from: 'x --port 1', argv: ['/usr/bin/x', '--port', '1'] },
        name: 'x',
        description: 'x',
        packages: ['x'],
        command: ['/usr/bin/x', '-g', 'daemon off;', '#not a comment'],
        pre: [],
        env: { LD_LIBRARY_PATH: '/opt/lib' },
        ports: [1],
        healthcheck: { http: 'http://localhost:1/', status: 401 },
        inline: [{ path: '/srv/a', content: 'a: b\n' }],
        hostFiles: [{ hostPath: '/opt/x', path: '/opt/x', mode: '0755' }],
        choices: [],
        notes: ['check this'],
      },
      { suites: ['trixie'], architecture: 'amd64', outputs: ['tar'] },
    );
    assert.match(text, /^# Note: check this$/m);
    assert.match(text, /suites: \[trixie\]/);
    const config = parseConfig(text);
    assert.deepEqual(config.workload.command, ['/usr/bin/x', '-g', 'daemon off;', '#not a comment']);
    assert.deepEqual(config.workload.files.map((f) => [f.path, f.source ?? f.content, f.mode]), [['/srv/a', 'a: b\n', '0644'], ['/opt/x', 'files/opt/x', '0755']]);
    assert.equal(config.workload.healthcheck?.status, 401);
  });
});
