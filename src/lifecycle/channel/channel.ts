/**
 * Reading a channel directory and changing it as one transaction (layout.ts says where each
 * file lives). A change writes the new version's payloads first (each by rename), then a new
 * generation directory `state.<n+1>/` with every release file, SHA256SUMS and its signature,
 * then the symlinks a client fetches through, and last swaps the `state` symlink by one rename.
 * A reader resolving names before the swap sees the old SHA256SUMS, signature and releases;
 * after it, the new ones; payloads of a version not yet listed are never asked for. A change
 * killed at any point leaves the old state, and the next change overwrites what it left.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PrivateKey, PublicKey } from 'openpgp';
import { compareVersions } from '../../archive/version.js';
import { JeosError } from '../../errors.js';
import { sha256 } from '../../util/hash.js';
import { crashPoint } from './crash.js';
import { fingerprintOf, signDetached, verifyDetached } from './keys.js';
import { CHANNEL_LOCK, formatSums, parseSums, STATE_LINK, STATE_PREFIX, SUMS, SUMS_SIG, versionFiles, versionOfFile, type SumsLine } from './layout.js';
import { parseRelease, releaseText, type Release } from './release.js';

export interface ChannelRelease {
  release: Release;
  text: Buffer;
  sig: Buffer;
}

export interface ChannelState {
  dir: string;
  /** The generation `state` points at; 0 for a channel nothing was published to. */
  generation: number;
  sums: SumsLine[];
  /** Published versions, oldest first. */
  versions: string[];
  releases: Map<string, ChannelRelease>;
}

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * The channel as a reader sees it: `state` resolved once, SHA256SUMS checked against its
 * signature when a key is given (a channel signed by another key, or changed, is refused), the
 * release files checked against SHA256SUMS.
 */
export async function readChannel(dir: string, options: { key?: PublicKey } = {}): Promise<ChannelState> {
  const link = await readlink(join(dir, STATE_LINK)).catch((e) => {
    if (isMissing(e)) return undefined;
    throw e;
  });
  if (link === undefined) {
    if (!(await stat(dir).catch(() => undefined))?.isDirectory() && (await stat(dir).catch(() => undefined))) {
      throw new JeosError('E_CHANNEL_NOT_DIR', `${dir} is not a directory`, { hint: 'a channel is a directory: name one (it is made on the first publish)' });
    }
    if (await stat(join(dir, SUMS)).catch(() => undefined)) {
      throw new JeosError('E_CHANNEL_LAYOUT', `${dir} has a SHA256SUMS but no state link: it was not written by jeos publish`, { hint: 'publish into an empty directory' });
    }
    return { dir, generation: 0, sums: [], versions: [], releases: new Map() };
  }
  const m = new RegExp(`^${STATE_PREFIX.replace('.', '[.]')}(\\d+)$`).exec(link);
  if (!m) throw new JeosError('E_CHANNEL_LAYOUT', `${join(dir, STATE_LINK)} points at ${link}, not a state.<n> directory`, { hint: 'the channel was changed by hand: publish from a good copy' });
  const gen = join(dir, link);
  const sumsText = await readFile(join(gen, SUMS));
  const sig = await readFile(join(gen, SUMS_SIG));
  if (options.key && !(await verifyDetached(sumsText, sig, options.key))) {
    throw new JeosError('E_CHANNEL_SIGNATURE', `${join(dir, SUMS)} is not signed by key ${fingerprintOf(options.key)}`, {
      hint: 'the channel was signed with another key, or SHA256SUMS was changed: use the channel\'s own key directory (a channel keeps one key)',
    });
  }
  const sums = parseSums(sumsText.toString('utf8'), join(dir, SUMS));
  const versions = [...new Set(sums.map((l) => versionOfFile(l.name)).filter((v): v is string => !!v))].sort(compareVersions);
  const releases = new Map<string, ChannelRelease>();
  for (const v of versions) {
    const f = versionFiles(v);
    const listed = sums.find((l) => l.name === f.release);
    if (!listed) throw new JeosError('E_CHANNEL_LAYOUT', `${join(dir, SUMS)} lists files of ${v} but not ${f.release}`, { hint: 'the channel was changed by hand: publish from a good copy' });
    const text = await readFile(join(gen, f.release));
    if (sha256(text) !== listed.sha256) {
      throw new JeosError('E_CHANNEL_TAMPERED', `${join(dir, f.release)} does not match its SHA-256 in SHA256SUMS`, { hint: 'the release file was changed after signing: publish from a good copy' });
    }
    releases.set(v, { release: parseRelease(text.toString('utf8'), join(dir, f.release)), text, sig: await readFile(join(gen, f.releaseSig)) });
  }
  return { dir, generation: Number(m[1]), sums, versions, releases };
}

/** A payload of the channel, read and checked against SHA256SUMS. */
export async function readPayload(state: ChannelState, name: string): Promise<Buffer> {
  const listed = state.sums.find((l) => l.name === name);
  if (!listed) throw new JeosError('E_CHANNEL_NO_FILE', `${state.dir}'s SHA256SUMS does not list ${name}`, { hint: 'name a version the channel holds (jeos publish lists them)' });
  const data = await readFile(join(state.dir, name)).catch((e: NodeJS.ErrnoException) => {
    throw new JeosError('E_CHANNEL_NO_FILE', `cannot read ${join(state.dir, name)}: ${e.code ?? e.message}`, { hint: 'the channel is incomplete: publish from a good copy' });
  });
  if (sha256(data) !== listed.sha256) {
    throw new JeosError('E_CHANNEL_TAMPERED', `${join(state.dir, name)} does not match its SHA-256 in SHA256SUMS`, { hint: 'the payload was changed after signing: publish the version again from its build' });
  }
  return data;
}

