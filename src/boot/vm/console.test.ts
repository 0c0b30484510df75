import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cleanLine, ConsoleLog, failedUnitOf, stripAnsi } from './console.js';

const enc = (s: string) => Buffer.from(s, 'utf8');
/** systemd's coloured status line, as it reaches a serial console. */
const FAILED_NGINX = '[\x1b[0;1;31mFAILED\x1b[0m] Failed to start \x1b[0;1;39mnginx.service\x1b[0m - A high performance web server and a reverse proxy server.\r\n';

describe('console lines', () => {
  test('ANSI colours, cursor moves and carriage returns are removed', () => {
    assert.equal(stripAnsi('\x1b[0;32m  OK  \x1b[0m'), '  OK  ');
    assert.equal(cleanLine('\x1b[K[  OK  ] Reached target\r'), '[  OK  ] Reached target');
    assert.equal(cleanLine('a\x1b]0;title\x07b'), 'ab');
    assert.equal(cleanLine('tab\there\x00'), 'tab\there');
  });

  test('a [FAILED] line names the unit; older systemd names only the description', () => {
    assert.equal(failedUnitOf(cleanLine(FAILED_NGINX)), 'nginx.service');
    assert.equal(failedUnitOf('[FAILED] Failed to start systemd-networkd.service.'), 'systemd-networkd.service');
    assert.equal(failedUnitOf('[FAILED] Failed to start A high performance web server.'), 'A high performance web server');
    assert.equal(failedUnitOf('[  OK  ] Started nginx.service - nginx.'), undefined);
    assert.equal(failedUnitOf('nginx: [emerg] unknown directive "x"'), undefined);
  });
});

describe('ConsoleLog', () => {
  test('markers: the first byte, the Linux version line and the run of /init, each at its first arrival', () => {
    const log = new ConsoleLog();
    log.feed(enc('[    0.000000] Linux version 6.12.117+deb13-cloud-amd64 (builder@example.invalid)'), 120);
    assert.equal(log.markers.kernel, 120);
    assert.equal(log.markers.linuxVersion, null, 'the line is not complete yet');
    log.feed(enc(' #1 SMP\r\n[    1.2] Run /init as init process\r\n'), 900);
    assert.deepEqual(log.markers, { kernel: 120, linuxVersion: 900, userspace: 900 });
    log.feed(enc('Run /init as init process\n'), 2000);
    assert.equal(log.markers.userspace, 900);
  });

  test('lines split across chunks, and a UTF-8 character split across chunks, come out whole', () => {
    const seen: Array<[number, string]> = [];
    const log = new ConsoleLog(60, (l) => seen.push([l.ms, l.text]));
    const bytes = enc('Reached target multi-user.target – Multi-User System.\r\n');
    const dash = bytes.indexOf(0xe2);
    log.feed(bytes.subarray(0, dash + 1), 10);
    log.feed(bytes.subarray(dash + 1), 20);
    assert.deepEqual(seen, [[20, 'Reached target multi-user.target – Multi-User System.']]);
  });

  test('failed units from coloured [FAILED] lines, each once, in order', () => {
    const log = new ConsoleLog();
    log.feed(enc(FAILED_NGINX), 1);
    log.feed(enc('[\x1b[0;1;31mFAILED\x1b[0m] Failed to start \x1b[0;1;39mfoo.service\x1b[0m - Foo.\r\n'), 2);
    log.feed(enc(FAILED_NGINX), 3);
    assert.deepEqual(log.failedUnits, ['nginx.service', 'foo.service']);
  });

  test('the tail keeps the last lines, cleaned, and a line still being written', () => {
    const log = new ConsoleLog(3);
    for (let i = 1; i <= 5; i++) log.feed(enc(`\x1b[1mline ${i}\x1b[0m\r\n`), i);
    log.feed(enc('partial'), 6);
    assert.equal(log.tail(), 'line 4\nline 5\npartial');
    log.end(7);
    assert.equal(log.tail(), 'line 4\nline 5\npartial');
    assert.equal(log.tail(1), 'partial');
  });
});
