/**
 * A jeos disk under OVMF (TCG) for the live tests that act while the guest runs: the console read
 * line by line as it comes, a wait for what the test is looking for (a boot stage, a line from
 * jeos-update), and a hard power cut (SIGKILL). The disk is opened writable with `cache=none`
 * (or `directsync`), so what the guest wrote is on the file and nothing it had not yet written
 * survives in the host's cache: a kill is a power cut. The guest reaches the host's loopback at
 * 10.0.2.2 (QEMU's user networking). Also fsck.fat -n of a disk's ESP.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DiskBootLog } from '../../../src/boot/disk/boot-markers.js';
import { requireOvmf, varsFor } from '../../../src/boot/disk/firmware.js';
import { cleanLine } from '../../../src/boot/vm/console.js';

export type Boot = DiskBootLog['current'];

export interface Watched {
  log: DiskBootLog;
  /** The console's complete lines so far, cleaned of escapes. */
  lines: string[];
  /** Milliseconds since QEMU was spawned. */
  since(): number;
  /** Resolves once `until` holds (checked on every console line and every 100 ms); rejects after `timeoutMs` or when QEMU stops. */
  waitFor(what: string, until: (w: Watched) => boolean, timeoutMs: number): Promise<void>;
  /** The lines from `from` on that match. */
  grep(re: RegExp, from?: number): string[];
  /** Power cut: SIGKILL, then wait for QEMU to be gone. */
  kill(): Promise<void>;
  tail(n?: number): string;
}

export interface WatchOptions {
  disk: string;
  cache?: 'none' | 'directsync';
  memoryMiB?: number;
  /** Every console line as it arrives (the test's own markers). */
  onLine?: (line: string, ms: number) => void;
}

export async function bootWatched(o: WatchOptions): Promise<Watched> {
  const firmware = await requireOvmf();
  const vars = await varsFor(firmware, o.disk, { persistent: false });
  const log = new DiskBootLog();
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  const t0 = Date.now();
  const since = () => Date.now() - t0;
  const qemu: ChildProcess = spawn('qemu-system-x86_64', [
    '-M', 'q35', '-accel', 'tcg', '-cpu', 'max,-erms', '-m', String(o.memoryMiB ?? 256), '-nodefaults', '-display', 'none', '-serial', 'stdio',
    '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${firmware.code}`,
    '-drive', `if=pflash,format=raw,unit=1,file=${vars.path}`,
    '-drive', `file=${o.disk},if=none,id=disk,format=raw,cache=${o.cache ?? 'none'}`, '-device', 'virtio-blk-pci,drive=disk,bootindex=0',
    '-nic', 'user,model=virtio-net-pci', '-device', 'i6300esb', '-device', 'virtio-rng-pci',
    // As jeos test --disk under TCG with one vCPU: the kernel leaves its lock prefixes alone (docs/vm.md).
    '-smbios', 'type=11,value=io.systemd.boot.kernel-cmdline-extra=noreplace-smp systemd.status_unit_format=name',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<void>((resolve) => qemu.on('exit', () => {
    for (const w of waiters) w();
    resolve();
    if (vars.temporary) void rm(vars.temporary, { recursive: true, force: true });
  }));
  qemu.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  qemu.stdout!.on('data', (chunk: Buffer) => {
    const ms = since();
    log.feed(chunk, ms);
    partial += chunk.toString('latin1');
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = cleanLine(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
      lines.push(line);
      o.onLine?.(line, ms);
    }
    for (const w of waiters) w();
  });
  const gone = () => qemu.exitCode !== null || qemu.signalCode !== null;
  const w: Watched = {
    log,
    lines,
    since,
    tail: (n = 60) => lines.slice(-n).join('\n') + (stderr ? `\n--- QEMU ---\n${stderr}` : ''),
    grep: (re, from = 0) => lines.slice(from).filter((l) => re.test(l)),
    waitFor: (what, until, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (until(w)) return done(), resolve();
          if (gone()) return done(), reject(new Error(`QEMU stopped before ${what}:\n${w.tail()}`));
          if (since() > deadline) return done(), reject(new Error(`no ${what} within ${Math.round(timeoutMs / 1000)} s:\n${w.tail()}`));
        };
        const deadline = since() + timeoutMs;
        const timer = setInterval(check, 100);
        const done = () => (clearInterval(timer), waiters.delete(check));
        waiters.add(check);
        check();
      }),
    kill: async () => {
      if (!gone()) qemu.kill('SIGKILL');
      await exited;
    },
  };
  return w;
}

/** The ESP's first and last sector, from the build record of the disk. */
export async function espSectors(project: string): Promise<{ first: number; last: number }> {
  const record = JSON.parse(await readFile(join(project, 'out/build.json'), 'utf8'));
  return record.outputs.find((o: { format: string }) => o.format === 'disk').disk.esp;
}

