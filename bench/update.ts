/**
 * Figures for issue 26: what an update costs. The nginx example as 2.0 with libzstd1 held at
 * trixie's 1.5.7+dfsg-1 and as 2.1 with the security suite's (a one-package security fix, chosen
 * by the resolver as `jeos lock --update` would), both following a channel served on loopback.
 *   npm run build && npx tsx bench/update.ts [--runs N] [--out bench/results/update.txt]
 *
 * Sizes: what the machine downloads for 2.1 (SHA256SUMS, its signature, release.json and its
 * signature, kernel, initrd, entry: what systemd-sysupdate and jeos-update fetch, counted by the
 * server) against what changed between the two versions (the files of the image whose bytes
 * differ, from the two builds' manifests, and the changed package's .deb), against a full-image
 * update of the same nginx as a conventional Debian VM, measured in the same run (bench/vm's
 * mmdebstrap peer: its ext4 root image, kernel and initrd inside, zstd -12: what an A/B
 * whole-image update of it would ship), and Flatcar's as issue 26 cites it. Time: from `jeos publish`
 * of 2.1 to 2.1 blessed on the machine (its health check answered inside the guest), split into
 * publish, waiting for the machine's timer (every 15 s here; 1 h and up to 10 min spread by
 * default), download and install, and the reboot into 2.1. The machine is 2.0's disk under OVMF
 * (TCG), a fresh copy each run. Power cuts survived/tried come from
 * test/disk/update-power-cut.live.test.ts, which the results file quotes.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serveDirectory } from '../test/fixtures/serve.js';
import { bootWatched } from '../test/support/disk/uefi-watch.js';
import { qemuVersion } from './vm/qemu.js';
import { makeConventional } from './vm/conventional.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const runs = Number(opt('runs', '3'));
const out = opt('out', '');
const cli = resolve('dist/jeos.mjs');
const work = mkdtempSync(join(tmpdir(), 'jeos-bench-update-'));
const log = (s: string) => process.stderr.write(`${s}\n`);
/** Flatcar's full update payloads, as issue 26 cites them (not measured here). */
const FLATCAR_PAYLOAD_MB = { low: 380, high: 480, source: 'issue 26, citing Flatcar (full payloads of 383-482 MB)' };
const HELD = 'libzstd1=1.5.7+dfsg-1';
const MB = 1e6;

