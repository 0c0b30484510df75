import { readFile } from 'node:fs/promises';
import type * as OpenPGP from 'openpgp';
import { JeosError } from '../errors.js';

/** The machine's Debian archive keyring (package debian-archive-keyring). */
export const DEFAULT_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

export type Keyring = OpenPGP.PublicKey[];

/** OpenPGP.js is loaded when a signature is first checked: commands that never read metadata start faster. */
const pgp = () => import('openpgp');

/** Load an OpenPGP keyring: binary (.gpg, as Debian ships it) or ASCII-armored (.asc). */
export async function loadKeyring(path: string): Promise<Keyring> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new JeosError('E_KEYRING_MISSING', `cannot read keyring ${path}`, {
      hint: path === DEFAULT_KEYRING
        ? 'install the Debian archive keyring: apt-get install debian-archive-keyring'
        : 'check the --keyring / JEOS_KEYRING path',
      cause: e,
    });
  }
  const openpgp = await pgp();
  try {
    const text = bytes.subarray(0, 64).toString('latin1');
    const keys = text.includes('-----BEGIN PGP')
      ? await openpgp.readKeys({ armoredKeys: bytes.toString('utf8') })
      : await openpgp.readKeys({ binaryKeys: new Uint8Array(bytes) });
    if (keys.length === 0) throw new Error('no keys');
    return keys;
  } catch (e) {
    throw new JeosError('E_KEYRING_INVALID', `${path} is not an OpenPGP keyring`, {
      hint: 'pass a binary (.gpg) or armored (.asc) public keyring',
      cause: e,
    });
  }
}

/**
 * Verify a clearsigned InRelease and return ONLY the signed text. At least one
 * signature must verify against the keyring (as apt requires); text outside the
 * signed part is never looked at.
 */
export async function verifyClearsigned(inRelease: string, keyring: Keyring, where: string): Promise<string> {
  return (await verifyClearsignedBy(inRelease, keyring, where)).text;
}

/**
 * verifyClearsigned, and which keys of the keyring made the signatures that verify:
 * their primary key fingerprints (upper-case hex), so a signing subkey counts as its key.
 */
export async function verifyClearsignedBy(inRelease: string, keyring: Keyring, where: string): Promise<{ text: string; signers: string[] }> {
  if (!inRelease.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) {
    throw new JeosError('E_RELEASE_UNSIGNED', `${where} is not a signed InRelease`, {
      hint: 'jeos only trusts signed metadata; point it at a mirror that serves InRelease',
    });
  }
  const openpgp = await pgp();
  let message: OpenPGP.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: inRelease });
  } catch (e) {
    throw new JeosError('E_SIGNATURE_INVALID', `${where} has a malformed signature`, {
      hint: 'the file was damaged or tampered with in transit; retry, or use another mirror',
      cause: e,
    });
  }
  try {
    const result = await openpgp.verify({ message, verificationKeys: keyring, expectSigned: true });
    const text = String(result.data);
    const signers = new Set<string>();
    for (const sig of result.signatures) {
      if (!(await sig.verified.catch(() => false))) continue;
      const key = keyring.find((k) => k.getKeys(sig.keyID).length > 0);
      if (key) signers.add(key.getFingerprint().toUpperCase());
    }
    return { text, signers: [...signers].sort() };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const unknownKey = /Could not find signing key/i.test(reason);
    throw new JeosError(
      unknownKey ? 'E_SIGNATURE_UNKNOWN_KEY' : 'E_SIGNATURE_INVALID',
      unknownKey
        ? `${where} is signed by a key that is not in the keyring`
        : `${where} has a signature that does not verify (${reason})`,
      {
        hint: unknownKey
          ? 'pass the archive\'s public key with --keyring PATH or JEOS_KEYRING, or update debian-archive-keyring'
          : 'the metadata was tampered with or damaged; retry, or use another mirror',
        cause: e,
      },
    );
  }
}
