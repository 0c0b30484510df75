import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostsFor } from './hosts.js';

// netbase 6.5's /etc/hosts, as it ships.
const NETBASE = '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n';

test('/etc/hosts names the VM\'s host name: written when no package ships one, added as 127.0.1.1 after localhost to netbase\'s, left alone when it is there', () => {
  assert.equal(hostsFor(undefined, 'tinyproxy'), '127.0.0.1\tlocalhost\n127.0.1.1\ttinyproxy\n::1\tlocalhost ip6-localhost ip6-loopback\n');
  assert.equal(hostsFor(NETBASE, 'tinyproxy'), `127.0.0.1\tlocalhost\n127.0.1.1\ttinyproxy\n${NETBASE.slice(NETBASE.indexOf('::1'))}`);
  assert.equal(hostsFor('127.0.1.1 web web.example\n', 'web'), undefined);
  assert.equal(hostsFor('# 127.0.1.1 web\n', 'web'), '# 127.0.1.1 web\n127.0.1.1\tweb\n', 'a comment does not name it');
  assert.equal(hostsFor('::1 localhost', 'web'), '::1 localhost\n127.0.1.1\tweb\n');
});
