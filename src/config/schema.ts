import { z } from 'zod';
import { IMAGE_NAME, IMAGE_NAME_MAX, IMAGE_TAG } from '../util/image-ref.js';
import { WorkloadSchema } from './workload-schema.js';
import { DISK_DEFAULTS, DiskSchema, IMAGE_VERSION, UpdateSchema } from './lifecycle-schema.js';

export { DISK_DEFAULTS, DISK_FORMATS, DiskSchema, IMAGE_VERSION, UpdateSchema, type DiskFormat } from './lifecycle-schema.js';
export { HealthcheckSchema, PACKAGE_SPEC, WorkloadFileSchema, WorkloadSchema } from './workload-schema.js';

/**
 * jeos.yaml, declared once. Validation, the JSON Schema for editors
 * (docs/jeos.schema.json) and the key table in docs/config.md all come from
 * these declarations: change a setting here and run `npm run gen`.
 */

/** The current Debian stable release; the default suite set is built from it. */
export const DEFAULT_RELEASE = 'trixie';
export const DEFAULT_SUITES = [DEFAULT_RELEASE, `${DEFAULT_RELEASE}-updates`, `${DEFAULT_RELEASE}-security`];

const suiteName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9./-]*$/, 'a suite name such as trixie, trixie-updates or trixie-security');

const url = z.string().regex(/^(https?|file):\/\/\S+$/, 'an http://, https:// or file:// URL');

export const DebianSchema = z
  .strictObject({
    suites: z
      .array(suiteName)
      .min(1)
      .default(DEFAULT_SUITES)
      .describe('Suites to take packages from; the newest version across them wins (so security updates always do).'),
    components: z.array(z.string().regex(/^[a-z0-9/-]+$/)).min(1).default(['main']).describe('Archive components to read.'),
    architecture: z
      .string()
      .regex(/^[a-z0-9-]+$/)
      .default('amd64')
      .describe('Debian architecture of the image.'),
    mirror: url
      .optional()
      .describe('Debian archive URL. Default: from the environment (JEOS_MIRROR) or the machine\'s apt sources.'),
    securityMirror: url
      .optional()
      .describe('Debian security archive URL, used for *-security suites. Default: JEOS_SECURITY_MIRROR or apt\'s sources.'),
    keyring: z
      .string()
      .min(1)
      .optional()
      .describe('OpenPGP keyring that must have signed the archive. Default: JEOS_KEYRING or the machine\'s debian-archive-keyring.'),
  })
  .describe('Where packages come from.');

/** Annotations jeos writes itself: a label may not set them. */
const RESERVED_LABELS = ['org.opencontainers.image.created', 'org.opencontainers.image.ref.name'];

export const ImageSchema = z
  .strictObject({
    name: z
      .string()
      .max(IMAGE_NAME_MAX)
      .regex(IMAGE_NAME, 'an image name such as nginx, team/nginx or registry.example.com:5000/team/nginx (lower-case path)')
      .optional()
      .describe('The image\'s name in the OCI layout and archive, and when podman loads it (default: name:).'),
    tags: z
      .array(z.string().regex(IMAGE_TAG, 'a tag: up to 128 letters, digits, "_", "." and "-", not starting with "." or "-"'))
      .min(1)
      .refine((tags) => new Set(tags).size === tags.length, 'each tag once')
      .default(['latest'])
      .describe('Tags of the image: one reference NAME:TAG each in the OCI layout and archive; jeos push pushes them all unless REF names one.'),
    labels: z
      .record(z.string().min(1), z.string())
      .refine(
        (labels) => !RESERVED_LABELS.some((k) => k in labels),
        'jeos writes org.opencontainers.image.created (from SOURCE_DATE_EPOCH) and org.opencontainers.image.ref.name (from name and tags) itself: leave them out of labels',
      )
      .default({})
      .describe(
        'Labels of the image config; org.opencontainers.image.* ones (source, revision, licenses, url, vendor, …) are also annotations of the manifest, and override the ones jeos writes (title, description, version).',
      ),
  })
  .describe('How the container image is named and labelled (docs/publish.md).');

export const IMAGE_DEFAULTS = { tags: ['latest'], labels: {} };

export const OUTPUT_FORMATS = ['tar', 'oci', 'oci-archive', 'vm', 'disk'] as const;
export const VM_ROOTS = ['initramfs', 'disk'] as const;
export type VmRoot = (typeof VM_ROOTS)[number];
export const VM_INITS = ['systemd', 'busybox'] as const;
export type VmInit = (typeof VM_INITS)[number];
export const VM_NETWORKS = ['busybox', 'networkd'] as const;
export type VmNetwork = (typeof VM_NETWORKS)[number];

