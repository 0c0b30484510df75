import type { ArchiveIndex } from '../archive/client.js';
import { versionsOf } from '../archive/candidates.js';
import type { PackageRecord } from '../archive/packages.js';
import { compareVersions } from '../archive/version.js';
import { JeosError } from '../errors.js';

/** One parsed request spec: `name`, `name=version`, `name=1.2.*`, `name/suite`. */
export interface RequestSpec {
  text: string;
  name: string;
  version?: string;
  suite?: string;
}

const SPEC = /^([a-z0-9][a-z0-9+.-]*)(?:=([^\s/=]+)|\/([a-z0-9][a-z0-9.-]*))?$/;

export function parseSpec(text: string): RequestSpec {
  const m = SPEC.exec(text.trim());
  if (!m) {
    throw new JeosError('E_REQUEST_SYNTAX', `cannot read the package request "${text}"`, {
      hint: 'write name, name=version, name=1.26.* or name/suite (for example nginx/trixie-security)',
    });
  }
  const spec: RequestSpec = { text: text.trim(), name: m[1]! };
  if (m[2]) spec.version = m[2];
  if (m[3]) spec.suite = m[3];
  return spec;
}

export function isPin(spec: RequestSpec): boolean {
  return spec.version !== undefined || spec.suite !== undefined;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The version a pin selects: the newest one of the name matching the version (exact or glob) and suite. */
export function selectPinned(index: ArchiveIndex, spec: RequestSpec): PackageRecord {
  const all = versionsOf(index, spec.name);
  const versionOk = spec.version === undefined
    ? () => true
    : /[*?]/.test(spec.version)
      ? ((re) => (p: PackageRecord) => re.test(p.version))(globToRegExp(spec.version))
      : (p: PackageRecord) => compareVersions(p.version, spec.version!) === 0;
  const hit = all.find((p) => versionOk(p) && (spec.suite === undefined || p.suite === spec.suite));
  if (hit) return hit;
  const have = all.map((p) => `${p.version} (${p.suite})`).join(', ');
  const message = all.length
    ? `${spec.text} was requested, but the versions of ${spec.name} are ${have}`
    : `${spec.text} was requested, but no package is called ${spec.name} in ${index.suites.map((s) => s.suite).join(', ')}`;
  throw new JeosError('E_UNSATISFIABLE', message, {
    hint: spec.suite && !index.suites.some((s) => s.suite === spec.suite) ? `${spec.suite} is not one of the configured suites` : 'change or drop the pin',
    details: [message],
  });
}

/** `nginx=1.26.*` → `nginx (= 1.26.*)` for messages. */
export function describeSpec(spec: RequestSpec): string {
  return spec.text;
}
