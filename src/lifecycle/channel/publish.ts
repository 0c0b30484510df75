/**
 * `jeos publish`, `jeos promote` and re-signing: versions into a channel directory, through
 * changeChannel (channel.ts), which makes each change one transaction.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareVersions } from '../../archive/version.js';
import { JeosError } from '../../errors.js';
import { lockChanges, parseLock, type Lock, LOCK_FILE } from '../../lock/index.js';
import { DISK_IMG } from '../../outputs/disk/index.js';
import { MANIFEST_FILE, readManifest, readRecord } from '../../record/index.js';
import { sha256 } from '../../util/hash.js';
import { openJeosDisk } from '../disk/index.js';
import { changeChannel, readChannel, readPayload, type ChannelState } from './channel.js';
import { readPublicKey, readSigningKey } from './keys.js';
import { payloadNames, versionFiles } from './layout.js';
import { DEFAULT_VALID_DAYS, RELEASE_VERSION, validUntil, type Release } from './release.js';
import { channelEntryText } from './sysupdate.js';

export interface PublishResult {
  channel: string;
  version: string;
  previous: string | null;
  validUntil: string;
  release: Release;
  /** Every version the channel holds now, oldest first. */
  versions: string[];
}

interface Built {
  name: string;
  version: string;
  architecture: string;
  lockDigest: string;
  lock: Lock;
  payloads: Array<{ name: string; data: Buffer }>;
}

const changedSince = (what: string, hint = 'build again (jeos build DIR --format disk), then publish') =>
  new JeosError('E_CHANNEL_SOURCE_CHANGED', `${what} changed since the build that recorded it`, { hint });

/** The version built in projectDir: build.json, disk.img's kernel, initrd and entry, jeos.lock, manifest.json. */
async function readBuilt(projectDir: string, outDir: string): Promise<Built> {
  const record = await readRecord(outDir);
  const disk = record.outputs.find((o) => o.format === 'disk')?.disk;
  if (!disk) {
    throw new JeosError('E_CHANNEL_NO_DISK', `${join(outDir, 'build.json')} records no disk image`, {
      hint: 'a channel carries disk images\' versions: add disk to outputs: in jeos.yaml and run jeos build DIR --format disk',
    });
  }
  const lockBytes = await readFile(join(projectDir, LOCK_FILE)).catch((e: NodeJS.ErrnoException) => {
    throw new JeosError('E_CHANNEL_NO_LOCK', `cannot read ${join(projectDir, LOCK_FILE)}: ${e.code ?? e.message}`, { hint: 'publish the project directory the build ran in' });
  });
  if (sha256(lockBytes) !== record.lockDigest) throw changedSince(join(projectDir, LOCK_FILE));
  const lock = parseLock(lockBytes.toString('utf8'), join(projectDir, LOCK_FILE));
  await readManifest(outDir);
  const manifest = await readFile(join(outDir, MANIFEST_FILE));
  const recorded = record.records.find((r) => r.path === MANIFEST_FILE);
  if (!recorded || recorded.sha256 !== sha256(manifest)) throw changedSince(join(outDir, MANIFEST_FILE));

  const img = await openJeosDisk(join(outDir, DISK_IMG), { write: false });
  const read = async (path: string) => {
    const data = await img.volume.readFile(path);
    const want = disk.espFiles.find((f) => f.path.replace(/^\/+/, '') === path);
    if (!data || !want || want.sha256 !== sha256(data)) throw changedSince(`${join(outDir, DISK_IMG)}: ${path}`);
    return data;
  };
  let entry: Buffer, linux: Buffer, initrd: Buffer;
  try {
    entry = await read(disk.entry);
    const names = /^linux \/(\S+)$/m.exec(entry.toString('utf8'));
    const initrds = /^initrd \/(\S+)$/m.exec(entry.toString('utf8'));
    if (!names || !initrds) throw new JeosError('E_CHANNEL_SOURCE', `${disk.entry} in ${join(outDir, DISK_IMG)} names no linux or initrd`, { hint: 'build it again with this jeos' });
    linux = await read(names[1]!);
    initrd = await read(initrds[1]!);
  } finally {
    await img.close();
  }
  const f = versionFiles(record.version);
  return {
    name: record.name,
    version: record.version,
    architecture: record.architecture,
    lockDigest: record.lockDigest,
    lock,
    payloads: [
      { name: f.linux, data: linux },
      { name: f.initrd, data: initrd },
      { name: f.entry, data: Buffer.from(channelEntryText(entry.toString('utf8'), record.version)) },
      { name: f.lock, data: lockBytes },
      { name: f.manifest, data: manifest },
    ],
  };
}

function refuseNotNewer(state: ChannelState, version: string): void {
  const newest = state.versions.at(-1);
  if (newest !== undefined && compareVersions(version, newest) <= 0) {
    throw new JeosError('E_CHANNEL_NOT_NEWER', `version ${version} is not newer than ${newest}, the newest in ${state.dir}`, {
      hint: 'a channel\'s versions only go up (Debian version order): set a higher version: in jeos.yaml and build again',
    });
  }
}

async function lockOf(state: ChannelState, version: string): Promise<Lock> {
  const name = versionFiles(version).lock;
  return parseLock((await readPayload(state, name)).toString('utf8'), join(state.dir, name));
}

