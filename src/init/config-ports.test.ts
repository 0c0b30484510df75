/**
 * The port a server's own configuration names, and whether only the loopback address
 * hears it: a directive, a separate loopback directive, or no directive at all, when the
 * program's built-in default applies (radicale listens on localhost:5232 unless hosts = says
 * otherwise, and Debian's config leaves it commented out).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImageTree } from '../tree/index.js';
import { portFromConfig } from './config-ports.js';

function tree(files: Record<string, string>): ImageTree {
  const t = new ImageTree();
  for (const [path, text] of Object.entries(files)) {
    t.mkdirp(path.slice(0, path.lastIndexOf('/')));
    t.writeFile(path, text);
  }
  return t;
}

test("radicale: Debian's config without hosts = is radicale's default, localhost:5232, loopback only", () => {
  const debian = tree({ 'etc/radicale/config': '[server]\n# hosts = localhost:5232\n\n[rights]\ntype = from_file\n' });
  assert.deepEqual(portFromConfig(debian, '/usr/bin/radicale'), {
    port: 5232,
    from: "/etc/radicale/config sets no hosts, so radicale's default localhost:5232",
    loopbackOnly: true,
  });
});

test('radicale: hosts = on every address is not loopback only; no config file says nothing', () => {
  const all = tree({ 'etc/radicale/config': '[server]\nhosts = 0.0.0.0:5232\n' });
  assert.deepEqual(portFromConfig(all, '/usr/bin/radicale'), { port: 5232, from: '/etc/radicale/config: hosts = 0.0.0.0:5232', loopbackOnly: false });
  assert.equal(portFromConfig(tree({}), '/usr/bin/radicale'), undefined);
});

test('a loopback directive beside the port (pgbouncer, nats-server, valkey) is noted; every address is not', () => {
  const pgb = tree({ 'etc/pgbouncer/pgbouncer.ini': '[pgbouncer]\nlisten_addr = localhost\nlisten_port = 6432\n' });
  assert.equal(portFromConfig(pgb, '/usr/sbin/pgbouncer')?.loopbackOnly, true);
  const nats = tree({ 'etc/nats-server.conf': 'host: 127.0.0.1\nport: 4222\n' });
  assert.deepEqual(portFromConfig(nats, '/usr/sbin/nats-server'), { port: 4222, from: '/etc/nats-server.conf: port: 4222', loopbackOnly: true });
  const valkey = tree({ 'etc/valkey/valkey.conf': 'bind * -::*\nprotected-mode no\nport 6379\n' });
  assert.equal(portFromConfig(valkey, '/usr/bin/valkey-server')?.loopbackOnly, false);
});
