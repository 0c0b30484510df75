/**
 * A channel's OpenPGP signing key: `channel.key` (secret, mode 0600) and `channel.pub`
 * (public, ASCII-armoured), made and used with the openpgp package, so the host needs no gpg.
 * The key is a v4 EdDSA (ed25519) key: the kind the gpg program in Debian (2.2 and 2.4) verifies,
 * which is what systemd-sysupdate runs on SHA256SUMS.gpg.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { JeosError } from '../../errors.js';

export const PUBLIC_KEY_FILE = 'channel.pub';
export const SECRET_KEY_FILE = 'channel.key';

export interface KeyPairInfo {
  dir: string;
  publicKey: string;
  secretKey: string;
  fingerprint: string;
  userId: string;
}

/** Write a new key pair into `dir` (made if missing); never over an existing key. */
export async function newKeyPair(dir: string, options: { name?: string; now?: Date } = {}): Promise<KeyPairInfo> {
  const userId = `${options.name ?? 'jeos channel'} <channel@jeos.invalid>`;
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs: [{ name: options.name ?? 'jeos channel', email: 'channel@jeos.invalid' }],
    format: 'armored',
    ...(options.now ? { date: options.now } : {}),
  });
  await mkdir(dir, { recursive: true });
  const secretPath = join(dir, SECRET_KEY_FILE);
  const publicPath = join(dir, PUBLIC_KEY_FILE);
  for (const p of [secretPath, publicPath]) {
    if (await stat(p).catch(() => undefined)) {
      throw new JeosError('E_KEY_EXISTS', `${p} exists already`, {
        hint: 'jeos key new never overwrites a key: images that follow the channel trust it. Choose another --out directory',
      });
    }
  }
  // O_EXCL: a key appearing meanwhile is not overwritten either; the secret is 0600 from its first byte.
  const write = async (path: string, text: string, mode: number) => {
    const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode).catch((e: NodeJS.ErrnoException) => {
      throw new JeosError(e.code === 'EEXIST' ? 'E_KEY_EXISTS' : 'E_KEY_WRITE', `cannot write ${path}: ${e.code ?? e.message}`, {
        hint: e.code === 'EEXIST' ? 'jeos key new never overwrites a key: choose another --out directory' : 'check the directory\'s permissions',
      });
    });
    try {
      await fh.writeFile(text);
      await fh.chmod(mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
  };
  await write(secretPath, privateKey, 0o600);
  await write(publicPath, publicKey, 0o644);
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return { dir, publicKey: publicPath, secretKey: secretPath, fingerprint: key.getFingerprint().toUpperCase(), userId };
}

/** The secret key of a key directory (`jeos key new --out DIR`). */
export async function readSigningKey(dir: string): Promise<openpgp.PrivateKey> {
  const path = join(dir, SECRET_KEY_FILE);
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new JeosError('E_KEY_MISSING', `cannot read ${path}: ${e.code ?? e.message}`, {
      hint: 'pass --key DIR, a directory jeos key new --out DIR wrote (channel.key and channel.pub)',
    });
  });
  try {
    const key = await openpgp.readPrivateKey({ armoredKey: text });
    if (!key.isDecrypted()) throw new Error('the key is protected by a passphrase');
    return key;
  } catch (e) {
    throw new JeosError('E_KEY_INVALID', `${path} is not an unprotected OpenPGP secret key: ${(e as Error).message}`, {
      hint: 'use the channel.key jeos key new wrote',
      cause: e,
    });
  }
}

/** A public key: channel.pub, or the channel.pub of a key directory. */
export async function readPublicKey(path: string): Promise<openpgp.PublicKey> {
  const file = (await stat(path).catch(() => undefined))?.isDirectory() ? join(path, PUBLIC_KEY_FILE) : path;
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new JeosError('E_KEY_MISSING', `cannot read ${file}: ${e.code ?? e.message}`, { hint: 'name channel.pub, or the directory jeos key new wrote' });
  });
  try {
    return await openpgp.readKey({ armoredKey: text });
  } catch (e) {
    throw new JeosError('E_KEY_INVALID', `${file} is not an OpenPGP public key: ${(e as Error).message}`, { hint: 'use the channel.pub jeos key new wrote', cause: e });
  }
}

/** A detached, binary signature of `data` (what gpg --verify SIG DATA checks). */
export async function signDetached(data: Uint8Array, key: openpgp.PrivateKey, date?: Date): Promise<Buffer> {
  const message = await openpgp.createMessage({ binary: data });
  const sig = await openpgp.sign({ message, signingKeys: key, detached: true, format: 'binary', ...(date ? { date } : {}) });
  return Buffer.from(sig as Uint8Array);
}

/** Whether `sig` is a good signature of `data` by `key`. */
export async function verifyDetached(data: Uint8Array, sig: Uint8Array, key: openpgp.PublicKey): Promise<boolean> {
  try {
    const signature = await openpgp.readSignature({ binarySignature: sig });
    const message = await openpgp.createMessage({ binary: data });
    const result = await openpgp.verify({ message, signature, verificationKeys: key, format: 'binary' });
    for (const s of result.signatures) await s.verified;
    return result.signatures.length > 0;
  } catch {
    return false;
  }
}

export function fingerprintOf(key: openpgp.PublicKey | openpgp.PrivateKey): string {
  return key.getFingerprint().toUpperCase();
}

/**
 * The keyring an image that follows the channel carries (/etc/systemd/import-pubring.gpg):
 * channel.pub's key alone, binary (what `gpg --dearmor` makes), which the gpg program
 * systemd-sysupdate runs reads with --keyring. A secret key is refused: it never goes into an image.
 */
export async function imageKeyring(armored: string, what: string): Promise<{ keyring: Buffer; fingerprint: string }> {
  let key: openpgp.Key;
  try {
    key = await openpgp.readKey({ armoredKey: armored });
  } catch (e) {
    throw new JeosError('E_UPDATE_KEY_INVALID', `${what} is not an OpenPGP public key: ${(e as Error).message}`, {
      hint: 'name the channel.pub jeos key new wrote (ASCII-armoured), inside the project',
      cause: e,
    });
  }
  if (key.isPrivate()) {
    throw new JeosError('E_UPDATE_KEY_SECRET', `${what} is a secret key`, {
      hint: 'update.key names the channel\'s public key (channel.pub); channel.key stays on the publishing machine',
    });
  }
  return { keyring: Buffer.from(key.write()), fingerprint: fingerprintOf(key) };
}
