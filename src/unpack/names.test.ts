import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JeosError } from '../errors.js';
import { ImageTree } from '../tree/index.js';
import { handDeb, type HandEntry } from '../../test/support/unpack/test-helpers.js';
import { unpackPackages, type DebInput, type UnpackOptions } from './unpack.js';

function hand(name: string, entries: HandEntry[]): DebInput {
  return { label: `${name}_1.0_amd64`, bytes: handDeb({ name, entries: [{ name: './', type: '5', mode: 0o755 }, ...entries] }) };
}

async function unpack(debs: DebInput[], options: Partial<UnpackOptions> = {}) {
  const tree = new ImageTree();
  const result = await unpackPackages(tree, debs, { architecture: 'amd64', ...options });
  return { tree, result };
}

async function rejects(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof JeosError, `expected a JeosError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `message ${JSON.stringify(e.message)} should mention ${m}`);
    assert.ok(!/[\n\r\u0001]/.test(e.message), 'the message holds the name escaped, on one line');
    assert.ok(e.hint);
    return true;
  });
}

/** A long name goes into a PAX header, as GNU tar and dpkg-deb write it. */
const long = (name: string, entry: Omit<HandEntry, 'name'> = {}): HandEntry => ({ ...entry, name: './placeholder', pax: { path: name } });

test('a newline in an entry name is refused: it would forge the line-based dpkg file list', async () => {
  // What the attacker wants /var/lib/dpkg/info/evil.list to say: "/usr/bin/evil\n/etc/shadow".
  await rejects(
    unpack([hand('evil', [long('./usr/bin/evil\n/etc/shadow', { data: 'x' })])]),
    'E_DEB_BAD_NAME',
    'evil_1.0_amd64',
    '"./usr/bin/evil\\n/etc/shadow"',
    'U+000A',
  );
});

test('other control characters in names, and in hard link targets, are refused', async () => {
  for (const bad of ['\u0001', '\r', '\t', '\u001b', '\u007f']) {
    await rejects(unpack([hand('ctl', [long(`./usr/bin/a${bad}b`, { data: 'x' })])]), 'E_DEB_BAD_NAME', 'ctl_1.0_amd64', 'control character');
  }
  await rejects(
    unpack([hand('hl', [{ name: './usr/bin/a', data: 'x' }, { name: './usr/bin/b', type: '1', pax: { linkpath: './usr/bin/a\nx' } }])]),
    'E_DEB_BAD_NAME',
    'hl_1.0_amd64',
    'hard link target',
  );
  // Names that are merely unusual are kept.
  const { tree } = await unpack([hand('fine', [{ name: './usr/share/a b ü', data: 'x' }])]);
  assert.equal(tree.get('usr/share/a b ü')?.kind, 'file');
});

test('a component over NAME_MAX (255 bytes) and a path over PATH_MAX (4096 with its NUL) are refused', async () => {
  const ok255 = 'n'.repeat(255);
  const { tree } = await unpack([hand('max', [long(`./usr/share/${ok255}`, { data: 'x' })])]);
  assert.equal(tree.get(`usr/share/${ok255}`)?.kind, 'file', '255 bytes is allowed');
  await rejects(unpack([hand('name', [long(`./usr/share/${'n'.repeat(256)}`, { data: 'x' })])]), 'E_DEB_NAME_TOO_LONG', 'name_1.0_amd64', '256 bytes', 'NAME_MAX');
  // 255 bytes of multi-byte characters are far fewer characters: bytes are what count.
  await rejects(unpack([hand('utf', [long(`./usr/share/${'ü'.repeat(128)}`, { data: 'x' })])]), 'E_DEB_NAME_TOO_LONG', '256 bytes');

  const deep = (bytes: number) => {
    // "/" + components of 200 bytes joined by "/", to exactly `bytes` bytes as an absolute path.
    const parts: string[] = [];
    let length = 0;
    while (length < bytes) {
      const take = Math.min(200, bytes - length - 1);
      parts.push('d'.repeat(Math.max(1, take)));
      length += 1 + Math.max(1, take);
    }
    return parts.join('/');
  };
  assert.equal(Buffer.byteLength(`/${deep(4095)}`), 4095);
  const fits = await unpack([hand('fits', [long(`./${deep(4095)}`, { data: 'x' })])]);
  assert.equal(fits.tree.get(deep(4095))?.kind, 'file', 'a 4095-byte path is allowed');
  await rejects(unpack([hand('path', [long(`./${deep(4096)}`, { data: 'x' })])]), 'E_DEB_NAME_TOO_LONG', 'path_1.0_amd64', '4096 bytes', 'PATH_MAX');
  await rejects(
    unpack([hand('link', [{ name: './usr/bin/l', type: '2', pax: { linkpath: 'x'.repeat(4096) } }])]),
    'E_DEB_NAME_TOO_LONG',
    'link_1.0_amd64',
    'symlink target',
  );
});

test('device nodes and FIFOs are refused unless unpack.allowDevices keeps them', async () => {
  const cases: Array<[HandEntry, string]> = [
    [{ name: './dev/null', type: '3', mode: 0o666, devmajor: 1, devminor: 3 }, 'a char device (1:3)'],
    [{ name: './dev/sda', type: '4', mode: 0o660, devmajor: 8, devminor: 0 }, 'a block device (8:0)'],
    [{ name: './run/initctl', type: '6', mode: 0o600 }, 'a FIFO'],
  ];
  for (const [entry, what] of cases) {
    await rejects(unpack([hand('dev', [entry])]), 'E_DEB_SPECIAL_FILE', 'dev_1.0_amd64', JSON.stringify(entry.name), what, 'Debian Policy');
    const { tree } = await unpack([hand('dev', [entry])], { allowDevices: true });
    assert.ok(['char', 'block', 'fifo'].includes(tree.get(entry.name.slice(2))?.kind ?? ''), `${entry.name} kept with allowDevices`);
  }
});