export const VmSchema = z
  .strictObject({
    kernel: z
      .string()
      .regex(/^[a-z0-9][a-z0-9+.-]*$/, 'a Debian kernel package name')
      .default('linux-image-cloud-amd64')
      .describe('Debian kernel package (a meta package such as linux-image-cloud-amd64 is followed to the real one). Only its kernel and the modules the image needs are used.'),
    modules: z
      .array(z.string().regex(/^[A-Za-z0-9_-]+$/, 'a kernel module name such as virtio_net'))
      .default([])
      .describe('Kernel modules to keep besides the ones a VM needs (virtio block, net, console, rng and the file systems used).'),
    memory: z.number().int().min(32).max(65536).default(256).describe('Guest memory in MiB for jeos run and jeos test --vm.'),
    cpus: z
      .number()
      .int()
      .min(1)
      .max(64)
      .optional()
      .describe(
        'Virtual CPUs for jeos run and jeos test --vm (default: 2 under KVM, 1 under TCG). Under TCG each runs on a host thread of its own, so systemd\'s boot-time services run side by side, but QEMU 7.2\'s multi-threaded TCG now and then crashes the kernel while it patches its own code at boot.',
      ),
    init: z
      .enum(VM_INITS)
      .default('systemd')
      .describe(
        'The VM\'s init: systemd (journald, the workload as a service, units; the default) or busybox (BusyBox init runs a jeos boot script that mounts, loads modules, takes a DHCP lease and starts the workload: no journal, no units, a much faster boot).',
      ),
    network: z
      .enum(VM_NETWORKS)
      .default('busybox')
      .describe(
        'What loads the drivers and takes the DHCP lease on eth0 in a systemd VM: busybox (one service runs BusyBox\'s modprobe, for the devices present and the modules named, and its udhcpc, which writes /etc/resolv.conf; the default, one service and one small program instead of two of systemd\'s) or networkd (systemd-modules-load and systemd-networkd, for .network files of your own). A BusyBox VM always uses busybox.',
      ),
    root: z
      .enum(VM_ROOTS)
      .default('initramfs')
      .describe(
        'Where the VM\'s root file system lives: initramfs (out/vm/initrd.img, the whole OS unpacked into RAM at boot) or disk (out/vm/root.img, an ext4 image attached as an NVMe drive that each boot starts afresh from; files are read as they are needed, so the VM boots sooner and needs less memory).',
      ),
    cmdline: z.string().default('').describe('Extra kernel command-line arguments.'),
    debug: z
      .boolean()
      .default(false)
      .describe(
        'Keep what debugging the boot from the kernel command line needs: systemd\'s debug and run generators (systemd.mask=, systemd.wants=, systemd.debug_shell, systemd.run=), masked otherwise to boot sooner. systemd.unit= works either way.',
      ),
    hostname: z
      .string()
      .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a host name: lower-case letters, digits and dashes, at most 63')
      .optional()
      .describe('The VM\'s host name (default: the image name, dots turned into dashes).'),
  })
  .refine((vm) => !(vm.init === 'busybox' && vm.network === 'networkd'), {
    message: 'vm.network: networkd needs vm.init: systemd (a BusyBox VM has no systemd-networkd)',
    path: ['network'],
  })
  .describe('VM images (outputs: [vm]): kernel, modules, memory.');

export const TrimSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Trim the image to the files the workload can reach (jeos build --no-trim turns it off for one build).'),
    keep: z
      .array(z.string().regex(/^\/?[^\s]+$/, 'a path glob such as /usr/share/zoneinfo/** (no spaces)'))
      .default([])
      .describe('Path globs always kept (`*` within a directory, `**` across them), for files the workload loads in ways jeos cannot see.'),
    locales: z
      .array(z.string().regex(/^[A-Za-z]{2,3}([_@.][A-Za-z0-9@._-]+)?$/, 'a locale name such as de or pt_BR'))
      .default([])
      .describe('Translations and locales to keep (usr/share/locale/<name>, usr/lib/locale/<name>*); all others are dropped.'),
  })
  .describe('File-level trim: keep what the workload can reach, drop the rest (docs/trim.md).');

export const TRIM_DEFAULTS = { enabled: true, keep: [], locales: [] };

export const UnpackSchema = z
  .strictObject({
    allowDevices: z
      .boolean()
      .default(false)
      .describe(
        "Keep the device nodes and FIFOs a package ships (recorded in the image; nothing is created on the host). Debian Policy forbids them in a package's data, so by default such a package is refused (E_DEB_SPECIAL_FILE).",
      ),
    maxPackageMiB: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(512)
      .describe(
        "The most one package's data may expand to, in MiB (its data.tar, decompressed). The image is built in memory, so this bounds the builder's memory; a package past it, or past twice its declared Installed-Size plus 16 MiB, is refused while it is decompressed (E_DEB_TOO_LARGE).",
      ),
  })
  .describe("Reading the packages' archives (docs/build.md, Unpack).");

export const UNPACK_DEFAULTS = { allowDevices: false, maxPackageMiB: 512 };

