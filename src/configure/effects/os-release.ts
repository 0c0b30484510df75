/**
 * /etc/os-release describing the image truthfully for scanners (trivy, grype,
 * syft read ID and VERSION_ID from here first): the Debian release it is made
 * of, marked as the jeos variant, with IMAGE_ID and IMAGE_VERSION (os-release(5)).
 * Fields of the release's /usr/lib/os-release (from base-files) are kept when
 * it is in the image, and that file is left untouched; a symlink at
 * /etc/os-release is replaced by the file.
 */
import { JeosError } from '../../errors.js';
import type { EffectReport } from '../types.js';
import { Changes, ensureParents, madeMeta, type EffectContext } from './context.js';

/** os-release's value syntax: shell-compatible, quoted when needed. */
function quote(value: string): string {
  return /^[A-Za-z0-9._-]+$/.test(value) ? value : `"${value.replace(/(["\\`$])/g, '\\$1')}"`;
}

function unquote(value: string): string {
  const v = value.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) return v.slice(1, -1).replace(/\\(["\\`$])/g, '$1');
  if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) return v.slice(1, -1);
  return v;
}

export function parseOsRelease(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) fields.set(m[1]!, unquote(m[2]!));
  }
  return fields;
}

export function configureOsRelease(ctx: EffectContext): EffectReport {
  const { tree, options } = ctx;
  const { imageId, imageVersion, versionId, codename } = options.os;
  if (!/^[a-z0-9._-]+$/.test(imageId)) {
    throw new JeosError('E_CONFIGURE_IMAGE_ID', `image id ${JSON.stringify(imageId)} cannot be an os-release IMAGE_ID`, {
      hint: 'os-release(5) allows lower-case letters, digits, ".", "_" and "-" only',
    });
  }
  if (!/^[A-Za-z0-9._~+-]+$/.test(imageVersion)) {
    throw new JeosError('E_CONFIGURE_IMAGE_VERSION', `image version ${JSON.stringify(imageVersion)} cannot be an os-release IMAGE_VERSION`, {
      hint: 'use letters, digits, ".", "_", "~", "+" and "-", with no spaces',
    });
  }
  const base = parseOsRelease(tree.readFile('usr/lib/os-release')?.toString('utf8') ?? '');
  const fields = new Map<string, string>();
  const set = (k: string, v: string | undefined): void => {
    if (v !== undefined && v !== '') fields.set(k, v);
  };
  const name = base.get('NAME') ?? 'Debian GNU/Linux';
  const version = versionId ? `${versionId}${codename ? ` (${codename})` : ''}` : base.get('VERSION');
  set('PRETTY_NAME', version ? `${name} ${version}` : base.get('PRETTY_NAME') ?? name);
  set('NAME', name);
  set('VERSION_ID', versionId ?? base.get('VERSION_ID'));
  set('VERSION', version);
  set('VERSION_CODENAME', codename ?? base.get('VERSION_CODENAME'));
  // Keep the release's own extra fields (DEBIAN_VERSION_FULL, URLs) when they describe the same release.
  for (const [k, v] of base) if (!fields.has(k) && !['ID', 'VARIANT', 'VARIANT_ID', 'IMAGE_ID', 'IMAGE_VERSION'].includes(k) && (!versionId || base.get('VERSION_ID') === versionId)) set(k, v);
  fields.set('ID', 'debian');
  fields.set('VARIANT', 'jeos');
  fields.set('VARIANT_ID', 'jeos');
  fields.set('IMAGE_ID', imageId);
  fields.set('IMAGE_VERSION', imageVersion);

  const text = [...fields].map(([k, v]) => `${k}=${quote(v)}\n`).join('');
  const changes = new Changes();
  ensureParents(tree, 'etc/os-release', options, changes);
  tree.put('etc/os-release', { kind: 'file', data: Buffer.from(text), ...madeMeta(options, 0o644) });
  changes.add('etc/os-release');
  return changes.report('os-release', `ID=debian${fields.get('VERSION_ID') ? ` VERSION_ID=${fields.get('VERSION_ID')}` : ''} IMAGE_ID=${imageId} IMAGE_VERSION=${imageVersion}`);
}
