/**
 * The outer container of a .deb: a BSD/GNU `ar` archive (deb(5)) holding
 * `debian-binary`, `control.tar[.comp]` and `data.tar[.comp]`, in that order.
 */
import { JeosError } from '../errors.js';
import { compressionOfMember, type Compression } from './decompress.js';

const AR_MAGIC = '!<arch>\n';
const HEADER_SIZE = 60;

export interface ArMember {
  name: string;
  /** The member's bytes: a view into the archive, not a copy. */
  data: Buffer;
}

/** The three members of a .deb that matter, each with the compression its name says. */
export interface DebMembers {
  /** The `debian-binary` format version, `2.0` for every current package. */
  format: string;
  control: { name: string; compression: Compression; data: Buffer };
  data: { name: string; compression: Compression; data: Buffer };
}

function notADeb(label: string, why: string): JeosError {
  return new JeosError('E_DEB_NOT_A_DEB', `${label} is not a Debian package: ${why}`, {
    hint: 'the file is damaged or is not a .deb; remove it from the cache so it is downloaded again',
  });
}

/** Every member of an `ar` archive, in order. */
export function readAr(bytes: Buffer, label: string): ArMember[] {
  if (bytes.length < AR_MAGIC.length || bytes.toString('latin1', 0, AR_MAGIC.length) !== AR_MAGIC) {
    throw notADeb(label, 'it does not start with the ar archive signature "!<arch>"');
  }
  const members: ArMember[] = [];
  let offset = AR_MAGIC.length;
  while (offset < bytes.length) {
    // A lone padding byte at the very end is tolerated (some writers pad the last member, some do not).
    if (offset + 1 === bytes.length && bytes[offset] === 0x0a) break;
    if (offset + HEADER_SIZE > bytes.length) {
      throw new JeosError('E_DEB_TRUNCATED', `${label} is truncated: an ar member header at byte ${offset} is cut short`, {
        hint: 'the download was incomplete; remove the file from the cache so it is downloaded again',
      });
    }
    const header = bytes.toString('latin1', offset, offset + HEADER_SIZE);
    if (header.slice(58, 60) !== '`\n') {
      throw new JeosError('E_DEB_CORRUPT', `${label} has a garbled ar member header at byte ${offset}`, {
        hint: 'the file is damaged; remove it from the cache so it is downloaded again',
      });
    }
    // GNU ar ends names with "/"; both pad with spaces.
    const name = header.slice(0, 16).trimEnd().replace(/\/$/, '');
    const sizeText = header.slice(48, 58).trim();
    if (!/^\d+$/.test(sizeText)) {
      throw new JeosError('E_DEB_CORRUPT', `${label} has a garbled size ${JSON.stringify(sizeText)} for ar member ${JSON.stringify(name)}`, {
        hint: 'the file is damaged; remove it from the cache so it is downloaded again',
      });
    }
    const size = Number(sizeText);
    const start = offset + HEADER_SIZE;
    if (start + size > bytes.length) {
      throw new JeosError(
        'E_DEB_TRUNCATED',
        `${label} is truncated: ar member ${JSON.stringify(name)} should have ${size} bytes but only ${bytes.length - start} are there`,
        { hint: 'the download was incomplete; remove the file from the cache so it is downloaded again' },
      );
    }
    members.push({ name, data: bytes.subarray(start, start + size) });
    offset = start + size + (size % 2);
  }
  return members;
}

/**
 * The members of a .deb, checked as dpkg-deb does: `debian-binary` (format 2.x) first,
 * then `control.tar*`, then `data.tar*`. Members whose names start with `_` may sit
 * between them and anything after `data.tar*` is ignored (deb(5)).
 */
export function readDebMembers(bytes: Buffer, label: string): DebMembers {
  const members = readAr(bytes, label);
  const first = members[0];
  if (!first) throw notADeb(label, 'the ar archive is empty');
  if (first.name !== 'debian-binary') throw notADeb(label, `the first member is ${JSON.stringify(first.name)}, not "debian-binary"`);
  const format = first.data.toString('latin1').trim();
  if (!/^2\.\d+$/.test(format)) {
    throw new JeosError('E_DEB_NOT_A_DEB', `${label} has .deb format ${JSON.stringify(format)}; only format 2.x is supported`, {
      hint: 'only packages built by a current dpkg-deb (format 2.0) can be unpacked',
    });
  }
  let index = 1;
  const next = (prefix: 'control.tar' | 'data.tar'): { name: string; compression: Compression; data: Buffer } => {
    while (members[index]?.name.startsWith('_')) index++;
    const member = members[index++];
    if (!member) throw notADeb(label, `the ${prefix} member is missing`);
    if (member.name !== prefix && !member.name.startsWith(`${prefix}.`)) {
      throw notADeb(label, `expected a ${prefix} member but found ${JSON.stringify(member.name)}`);
    }
    const compression = compressionOfMember(member.name);
    if (!compression) {
      throw new JeosError('E_DEB_BAD_COMPRESSION', `${label}: member ${member.name} uses a compression jeos cannot read`, {
        hint: 'supported: uncompressed, .gz, .xz and .zst (every package in the Debian archive uses one of these)',
      });
    }
    return { name: member.name, compression, data: member.data };
  };
  const control = next('control.tar');
  const data = next('data.tar');
  return { format, control, data };
}
