import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, type BuildOptions } from '../../build/index.js';
import { readTrimExplanations, type BuildRecord } from '../../record/index.js';
import { loadConfig } from '../../config/load.js';
import type { TrimExplanation } from '../../trim/index.js';
import { checkBuild, type CheckReport } from '../check.js';
import { archiveSettings, withArchiveOptions, type ArchiveFlags } from '../archive-options.js';
import { buildProgress } from '../build-progress.js';
import { formatBytes, printJson } from '../format.js';
import { vmMemoryLine, vmMemoryOf } from '../vm-memory.js';

interface BuildFlags extends ArchiveFlags {
  format?: string[];
  out?: string;
  frozen?: boolean;
  trim?: boolean;
  check?: boolean;
}

const list = (v: string, acc: string[] = []) => [...acc, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

export function registerBuild(program: Command): void {
  withArchiveOptions(
    program
      .command('build')
      .argument('[dir]', 'directory holding jeos.yaml (the build context)', '.')
      .description('build the image of DIR/jeos.yaml: lock (if needed), fetch, unpack, configure, trim, write outputs')
      .option('--format <list>', 'outputs to write, comma-separated: tar, oci, oci-archive, vm (default: outputs: in jeos.yaml)', list)
      .option('--out <dir>', 'output directory (default: DIR/out)')
      .option('--frozen', 'fail if jeos.lock is missing or stale instead of locking again (for CI)')
      .option('--no-trim', 'keep every file of the locked packages (no file-level trim), whatever trim: in jeos.yaml says')
      .option('--check', 'then run the health check against the new image (container, and VM when vm is an output); a trimmed image or VM that fails is compared with an untrimmed build, which names the file the workload needed'),
  )
    .addHelpText(
      'after',
      `
Outputs (in the output directory, replaced atomically):
  rootfs.tar       the root file system (tar, numeric owners, reproducible)
  oci/             OCI image layout, tag "latest" (skopeo, podman, umoci, registries)
  image.oci.tar    the same layout as one tar (--format oci-archive)
  vm/              vmlinuz, initrd.img (the whole OS as a compressed cpio) and
                   cmdline: qemu -kernel vm/vmlinuz -initrd vm/initrd.img
                   -append "$(cat vm/cmdline)"; or jeos run / jeos test --vm.
                   With vm.root: disk, root.img (ext4) instead of initrd.img
  build.json       digests, sizes, packages, unreproduced maintainer scripts, the
                   trim's figures, timings
  trim.json        why each kept path is there, and what each package lost
                   (jeos why /PATH reads it)

The image is a pure function of jeos.yaml + jeos.lock: timestamps come from
SOURCE_DATE_EPOCH, else the newest Release date in the lock.

Examples:
  jeos build examples/nginx
  jeos build . --format oci-archive --out /tmp/image
  jeos build examples/nginx --format vm && jeos test examples/nginx --vm
  jeos build . --frozen --offline --json
  jeos build examples/nginx --check      # build, then prove the trimmed image still answers
  jeos build . --no-trim                 # the same image, every file kept, to compare`,
    )
    .action(async (dir: string, flags: BuildFlags) => {
      const quiet = !!(flags.json || flags.quiet);
      const settings = await archiveSettings({ ...flags, config: flags.config ?? dir });
      const options: BuildOptions = {
        dir,
        settings,
        outDir: flags.out,
        formats: flags.format as never,
        frozen: flags.frozen,
        ...(flags.trim === false ? { trim: false } : {}),
        onEvent: buildProgress(quiet),
      };
      const result = await build(options);
      const r = result.record;
      const check = flags.check ? () => runCheck(dir, result.outDir, r, options, flags) : undefined;
      if (flags.json) {
        const report = await check?.();
        printJson({ ok: report ? checkPassed(report) : true, outDir: result.outDir, ...r, ...(report ? { check: report } : {}) });
        if (report && !checkPassed(report)) process.exitCode = 1;
        return;
      }
      const oci = result.outputs.find((o) => o.image)?.image;
      const vmInfo = result.outputs.find((o) => o.vm)?.vm;
      const lines = [
        `built ${r.name}: ${r.packages.length} packages, ${r.image.tree.files} files, ${formatBytes(r.image.tree.bytes)} in ${(r.timings.total / 1000).toFixed(2)} s`,
        ...result.outputs.map((o) => `  ${o.path.padEnd(14)} ${o.files.length === 1 ? `sha256:${o.files[0]!.sha256}` : `${o.files.length} files`}`),
        ...(oci ? [`  image digest   ${oci.manifestDigest}`] : []),
        ...(vmInfo?.initrd
          ? [`  vm             kernel ${vmInfo.kernelVersion}, initrd.img ${formatBytes(vmInfo.initrd.size)} (${vmInfo.initrd.compression}; ${formatBytes(vmInfo.initrd.uncompressedSize)} unpacked)`]
          : []),
        ...(vmInfo?.disk ? [`  vm             kernel ${vmInfo.kernelVersion}, root.img ext4, ${formatBytes(vmInfo.disk.usedBytes)} used of ${formatBytes(vmInfo.disk.size)} (sparse)`] : []),
      ];
      const memoryLine = vmInfo?.initrd ? vmMemoryLine(await vmMemoryOf(await loadConfig(dir, { sources: false }), result.outDir)) : undefined;
      if (memoryLine) lines.push(memoryLine);
      for (const [label, t] of [['image', r.image.trim], ['vm', r.vm?.trim]] as const) {
        if (!t) continue;
        lines.push(`  trim (${label})${' '.repeat(Math.max(1, 7 - label.length))}kept ${t.kept.files} files (${formatBytes(t.kept.bytes)}), dropped ${t.dropped.files} (${formatBytes(t.dropped.bytes)})`);
        for (const m of t.missing.slice(0, 5)) lines.push(`  warning: /${m.neededBy.replace(/^\/+/, '')} needs ${m.what}, which is not in the image (${m.why === 'needed' ? 'DT_NEEDED' : m.why}); add the package that ships it to workload.packages`);
        if (t.missing.length > 5) lines.push(`  warning: ${t.missing.length - 5} more missing files (build.json trim.missing)`);
        for (const g of t.unmatchedKeep) lines.push(`  warning: trim.keep glob ${g} matched nothing`);
      }
      for (const [label, files] of [['image', r.image.setuid], ['vm', r.vm?.setuid]] as const) {
        if (!files?.length) continue;
        const shown = files.slice(0, 5).map((f) => `${f.path} (${f.mode}${f.package ? `, ${f.package}` : ''})`);
        const more = files.length > 5 ? `, and ${files.length - 5} more (build.json ${label}.setuid)` : '';
        lines.push(`  setuid (${label})${' '.repeat(Math.max(1, 5 - label.length))}${files.length} file${files.length === 1 ? '' : 's'}: ${shown.join(', ')}${more}`);
      }
      if (r.image.notReproduced.length) {
        lines.push(`maintainer script steps not reproduced (${r.image.notReproduced.length} scripts; details in build.json):`);
        for (const s of r.image.notReproduced) lines.push(`  ${s.pkg} ${s.script}: ${s.commands.slice(0, 3).join('; ')}${s.commands.length > 3 ? ' …' : ''}`);
      }
      console.log(lines.join('\n'));
      const report = await check?.();
      if (report && !checkPassed(report)) {
        const needed = [...new Set([...(report.untrimmed?.needed ?? []), ...(report.untrimmedVm?.needed ?? [])])];
        if (needed.length) console.log(`the trim dropped what the workload needs; keep it with, in jeos.yaml:\n  trim:\n    keep: [${needed.join(', ')}]`);
        process.exitCode = 1;
      }
    });
}

const checkPassed = (r: CheckReport): boolean => r.container !== false && r.vm !== false;

async function runCheck(dir: string, outDir: string, record: BuildRecord, options: BuildOptions, flags: BuildFlags): Promise<CheckReport> {
  const loaded = await loadConfig(dir);
  const formats = record.outputs.map((o) => o.format as string);
  const dropped = async (tree: 'image' | 'vm') => {
    const data = await readTrimExplanations(outDir);
    return Object.values(data?.[tree]?.dropped ?? {}).flat();
  };
  return checkBuild(loaded, outDir, { formats, trim: record.image.trim, vmTrim: record.vm?.trim, dropped }, { ...options, onEvent: undefined }, {
    quiet: flags.quiet,
    ...(flags.json ? { print: false } : {}),
  });
}