/**
 * fsck.fat -n on the ESP, read out of the disk file. A set dirty bit (a mounted FAT cut off) is
 * not damage, nor is the backup boot sector differing from it in that bit, nor a stale free-cluster
 * count in FSInfo; anything else fsck.fat says is (`stale` tells whether the count was).
 */
export async function fsckEsp(disk: string, esp: { first: number; last: number }, scratch: string): Promise<{ ok: boolean; out: string; stale: boolean }> {
  const part = join(scratch, 'esp-fsck.img');
  const dd = spawnSync('dd', [`if=${disk}`, `of=${part}`, 'bs=512', `skip=${esp.first}`, `count=${esp.last - esp.first + 1}`, 'status=none']);
  if (dd.status !== 0) return { ok: false, out: `dd: ${String(dd.stderr)}`, stale: false };
  const r = spawnSync('fsck.fat', ['-n', part], { encoding: 'utf8' });
  await rm(part, { force: true });
  const out = `${r.stdout}${r.stderr}`;
  const complaints = out
    .split('\n')
    // The dirty bit sits in the boot sector (offset 65), so its backup differs there and only there.
    .filter((l) => !/dirty bit|not properly unmounted|Automatically removing|Leaving filesystem unchanged|differences between boot sector and its backup|mostly harmless\. Differences|Not automatically fixing this|^\s*65:01\/00$/i.test(l))
    // FSInfo's free-cluster count is a hint the FAT specification says not to trust; Linux writes it back at
    // unmount or sync, so a cut after a large file was written or deleted leaves it stale. Nothing refers to it.
    .filter((l) => !/^Free cluster summary wrong \(\d+ vs\. really \d+\)$|^\s*Auto-correcting\.$/.test(l))
    .filter((l) => !/^fsck\.fat \d|^\S+: \d+ files, \d+\/\d+ clusters$|^\s*$/.test(l));
  return { ok: (r.status === 0 || r.status === 1) && complaints.length === 0, out, stale: /Free cluster summary wrong/.test(out) };
}

/** The files of the ESP (mtools' mdir, recursive): what a half-written update may have left. */
export function espFiles(disk: string, esp: { first: number }): string[] {
  const r = spawnSync('mdir', ['-/', '-b', '-i', `${disk}@@${esp.first * 512}`, '::'], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  return r.stdout.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => l.replace(/^::/, ''));
}

/** A file of the ESP (mtools' mcopy), or undefined when it is not there. */
export function espRead(disk: string, esp: { first: number }, path: string): Buffer | undefined {
  const r = spawnSync('mcopy', ['-n', '-i', `${disk}@@${esp.first * 512}`, `::${path}`, '-'], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, maxBuffer: 1 << 28 });
  return r.status === 0 ? r.stdout : undefined;
}

/**
 * What systemd-boot could boot: every entry in /loader/entries with the files its `linux` and
 * `initrd` lines name. An entry that names a missing file, or a file of the channel's (`sums`:
 * name → SHA-256) whose bytes are not the published ones, is a half-written version made bootable.
 */
export function bootableEntries(disk: string, esp: { first: number }, sums: Map<string, string>): { entries: string[]; problems: string[]; leftovers: string[] } {
  const problems: string[] = [];
  const leftovers: string[] = [];
  const entries = espFiles(disk, esp).filter((f) => /^\/loader\/entries\/[^/]+\.conf$/.test(f));
  for (const entry of entries) {
    const text = espRead(disk, esp, entry)?.toString('utf8') ?? '';
    const name = entry.split('/').pop()!;
    // sysupdate's copy of jeos-<v>.conf, renamed with the boot counter: the published bytes.
    const published = sums.get(name.replace(/\+\d+(-\d+)?\.conf$/, '.conf'));
    // An entry without a linux line (0 bytes: its rename reached the disk before its contents) is not
    // bootable: systemd-boot skips it, and jeos-update removes it at its next check so the version is
    // installed again. Only one with a linux line could boot half-written bytes.
    if (published && sha256(Buffer.from(text)) !== published && !/^linux /m.test(text)) leftovers.push(`${entry} (${text.length} bytes, no linux line: not bootable)`);
    else if (published && sha256(Buffer.from(text)) !== published) problems.push(`${entry} is not the published entry (${text.length} bytes${text.length ? `, ${/^linux /m.test(text) ? 'with' : 'without'} a linux line, begins ${JSON.stringify(text.slice(0, 16))}` : ''})`);
    for (const m of text.matchAll(/^(linux|initrd)\s+(\S+)/gm)) {
      const data = espRead(disk, esp, m[2]!);
      if (!data) problems.push(`${entry} names ${m[2]}, which is not on the ESP`);
      else {
        const want = sums.get(m[2]!.split('/').pop()!);
        if (want && sha256(data) !== want) problems.push(`${entry} names ${m[2]}, which is not the published file (${data.length} bytes)`);
      }
    }
  }
  return { entries, problems, leftovers };
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
