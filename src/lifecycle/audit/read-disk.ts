/**
 * A stopped jeos disk (out/disk.img) as a target: its GPT names the ESP, the ESP's FAT32
 * volume is read in place (lifecycle/disk, as `jeos disk status` reads it: no root, no
 * loop device, no mount), and the version systemd-boot would boot next (the first of its
 * order: the newest that is not bad) gives its initrd, which holds the whole VM tree.
 * The /var partition is the workload's state and is not read.
 */
import { JeosError } from '../../errors.js';
import { openJeosDisk, readVersions } from '../disk/index.js';

export interface DiskInitrd {
  /** The version whose initrd was read, and its entry's file name. */
  version: string;
  entry: string;
  /** The initrd's path on the ESP. */
  initrd: string;
  data: Buffer;
  /** SHA-256 of the jeos.lock the version was built from, when the ESP says (jeos/<version>/jeos.json). */
  lockDigest: string | null;
}

export async function readDiskInitrd(path: string): Promise<DiskInitrd> {
  const disk = await openJeosDisk(path, { write: false }).catch((e: unknown) => {
    if (e instanceof JeosError && e.code === 'E_DISK_NOT_JEOS') {
      throw new JeosError('E_AUDIT_NOT_IMAGE', `${path} is not an image: ${e.message.replace(/^.*?: /, '')}`, {
        hint: 'audit reads the raw disk.img of jeos build --format disk (convert a qcow2 with qemu-img convert -O raw), or pass out/vm/initrd.img',
      });
    }
    throw e;
  });
  try {
    const { versions } = await readVersions(disk.volume);
    const next = versions[0];
    if (!next) {
      throw new JeosError('E_AUDIT_NOT_IMAGE', `${path} is not an image: its ESP has no jeos boot entry`, {
        hint: 'a disk jeos build wrote has one entry per version under loader/entries; add one with jeos disk add',
      });
    }
    const initrd = next.boot.initrd[0]?.replace(/^\/+/, '');
    const data = initrd ? await disk.volume.readFile(initrd) : undefined;
    if (!initrd || !data) {
      throw new JeosError('E_AUDIT_NOT_IMAGE', `${path} is not an image: the boot entry ${next.file} names ${initrd ? `/${initrd}, which is not on the ESP` : 'no initrd'}`, {
        hint: 'the disk is damaged or was edited by hand: jeos disk status lists its versions',
      });
    }
    return { version: next.version, entry: next.file, initrd: `/${initrd}`, data, lockDigest: next.about?.lockDigest ?? null };
  } finally {
    await disk.close();
  }
}