function jeos(...argv: string[]): string {
  const r = spawnSync('node', [cli, ...argv], { encoding: 'utf8', timeout: 900_000 });
  if (r.status !== 0) throw new Error(`jeos ${argv.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const s1 = (ms: number) => (ms / 1000).toFixed(1);

interface ManifestEntry { path: string; type: string; size?: number; sha256?: string; package?: string }
/** The disk's VM tree (what its initrd holds) from the build's manifest.json. */
function manifest(project: string): Map<string, ManifestEntry> {
  const m = JSON.parse(readFileSync(join(project, 'out/manifest.json'), 'utf8')) as { trees: { vm: ManifestEntry[] } };
  return new Map(m.trees.vm.map((e) => [e.path, e]));
}

const served = serveDirectory(join(work, 'channel'));
try {
  mkdirSync(join(work, 'channel'));
  const server = await served;
  const port = new URL(server.url).port;
  jeos('key', 'new', '--out', join(work, 'keys'));
  const project = (v: string) => join(work, `v${v}`);
  for (const v of ['2.0', '2.1']) {
    cpSync(resolve('examples/nginx'), project(v), { recursive: true });
    rmSync(join(project(v), 'out'), { recursive: true, force: true });
    rmSync(join(project(v), 'jeos.lock'), { force: true });
    copyFileSync(join(work, 'keys/channel.pub'), join(project(v), 'channel.pub'));
    const update = `update:\n  channel: http://10.0.2.2:${port}/\n  key: channel.pub\n  schedule: {first: 1s, every: 15s, spread: 0s}\n`;
    let yaml = readFileSync(join(project(v), 'jeos.yaml'), 'utf8').replace(/^outputs:.*$/m, `outputs: [disk]\nversion: "${v}"\n${update}`);
    if (v === '2.0') yaml = yaml.replace('packages: [nginx]', `packages: [nginx, ${HELD}]`);
    if (!yaml.includes(v === '2.0' ? HELD : 'packages: [nginx]')) throw new Error('examples/nginx/jeos.yaml no longer says packages: [nginx]');
    writeFileSync(join(project(v), 'jeos.yaml'), yaml);
    log(`building ${v} …`);
    jeos('build', project(v), '--quiet');
  }
  const diff = JSON.parse(jeos('diff', join(project('2.0'), 'jeos.lock'), join(project('2.1'), 'jeos.lock'), '--json'));
  const upgraded = (diff.packages?.upgraded ?? []) as Array<{ name: string; from: string; to: string; suite?: string }>;
  const changedPkgs = [...upgraded.map((u) => u.name), ...(diff.packages?.added ?? []).map((a: { name: string }) => a.name), ...(diff.packages?.removed ?? []).map((a: { name: string }) => a.name)];

  // What changed inside the image: files whose bytes differ, and the .deb of the changed package.
  const a = manifest(project('2.0'));
  const b = manifest(project('2.1'));
  let changedBytes = 0;
  const changedFiles: string[] = [];
  for (const [path, e] of b) {
    const old = a.get(path);
    if (e.type === 'file' && (!old || old.sha256 !== e.sha256)) (changedBytes += e.size ?? 0), changedFiles.push(path);
  }
  const lock21 = JSON.parse(readFileSync(join(project('2.1'), 'jeos.lock'), 'utf8'));
  const debBytes = [...lock21.packages, ...(lock21.vmPackages ?? [])].filter((p: { name: string }) => changedPkgs.includes(p.name)).reduce((n: number, p: { size: number }) => n + p.size, 0);

  // The peer: the same workload as a conventional Debian VM, updated as a whole image (compressed for the wire).
  log('making the conventional nginx VM (mmdebstrap) …');
  const conventional = await makeConventional(work);
  const zst = `${conventional.disk}.zst`;
  const z = spawnSync('zstd', ['-q', '-12', '-T0', '-f', conventional.disk, '-o', zst], { encoding: 'utf8' });
  if (z.status !== 0) throw new Error(`zstd failed: ${z.stderr}`);
  const conventionalWire = statSync(zst).size;

  const rows: Array<{ publishMs: number; waitMs: number; installMs: number; rebootMs: number; totalMs: number; downloaded: number }> = [];
  // What a machine on 2.0 fetches for 2.1: the signed sums, 2.1's signed release, kernel, initrd, entry.
  const sizesChannel = join(work, 'sizes');
  jeos('publish', project('2.0'), '--channel', sizesChannel, '--key', join(work, 'keys'));
  jeos('publish', project('2.1'), '--channel', sizesChannel, '--key', join(work, 'keys'));
  const fetchedNames = ['SHA256SUMS', 'SHA256SUMS.gpg', 'jeos-2.1.release.json', 'jeos-2.1.release.json.gpg', 'jeos-2.1.linux', 'jeos-2.1.initrd', 'jeos-2.1.conf'];
  const payload: Record<string, number> = Object.fromEntries(fetchedNames.map((f) => [f, statSync(join(sizesChannel, f)).size]));
  const sameKernel = readFileSync(join(sizesChannel, 'jeos-2.0.linux')).equals(readFileSync(join(sizesChannel, 'jeos-2.1.linux')));
  for (let run = 1; run <= runs; run++) {
    const channel = join(work, 'channel');
    rmSync(channel, { recursive: true, force: true });
    mkdirSync(channel);
    jeos('publish', project('2.0'), '--channel', channel, '--key', join(work, 'keys'));
    const disk = join(work, 'machine.img');
    copyFileSync(join(project('2.0'), 'out/disk.img'), disk);
    log(`run ${run}: booting 2.0 …`);
    const vm = await bootWatched({ disk });
    try {
      // 2.0 is blessed and has checked the channel once (nothing newer than itself).
      await vm.waitFor('2.0 blessed and its first check', (w) => w.log.current.timings.complete !== null && w.grep(/jeos-update: no new version/).length > 0, 5 * 60_000);
      const asked = server.requests.length;
      const t0 = vm.since();
      jeos('publish', project('2.1'), '--channel', channel, '--key', join(work, 'keys'));
      const published = vm.since();
      await vm.waitFor('the check that finds 2.1', (w) => w.grep(/jeos-update: installing 2\.1/).length > 0, 2 * 60_000);
      const found = vm.since();
      await vm.waitFor('2.1 installed', (w) => w.grep(/jeos-update: installed 2\.1/).length > 0, 3 * 60_000);
      const installedAt = vm.since();
      const blessedBoot = () => vm.log.boots.find((b) => b.version === '2.1' && b.timings.complete !== null);
      await vm.waitFor('2.1 blessed', () => blessedBoot() !== undefined, 5 * 60_000).catch((e: Error) => {
        throw new Error(`${e.message}\nboots seen: ${JSON.stringify(vm.log.boots.map((b) => ({ version: b.version, began: b.began, ...b.timings })))}`);
      });
      const blessed = blessedBoot()!.timings.complete!;
      const fetched = [...new Set(server.requests.slice(asked).map((p) => decodeURIComponent(p).slice(1)))];
      const downloaded = fetched.filter((f) => f !== '' && existsSync(join(channel, f))).reduce((n, f) => n + statSync(join(channel, f)).size, 0);
      rows.push({ publishMs: published - t0, waitMs: found - published, installMs: installedAt - found, rebootMs: blessed - installedAt, totalMs: blessed - t0, downloaded });
      log(`run ${run}: ${JSON.stringify(rows.at(-1))}`);
    } finally {
      await vm.kill();
    }
  }

  const whole = Object.values(payload).reduce((n, x) => n + x, 0);
  const lines: string[] = [];
  lines.push('A one-package security fix as an update: the nginx example, 2.0 (libzstd1 held at trixie\'s 1.5.7+dfsg-1) to 2.1');
  lines.push(`${new Date().toISOString().slice(0, 10)}, this build host: ${cpus().length} vCPUs (${cpus()[0]?.model ?? '?'}), QEMU ${qemuVersion()}, OVMF (TCG, 1 vCPU, -m 256)`);
  lines.push(`channel on loopback (test/fixtures/serve.ts), guest at 10.0.2.2; machine timer every 15 s (default 1 h + up to 10 min spread); ${runs} run(s)`);
  lines.push('');
  lines.push(`What changed (jeos diff of the locks): ${upgraded.map((u) => `${u.name} ${u.from} -> ${u.to}${u.suite ? ` (${u.suite})` : ''}`).join(', ') || 'nothing?'}`);
  lines.push(`  files of the image whose bytes differ: ${changedFiles.length}, ${(changedBytes / MB).toFixed(2)} MB uncompressed (${changedFiles.slice(0, 6).join(', ')}${changedFiles.length > 6 ? ', …' : ''})`);
  lines.push(`  the changed package's .deb: ${(debBytes / MB).toFixed(2)} MB`);
  lines.push('');
  lines.push('Payload the machine downloaded for 2.1 (whole version, as systemd-sysupdate has no deltas):');
  for (const [f, n] of Object.entries(payload).sort()) lines.push(`  ${f.padEnd(32)} ${(n / MB).toFixed(2).padStart(8)} MB`);
  lines.push(`  ${'total'.padEnd(32)} ${(whole / MB).toFixed(2).padStart(8)} MB`);
  lines.push(`  the kernel is ${sameKernel ? 'byte for byte the same as 2.0\'s, downloaded again (the file is named by version)' : 'not the same as 2.0\'s'}`);
  if (rows.length) lines.push(`  the server saw the machine fetch ${(median(rows.map((r) => r.downloaded)) / MB).toFixed(2)} MB after the publish (median)`);
  lines.push(`  against what changed: ${(whole / Math.max(1, changedBytes)).toFixed(0)}x the changed files, ${(whole / Math.max(1, debBytes)).toFixed(0)}x the .deb`);
  lines.push('Full-image update of the same nginx as a conventional Debian VM, measured in this run (mmdebstrap minbase +');
  lines.push('systemd-sysv, nginx, the cloud kernel, initramfs-tools; its ext4 root image with kernel and initrd, zstd -12):');
  lines.push(`  ${'tree'.padEnd(32)} ${(conventional.treeBytes / MB).toFixed(2).padStart(8)} MB`);
  lines.push(`  ${'whole-image payload (compressed)'.padEnd(32)} ${(conventionalWire / MB).toFixed(2).padStart(8)} MB  (jeos's whole version is ${(conventionalWire / whole).toFixed(1)}x smaller)`);
  lines.push(`Full-image update as Flatcar ships it: ${FLATCAR_PAYLOAD_MB.low}-${FLATCAR_PAYLOAD_MB.high} MB (${FLATCAR_PAYLOAD_MB.source}; not measured here)`);
  lines.push(`  jeos's whole version is ${((FLATCAR_PAYLOAD_MB.low * MB) / whole).toFixed(0)}-${((FLATCAR_PAYLOAD_MB.high * MB) / whole).toFixed(0)}x smaller`);
  lines.push('');
  if (rows.length) lines.push('Time from `jeos publish` of 2.1 to 2.1 blessed on the machine (s)   ' + rows.map((_, i) => `run ${i + 1}`.padStart(7)).join('') + '  median');
  const row = (label: string, k: keyof (typeof rows)[number]) => rows.length && lines.push(`  ${label.padEnd(64)} ${rows.map((r) => s1(r[k]).padStart(7)).join('')}  ${s1(median(rows.map((r) => r[k]))).padStart(6)}`);
  row('jeos publish (sign, write, switch the state link)', 'publishMs');
  row('until the machine\'s timer checked (up to every=15 s)', 'waitMs');
  row('release.json checked, download, sysupdate install', 'installMs');
  row('reboot into 2.1 to boot-complete (health check inside)', 'rebootMs');
  row('total', 'totalMs');
  if (rows.length) lines.push('  (most of the reboot is TCG: after the guest\'s own reboot the firmware takes 12-35 s to start the kernel, 0.9 s on a cold boot of the same disk; docs/disk.md)');
  lines.push('');
  const text = `${lines.join('\n')}\n`;
  process.stdout.write(text);
  if (out) {
    const kept = (() => {
      try {
        const old = readFileSync(out, 'utf8');
        const at = old.indexOf('\nPower cuts during an update');
        // The power-cut tally (from the live test) and the notes after it are kept.
        return at >= 0 ? old.slice(at + 1) : '';
      } catch {
        return '';
      }
    })();
    writeFileSync(out, text + kept);
  }
  await server.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