export const VM_DEFAULTS = { kernel: 'linux-image-cloud-amd64', modules: [], memory: 256, cmdline: '', debug: false, init: 'systemd' as const, network: 'busybox' as const, root: 'initramfs' as const };
/** The default init of a VM image: the package that provides it is added to the workload's request. */
export const VM_INIT_PACKAGE = 'systemd';
/**
 * The BusyBox a VM image gets: Debian's static build. It is linked at a fixed address
 * and needs no dynamic loader, so under QEMU's TCG every BusyBox process at boot (the
 * network script, tar, modprobe, udhcpc and the programs its lease script runs) reuses
 * the code QEMU translated for the one before, and the VM answers sooner than with the
 * dynamically linked `busybox` (docs/vm.md). The two
 * packages install the same /usr/bin/busybox and conflict, so when the image's own
 * packages already hold either, that one serves.
 */
export const VM_BUSYBOX_PACKAGE = 'busybox-static';
const BUSYBOX_PACKAGES = [VM_BUSYBOX_PACKAGE, 'busybox'];

/**
 * What a VM image adds to the workload's request. For systemd: systemd, and libkmod,
 * which systemd loads (dlopen) to insert modules itself (virtio_rng, autofs4) and,
 * with vm.network: networkd, to insert the drivers at boot (without udev nothing else
 * would load them); with vm.network: busybox, BusyBox, whose modprobe and udhcpc
 * load the drivers and take the lease. For a BusyBox VM: BusyBox, whose init, shell,
 * modprobe and DHCP client do all of that. `image` names the packages the image
 * has already; none of them is asked for again.
 */
export function vmPackages(vm: { init: VmInit; network: VmNetwork }, image: ReadonlySet<string>): string[] {
  const wantsBusybox = vm.init === 'busybox' || vm.network === 'busybox';
  const hasBusybox = BUSYBOX_PACKAGES.some((name) => image.has(name));
  const wanted = [...(vm.init === 'systemd' ? [VM_INIT_PACKAGE, 'libkmod2'] : []), ...(wantsBusybox && !hasBusybox ? [VM_BUSYBOX_PACKAGE] : [])];
  return wanted.filter((name) => !image.has(name));
}

export const ConfigSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]*$/, 'lower-case letters, digits, dots and dashes')
      .describe('Image name (lower-case letters, digits, dots, dashes).'),
    description: z.string().optional().describe('One line saying what the image is for.'),
    debian: DebianSchema.default({ suites: DEFAULT_SUITES, components: ['main'], architecture: 'amd64' }),
    workload: WorkloadSchema,
    outputs: z.array(z.enum(OUTPUT_FORMATS)).min(1).default(['tar', 'oci']).describe('Image formats to write.'),
    image: ImageSchema.default(IMAGE_DEFAULTS),
    version: z
      .string()
      .regex(IMAGE_VERSION, 'a version such as 1.0, 2.3.1 or 2.0~rc1: a digit first, then letters, digits, dots and ~ (no +, -, _ or :)')
      .optional()
      .describe(
        'The image\'s version, compared as Debian versions are (2.0~rc1 < 2.0 < 2.0.1 < 10.0). Without it a build is version 0~<SOURCE_DATE_EPOCH>: older than any version you set, and newer with every newer archive snapshot (docs/disk.md, Versions).',
      ),
    vm: VmSchema.default(VM_DEFAULTS),
    disk: DiskSchema.default(DISK_DEFAULTS),
    update: UpdateSchema.optional(),
    trim: TrimSchema.default(TRIM_DEFAULTS),
    unpack: UnpackSchema.default(UNPACK_DEFAULTS),
  })
  .superRefine((config, ctx) => {
    if (config.update && !config.outputs.includes('disk')) {
      ctx.addIssue({ code: 'custom', path: ['update'], message: 'update: needs outputs: [disk]: a channel installs new versions as boot entries on the disk image\'s ESP' });
    }
    if (!config.outputs.includes('disk')) return;
    // The disk image boots each version's kernel and initramfs from its ESP; its root is that initramfs.
    if (config.vm.root === 'disk') {
      ctx.addIssue({
        code: 'custom',
        path: ['vm', 'root'],
        message:
          'vm.root: disk (an ext4 root image for the plain vm output) cannot be used with outputs: [disk] (the bootable disk image, whose root is the initramfs in each boot entry)',
      });
    }
    if (config.vm.init === 'busybox') {
      ctx.addIssue({
        code: 'custom',
        path: ['vm', 'init'],
        message: 'vm.init: busybox cannot be used with outputs: [disk]: boot assessment of disk images needs systemd (boot-complete.target, systemd-bless-boot)',
      });
    }
  })
  .describe('A jeos image: one workload, and just enough operating system for it.');

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export function configJsonSchema(): Record<string, unknown> {
  return {
    title: 'jeos.yaml',
    ...z.toJSONSchema(ConfigSchema, { io: 'input' }),
  };
}
