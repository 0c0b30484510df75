/**
 * The lifecycle's part of jeos.yaml: the image's version, the disk image (outputs: [disk]) and the
 * release channel it follows (update:). Re-exported by schema.ts with the rest of the configuration.
 */
import { z } from 'zod';

/**
 * An image version, compared as Debian versions are (src/archive/version.ts). Narrower than
 * Debian's syntax because it names files on the ESP and boot entries: no `+` (systemd-boot
 * reads `+N` before `.conf` as the boot-try counter), no `:` (not allowed in FAT names, so
 * no epoch), no `-` or `_` (they separate the name from the version in the entry's name).
 */
export const IMAGE_VERSION = /^[0-9][A-Za-z0-9.~]{0,63}$/;

export const DISK_FORMATS = ['raw', 'qcow2'] as const;
export type DiskFormat = (typeof DISK_FORMATS)[number];

export const DiskSchema = z
  .strictObject({
    size: z
      .string()
      .regex(/^[1-9][0-9]*[MG]$/, 'a size in MiB or GiB such as 1G or 768M')
      .default('1G')
      .describe(
        'The disk image\'s size (M or G): the EFI system partition (at least 256 MiB; room for about three versions of the boot files), then the persistent /var partition takes the rest. out/disk.img is sparse, so unused space costs no disk.',
      ),
    formats: z
      .array(z.enum(DISK_FORMATS))
      .min(1)
      .default(['raw'])
      .describe('Disk image formats: raw (out/disk.img, always written) and qcow2 (out/disk.qcow2, converted with qemu-img from qemu-utils).'),
  })
  .describe('The bootable disk image (outputs: [disk]): GPT, an EFI system partition with systemd-boot and one boot entry per version, a persistent /var partition (docs/disk.md).');

export const DISK_DEFAULTS = { size: '1G', formats: ['raw' as const] };

/** systemd.time spans as the timer takes them: 1min, 1h, 30s, 2h 30min. */
const TIME_SPAN = /^[0-9]+(\.[0-9]+)?\s*(us|ms|s|sec|m|min|h|hr|d|w|)(\s+[0-9]+(\.[0-9]+)?\s*(us|ms|s|sec|m|min|h|hr|d|w))*$/;

export const UpdateSchema = z
  .strictObject({
    channel: z
      .string()
      .regex(/^https?:\/\/[^\s'"\\`$]+$/, 'an http:// or https:// URL of the channel directory, without spaces or quotes')
      .describe('The URL the channel directory is served at (jeos publish --channel writes it), e.g. https://updates.example.com/web/stable.'),
    key: z
      .string()
      .min(1)
      .describe("The channel's public key (channel.pub, as jeos key new wrote it), a path inside the project: the image trusts this key and no other."),
    schedule: z
      .strictObject({
        first: z.string().regex(TIME_SPAN, 'a systemd time span such as 1min or 30s').default('1min').describe('The first check, this long after boot (OnBootSec=).'),
        every: z.string().regex(TIME_SPAN, 'a systemd time span such as 1h or 30min').default('1h').describe('Then a check this long after the last one (OnUnitActiveSec=).'),
        spread: z.string().regex(TIME_SPAN, 'a systemd time span such as 10min or 0').default('10min').describe('A random delay added to each check, so a fleet does not ask at once (RandomizedDelaySec=).'),
      })
      .default({ first: '1min', every: '1h', spread: '10min' })
      .describe('When the image checks its channel: by default within a minute of boot, then hourly.'),
    reboot: z
      .string()
      .regex(/^(now|[A-Za-z0-9 ,:*./~-]+)$/, 'now, or a systemd calendar expression such as "*-*-* 03:00"')
      .default('now')
      .describe('When a machine that installed a new version reboots into it: now (right after the install, the default) or a window as a systemd calendar expression (OnCalendar=, e.g. "Sun *-*-* 03:00").'),
  })
  .describe('Follow a release channel (outputs: [disk]): systemd-sysupdate installs each newer version that the channel signs, as a new boot entry with +3 tries, and reboots (docs/channels.md, The image side).');
