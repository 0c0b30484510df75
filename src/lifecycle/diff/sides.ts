/**
 * What `jeos diff` compares: a jeos.lock, a project directory (its lock and, when the last
 * build was made from that lock, its manifest) or CHANNEL_DIR@VERSION (the version's lock and
 * manifest from the channel, checked against its SHA256SUMS).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { JeosError } from '../../errors.js';
import { readChannel, readPayload, versionFiles } from '../channel/index.js';
import { LOCK_FILE, parseLock, type Lock } from '../../lock/index.js';
import { MANIFEST_VERSION, readManifest, readRecord, type ImageManifest } from '../../record/index.js';
import { sha256 } from '../../util/hash.js';

export interface Side {
  /** How the user named it. */
  label: string;
  lock: Lock;
  /** The image's files, when a build or a channel version gives them. */
  manifest?: ImageManifest;
  /** Why there is no manifest. */
  noManifest?: string;
}

const exists = async (p: string) => stat(p).catch(() => undefined);

export async function readSide(arg: string): Promise<Side> {
  const at = arg.lastIndexOf('@');
  if (at > 0) {
    const dir = arg.slice(0, at);
    const version = arg.slice(at + 1);
    if ((await exists(dir))?.isDirectory()) {
      const state = await readChannel(dir);
      if (!state.versions.includes(version)) {
        throw new JeosError('E_DIFF_NO_VERSION', `${dir} holds no version ${version}`, { hint: state.versions.length ? `it holds ${state.versions.join(', ')}` : 'it is not a channel jeos publish wrote' });
      }
      const f = versionFiles(version);
      const lock = parseLock((await readPayload(state, f.lock)).toString('utf8'), join(dir, f.lock));
      const manifest = JSON.parse((await readPayload(state, f.manifest)).toString('utf8')) as ImageManifest;
      if (manifest.manifestVersion !== MANIFEST_VERSION) return { label: arg, lock, noManifest: `${f.manifest} is of another manifest version` };
      return { label: arg, lock, manifest };
    }
  }
  const st = await exists(arg);
  if (!st) throw new JeosError('E_DIFF_INPUT', `${arg} does not exist`, { hint: 'name a jeos.lock, a project directory or CHANNEL_DIR@VERSION' });
  if (st.isFile()) return { label: arg, lock: parseLock(await readFile(arg, 'utf8'), arg), noManifest: 'a lock alone has no build' };
  const lockPath = join(arg, LOCK_FILE);
  const bytes = await readFile(lockPath).catch(() => {
    throw new JeosError('E_DIFF_INPUT', `${arg} has no ${LOCK_FILE}`, { hint: 'run jeos lock in it, or name a jeos.lock or CHANNEL_DIR@VERSION' });
  });
  const lock = parseLock(bytes.toString('utf8'), lockPath);
  const out = join(arg, 'out');
  if (!(await exists(join(out, 'build.json')))) return { label: arg, lock, noManifest: 'not built yet' };
  const record = await readRecord(out);
  if (record.lockDigest !== sha256(bytes)) return { label: arg, lock, noManifest: `its last build was made from another ${LOCK_FILE}` };
  return { label: arg, lock, manifest: await readManifest(out) };
}
