// gpg --verify as systemd-sysupdate runs it, with a throwaway GNUPGHOME whose keyring holds only one channel.pub.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export function gpgVerify(pubArmored: string, sig: string, data: string, home: string): { ok: boolean; out: string } {
  const env = { ...process.env, GNUPGHOME: home };
  const keyring = join(home, 'channel.gpg');
  const imp = spawnSync('gpg', ['--batch', '--no-default-keyring', '--keyring', keyring, '--import'], { input: pubArmored, env });
  assert.equal(imp.status, 0, imp.stderr.toString());
  const r = spawnSync('gpg', ['--batch', '--no-default-keyring', '--keyring', keyring, '--verify', sig, data], { env });
  return { ok: r.status === 0, out: r.stderr.toString() };
}
