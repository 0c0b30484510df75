// The channel key pair against the real gpg program (which systemd-sysupdate runs on
// SHA256SUMS.gpg): a detached signature made with channel.key verifies with a keyring made
// from channel.pub, and fails with another channel's key or changed data.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { JeosError } from '../../errors.js';
import { gpgVerify } from '../../../test/support/channel/gpg.js';
import { newKeyPair, readPublicKey, readSigningKey, signDetached, verifyDetached } from './keys.js';

const skip = spawnSync('sh', ['-c', 'command -v gpg']).status !== 0 && 'gpg is not installed (apt-get install gpg)';

describe('channel keys', { skip }, () => {
  let work: string;
  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'jeos-keys-'));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  test('key new writes channel.key (0600) and an armoured channel.pub, and refuses to overwrite', async () => {
    const made = await newKeyPair(join(work, 'a'));
    assert.equal((await stat(made.secretKey)).mode & 0o777, 0o600);
    assert.match(await readFile(made.publicKey, 'utf8'), /^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    assert.match(made.fingerprint, /^[0-9A-F]{40}$/);
    const before = await readFile(made.secretKey);
    await assert.rejects(newKeyPair(join(work, 'a')), (e: unknown) => e instanceof JeosError && e.code === 'E_KEY_EXISTS');
    assert.ok((await readFile(made.secretKey)).equals(before), 'the key is untouched');
  });

  test('a detached signature verifies with gpg and a keyring from channel.pub; another key or changed data fails', async () => {
    const a = await newKeyPair(join(work, 'sign-a'));
    const b = await newKeyPair(join(work, 'sign-b'));
    const data = Buffer.from('0123  jeos-1.0.linux\n');
    const sig = await signDetached(data, await readSigningKey(a.dir));
    await writeFile(join(work, 'SHA256SUMS'), data);
    await writeFile(join(work, 'SHA256SUMS.gpg'), sig);
    const good = gpgVerify(await readFile(a.publicKey, 'utf8'), join(work, 'SHA256SUMS.gpg'), join(work, 'SHA256SUMS'), await mkdtemp(join(work, 'gh-')));
    assert.ok(good.ok, good.out);
    assert.match(good.out, /Good signature/);
    const foreign = gpgVerify(await readFile(b.publicKey, 'utf8'), join(work, 'SHA256SUMS.gpg'), join(work, 'SHA256SUMS'), await mkdtemp(join(work, 'gh-')));
    assert.ok(!foreign.ok, 'another channel\'s key does not verify it');
    assert.match(foreign.out, /No public key|public key not found/);
    await writeFile(join(work, 'SHA256SUMS'), '0124  jeos-1.0.linux\n');
    const changed = gpgVerify(await readFile(a.publicKey, 'utf8'), join(work, 'SHA256SUMS.gpg'), join(work, 'SHA256SUMS'), await mkdtemp(join(work, 'gh-')));
    assert.ok(!changed.ok);
    assert.match(changed.out, /BAD signature/);
    // jeos's own check agrees.
    assert.ok(await verifyDetached(data, sig, await readPublicKey(a.dir)));
    assert.ok(!(await verifyDetached(data, sig, await readPublicKey(b.publicKey))));
  });
});