/** One writer at a time: a lock file holding the writer's pid; a dead writer's lock is taken over. */
async function lockChannel(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, CHANNEL_LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      let alive = false;
      try {
        alive = pid > 0 && process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (alive) {
        throw new JeosError('E_CHANNEL_BUSY', `${dir} is being changed by process ${pid}`, { hint: 'wait for that jeos publish or promote to finish' });
      }
      await rm(path, { force: true });
    }
  }
  throw new JeosError('E_CHANNEL_BUSY', `cannot lock ${dir}`, { hint: `remove ${path} if no jeos publish is running` });
}

async function writeDurable(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { flush: true });
  await rename(tmp, path);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function ensureLink(path: string, target: string): Promise<void> {
  const now = await readlink(path).catch(() => undefined);
  if (now === target) return;
  const tmp = `${path}.tmp-${process.pid}`;
  await rm(tmp, { force: true });
  await symlink(target, tmp);
  await rename(tmp, path);
}

/**
 * Remove what earlier generations and interrupted changes left: other state.<n> directories,
 * temporaries, and payloads SHA256SUMS does not list (a killed publish's, of a version that
 * never went out). Only under the channel's lock.
 */
async function tidy(dir: string, generation: string, listed: Set<string>): Promise<void> {
  for (const name of await readdir(dir)) {
    const stale = (name.startsWith(STATE_PREFIX) && name !== generation) || /\.tmp-\d+$/.test(name);
    const orphan = versionOfFile(name.replace(/\.gpg$/, '')) !== undefined && !listed.has(name.replace(/\.gpg$/, ''));
    if (stale || orphan) await rm(join(dir, name), { recursive: true, force: true });
  }
}

export interface ChannelChange {
  /** `publish`, `promote` or `resign`: the crash hook's prefix and the messages'. */
  operation: string;
  /** Payload files to add (immutable: a name already listed is refused). */
  payloads: Array<{ name: string; data: Uint8Array }>;
  /** Release files to write, new or replacing the one of the same version. */
  releases: Release[];
  /** The time the signatures carry. */
  now: Date;
}

/**
 * Apply a change under the channel's lock. `plan` gets the current state, verified with the
 * key's public half, and returns the change or throws a refusal; nothing is written before it
 * returns.
 */
export async function changeChannel(dir: string, key: PrivateKey, plan: (state: ChannelState) => Promise<ChannelChange>): Promise<ChannelState> {
  await mkdir(dir, { recursive: true });
  const unlock = await lockChannel(dir);
  try {
    const state = await readChannel(dir, { key: key.toPublic() });
    await tidy(dir, `${STATE_PREFIX}${state.generation}`, new Set(state.sums.map((l) => l.name)));
    const change = await plan(state);
    const at = (point: string) => crashPoint(change.operation, point);
    const listed = new Map(state.sums.map((l) => [l.name, l]));

    for (const p of change.payloads) {
      if (listed.has(p.name)) throw new JeosError('E_CHANNEL_EXISTS', `${join(dir, p.name)} is published already`, { hint: 'a published file never changes: publish a new version' });
    }
    for (const [i, p] of change.payloads.entries()) {
      await writeDurable(join(dir, p.name), p.data);
      if (i === 0) at('first-payload');
    }
    await syncDir(dir);
    at('payloads');

    // The next generation: every release (the changed ones anew), SHA256SUMS over all, signed.
    const generation = state.generation + 1;
    const genName = `${STATE_PREFIX}${generation}`;
    const tmpGen = join(dir, `${genName}.tmp-${process.pid}`);
    await rm(tmpGen, { recursive: true, force: true });
    await rm(join(dir, genName), { recursive: true, force: true });
    await mkdir(tmpGen);
    const releases = new Map<string, { text: Buffer; sig: Buffer }>([...state.releases].map(([v, r]) => [v, { text: r.text, sig: r.sig }]));
    for (const r of change.releases) {
      const text = Buffer.from(releaseText(r));
      releases.set(r.version, { text, sig: await signDetached(text, key, change.now) });
    }
    const sums = new Map(state.sums.map((l) => [l.name, l]));
    for (const p of change.payloads) sums.set(p.name, { name: p.name, sha256: sha256(p.data) });
    for (const [v, r] of releases) {
      const f = versionFiles(v);
      await writeFile(join(tmpGen, f.release), r.text, { flush: true });
      await writeFile(join(tmpGen, f.releaseSig), r.sig, { flush: true });
      sums.set(f.release, { name: f.release, sha256: sha256(r.text) });
    }
    const sumsText = Buffer.from(formatSums([...sums.values()]));
    await writeFile(join(tmpGen, SUMS), sumsText, { flush: true });
    await writeFile(join(tmpGen, SUMS_SIG), await signDetached(sumsText, key, change.now), { flush: true });
    await syncDir(tmpGen);
    await rename(tmpGen, join(dir, genName));
    at('state');

    // The names a client fetches, through `state` (dangling until the swap for a new version: it is not listed yet).
    for (const name of [SUMS, SUMS_SIG]) await ensureLink(join(dir, name), `${STATE_LINK}/${name}`);
    for (const v of releases.keys()) {
      const f = versionFiles(v);
      for (const name of [f.release, f.releaseSig]) await ensureLink(join(dir, name), `${STATE_LINK}/${name}`);
    }
    await syncDir(dir);
    at('links');

    await ensureLink(join(dir, STATE_LINK), genName);
    await syncDir(dir);
    at('switched');

    await tidy(dir, genName, new Set(sums.keys()));
    return await readChannel(dir, { key: key.toPublic() });
  } finally {
    await unlock();
  }
}
