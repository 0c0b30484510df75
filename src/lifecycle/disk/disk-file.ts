/**
 * A jeos disk image opened for reading or editing: its GPT read to find the ESP (by its
 * type and the name jeos gives it) and the /var partition, and the ESP's FAT32 volume.
 * Anything else (a qcow2, a disk of another tool, a GPT without a jeos ESP) is refused
 * before a byte is written.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { JeosError } from '../../errors.js';
import { decodeGuid, ESP_PART_NAME, FatVolume, PARTITION_TYPES, SECTOR, VAR_PART_NAME } from '../../outputs/disk/index.js';

export interface JeosDisk {
  path: string;
  fh: FileHandle;
  esp: { first: number; last: number };
  var?: { first: number; last: number };
  volume: FatVolume;
  close(): Promise<void>;
}

const notOurs = (path: string, why: string) =>
  new JeosError('E_DISK_NOT_JEOS', `${path} is not a jeos disk image: ${why}`, {
    hint: 'jeos disk works on the raw disk.img jeos build --format disk writes (convert a qcow2 back with qemu-img convert -O raw)',
  });

export async function openJeosDisk(path: string, options: { write: boolean; time?: number }): Promise<JeosDisk> {
  const fh = await open(path, options.write ? 'r+' : 'r').catch((e: NodeJS.ErrnoException) => {
    throw new JeosError(e.code === 'ENOENT' ? 'E_DISK_NO_IMAGE' : 'E_DISK_OPEN', `cannot open ${path}: ${e.code ?? e.message}`, {
      hint: e.code === 'ENOENT' ? 'name the disk image: a disk.img jeos build --format disk wrote' : 'check the file\'s permissions (and that no VM is running it)',
    });
  });
  try {
    const head = Buffer.alloc(SECTOR * 2);
    await fh.read(head, 0, head.length, 0);
    if (head.subarray(0, 4).equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]))) throw notOurs(path, 'it is a qcow2 image');
    if (head.toString('latin1', SECTOR, SECTOR + 8) !== 'EFI PART') throw notOurs(path, 'it has no GPT');
    const h = head.subarray(SECTOR);
    const entriesLba = Number(h.readBigUInt64LE(72));
    const count = h.readUInt32LE(80);
    const size = h.readUInt32LE(84);
    if (count > 1024 || size < 128 || size > 4096) throw notOurs(path, 'its GPT header is not one jeos writes');
    const table = Buffer.alloc(count * size);
    await fh.read(table, 0, table.length, entriesLba * SECTOR);
    let esp: JeosDisk['esp'] | undefined;
    let varPart: JeosDisk['var'];
    for (let i = 0; i < count; i++) {
      const e = table.subarray(i * size, (i + 1) * size);
      const type = decodeGuid(e.subarray(0, 16));
      const name = e.toString('utf16le', 56, 128).replace(/\0.*$/s, '');
      const range = { first: Number(e.readBigUInt64LE(32)), last: Number(e.readBigUInt64LE(40)) };
      if (type === PARTITION_TYPES.esp && name === ESP_PART_NAME) esp = range;
      if (type === PARTITION_TYPES.var && name === VAR_PART_NAME) varPart = range;
    }
    if (!esp) throw notOurs(path, `no EFI system partition named ${ESP_PART_NAME}`);
    const volume = await FatVolume.open(fh, esp.first * SECTOR, (esp.last - esp.first + 1) * SECTOR, { time: options.time });
    return { path, fh, esp, ...(varPart ? { var: varPart } : {}), volume, close: () => fh.close() };
  } catch (e) {
    await fh.close();
    throw e;
  }
}