function releaseFor(state: ChannelState, b: Omit<Built, 'payloads'> & { files: Release['files'] }, previousLock: Lock | undefined, now: Date, days: number): Release {
  return {
    releaseVersion: RELEASE_VERSION,
    name: b.name,
    version: b.version,
    architecture: b.architecture,
    lockDigest: b.lockDigest,
    published: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    validUntil: validUntil(now, days),
    previous: state.versions.at(-1) ?? null,
    changes: lockChanges(previousLock, b.lock),
    files: b.files,
  };
}

function checkDays(days: number): void {
  if (!Number.isFinite(days) || days <= 0) throw new JeosError('E_CHANNEL_VALID_DAYS', `--valid-days ${days} is not a positive number of days`, { hint: 'e.g. --valid-days 30' });
}

export interface PublishOptions {
  projectDir: string;
  outDir?: string;
  channel: string;
  keyDir: string;
  validDays?: number;
  now?: Date;
}

export async function publishBuild(o: PublishOptions): Promise<PublishResult> {
  const days = o.validDays ?? DEFAULT_VALID_DAYS;
  checkDays(days);
  const now = o.now ?? new Date();
  const key = await readSigningKey(o.keyDir);
  const built = await readBuilt(o.projectDir, o.outDir ?? join(o.projectDir, 'out'));
  let release: Release | undefined;
  const after = await changeChannel(o.channel, key, async (state) => {
    refuseNotNewer(state, built.version);
    const prev = state.versions.at(-1);
    const files = built.payloads.map((p) => ({ name: p.name, size: p.data.length, sha256: sha256(p.data) }));
    release = releaseFor(state, { ...built, files }, prev ? await lockOf(state, prev) : undefined, now, days);
    return { operation: 'publish', payloads: built.payloads, releases: [release], now };
  });
  return { channel: o.channel, version: built.version, previous: release!.previous, validUntil: release!.validUntil, release: release!, versions: after.versions };
}

export interface PromoteOptions {
  version: string;
  from: string;
  to: string;
  keyDir: string;
  /** The source channel's public key (channel.pub or its directory): its SHA256SUMS is verified with it. */
  fromKey?: string;
  validDays?: number;
  now?: Date;
}

/**
 * A published version into another channel: its payloads byte for byte (checked against the
 * source's SHA256SUMS), a release.json of the target's (its previous version, the package
 * changes since that, a new Valid-Until) signed with the target's key, the target's SHA256SUMS
 * rewritten and signed.
 */
export async function promoteVersion(o: PromoteOptions): Promise<PublishResult> {
  const days = o.validDays ?? DEFAULT_VALID_DAYS;
  checkDays(days);
  const now = o.now ?? new Date();
  const key = await readSigningKey(o.keyDir);
  const source = await readChannel(o.from, o.fromKey ? { key: await readPublicKey(o.fromKey) } : {});
  const from = source.releases.get(o.version);
  if (!from) {
    throw new JeosError('E_CHANNEL_NO_VERSION', `${o.from} has no version ${o.version}`, {
      hint: source.versions.length ? `it has ${source.versions.join(', ')}` : 'nothing was published to it',
    });
  }
  const payloads: Array<{ name: string; data: Buffer }> = [];
  for (const name of payloadNames(o.version)) payloads.push({ name, data: await readPayload(source, name) });
  for (const f of from.release.files) {
    const p = payloads.find((x) => x.name === f.name);
    if (!p || sha256(p.data) !== f.sha256) throw new JeosError('E_CHANNEL_TAMPERED', `${join(o.from, f.name)} does not match release ${o.version}`, { hint: 'publish the version again from its build' });
  }
  const lock = await lockOf(source, o.version);
  let release: Release | undefined;
  const after = await changeChannel(o.to, key, async (state) => {
    refuseNotNewer(state, o.version);
    const prev = state.versions.at(-1);
    const r = from.release;
    release = releaseFor(state, { name: r.name, version: r.version, architecture: r.architecture, lockDigest: r.lockDigest, lock, files: r.files }, prev ? await lockOf(state, prev) : undefined, now, days);
    return { operation: 'promote', payloads, releases: [release], now };
  });
  return { channel: o.to, version: o.version, previous: release!.previous, validUntil: release!.validUntil, release: release!, versions: after.versions };
}

/** Every release of a channel with a new Valid-Until, signed again; SHA256SUMS rewritten and signed. */
export async function resignChannel(o: { channel: string; keyDir: string; validDays?: number; now?: Date }): Promise<{ channel: string; versions: string[]; validUntil: string }> {
  const days = o.validDays ?? DEFAULT_VALID_DAYS;
  checkDays(days);
  const now = o.now ?? new Date();
  const key = await readSigningKey(o.keyDir);
  const until = validUntil(now, days);
  const after = await changeChannel(o.channel, key, async (state) => {
    if (!state.versions.length) throw new JeosError('E_CHANNEL_EMPTY', `${o.channel} holds no version`, { hint: 'publish one first: jeos publish DIR --channel CHANNEL_DIR --key KEYDIR' });
    return { operation: 'resign', payloads: [], releases: [...state.releases.values()].map((r) => ({ ...r.release, validUntil: until })), now };
  });
  return { channel: o.channel, versions: after.versions, validUntil: until };
}

