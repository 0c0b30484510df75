/**
 * Reading one .deb: the ar container, the control archive (control paragraph,
 * conffiles, scripts, md5sums) and the data archive's entries.
 */
import { JeosError } from '../errors.js';
import { readDebMembers, type DebMembers } from './ar.js';
import { decompress, type Compression } from './decompress.js';
import { CONTROL_LIMIT, dataLimit, type MemberLimit } from './limits.js';
import { readTar, type TarEntry } from './tar.js';

export interface DebContents {
  label: string;
  /** The control paragraph, field names as written, in order. */
  control: Array<[string, string]>;
  /** Every control.tar member except `control` itself, by name (`postinst`, `md5sums`, …). */
  controlFiles: Map<string, Buffer>;
  /** The data.tar entries, in archive order. */
  entries: TarEntry[];
  dataCompression: Compression;
}

/** Read a .deb completely: decompress both archives and parse them. */
export async function readDeb(bytes: Buffer, label: string, options: DebLimits = {}): Promise<DebContents> {
  return decodeDeb(readDebMembers(bytes, label), label, options);
}

export interface DebLimits {
  /** The ceiling for a data member, in MiB (default DEFAULT_MAX_PACKAGE_MIB). */
  maxPackageMiB?: number;
}

/**
 * The slow half of readDeb, for callers that have already split the ar container. The
 * control archive comes first: its Installed-Size sets how far the data archive may expand.
 */
export async function decodeDeb(members: DebMembers, label: string, options: DebLimits = {}): Promise<DebContents> {
  const controlTar = await decompress(members.control.data, members.control.compression, { label, member: members.control.name }, CONTROL_LIMIT);
  const head = parseControlArchive(members, controlTar, label);
  const dataTar = await decompress(members.data.data, members.data.compression, { label, member: members.data.name }, dataLimitOf(head, options));
  return parseDataArchive(head, members, dataTar);
}

/** What a package's control archive says. */
export type DebHead = Pick<DebContents, 'label' | 'control' | 'controlFiles'>;

/** How far this package's data archive may expand: from its Installed-Size, never past the ceiling. */
export function dataLimitOf(head: DebHead, options: DebLimits = {}): MemberLimit {
  return dataLimit(controlField(head.control, 'Installed-Size'), options.maxPackageMiB);
}

/** Parse a package's two archives once they are decompressed. */
export function parseDeb(members: DebMembers, controlTar: Buffer, dataTar: Buffer, label: string): DebContents {
  return parseDataArchive(parseControlArchive(members, controlTar, label), members, dataTar);
}

/** The control paragraph and the other control.tar members, from the decompressed control archive. */
export function parseControlArchive(members: DebMembers, controlTar: Buffer, label: string): DebHead {
  const controlEntries = readTar(controlTar, { label, member: members.control.name });
  const controlFiles = new Map<string, Buffer>();
  let controlText: string | undefined;
  for (const entry of controlEntries) {
    if (entry.type !== 'file') continue;
    const name = entry.path.replace(/^(\.\/)+/, '');
    if (name === 'control') controlText = entry.data.toString('utf8');
    else controlFiles.set(name, entry.data);
  }
  if (controlText === undefined) {
    throw new JeosError('E_DEB_BAD_CONTROL', `${label}: ${members.control.name} has no control file`, {
      hint: 'the package is malformed; every .deb carries a control file in control.tar',
    });
  }
  return { label, control: parseControl(controlText, label), controlFiles };
}

/** The whole package, once its data archive is decompressed too. */
export function parseDataArchive(head: DebHead, members: DebMembers, dataTar: Buffer): DebContents {
  const entries = readTar(dataTar, { label: head.label, member: members.data.name });
  return { ...head, entries, dataCompression: members.data.compression };
}

/** One deb822 paragraph, fields in order; continuation lines are joined with "\n" (leading space dropped). */
export function parseControl(text: string, label: string): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') {
      if (fields.length) break; // dpkg reads only the first paragraph
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      const last = fields[fields.length - 1];
      if (!last) throw badControl(label, `it starts with a continuation line`);
      last[1] += `\n${line.slice(1)}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw badControl(label, `line ${JSON.stringify(line)} is not "Field: value"`);
    fields.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  for (const required of ['Package', 'Version', 'Architecture']) {
    if (!controlField(fields, required)) throw badControl(label, `the ${required} field is missing`);
  }
  return fields;
}

function badControl(label: string, why: string): JeosError {
  return new JeosError('E_DEB_BAD_CONTROL', `${label}: the control file cannot be read: ${why}`, {
    hint: 'the package is malformed; check it with dpkg-deb --info',
  });
}

/** A field of a control paragraph, by case-insensitive name. */
export function controlField(control: Array<[string, string]>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [key, value] of control) if (key.toLowerCase() === lower) return value;
  return undefined;
}

/**
 * Conffile paths from a control.tar `conffiles` member. Lines may carry flags before the
 * path (`remove-on-upgrade /etc/x`); such obsolete conffiles are not shipped and are left out.
 */
export function parseConffiles(text: string | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.trim() === '') continue;
    if (line.startsWith('/')) out.push(line);
    else if (!/^\s*remove-on-upgrade\s/.test(line)) {
      const slash = line.indexOf('/');
      if (slash >= 0) out.push(line.slice(slash));
    }
  }
  return out;
}
