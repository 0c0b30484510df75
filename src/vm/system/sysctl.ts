/**
 * The image's sysctl.d settings as kernel command-line arguments. Since Linux 5.8 the
 * kernel applies `sysctl.<key>=<value>` itself before it runs /init, so a VM whose
 * settings can all be written that way needs no systemd-sysctl.service at boot (under
 * QEMU's TCG each service started costs a few hundred milliseconds), and a BusyBox VM,
 * which runs no sysctl at all, gets them too.
 *
 * Files are read as systemd-sysctl reads them (sysctl.d(5)): `*.conf` in /etc, /run,
 * /usr/local/lib and /usr/lib, a name in an earlier directory hiding the same name in
 * a later one, an empty file or a link to /dev/null masking it, and all of them in
 * the order of their names, a later assignment of a key replacing an earlier one.
 *
 * A setting stays with systemd-sysctl when the kernel cannot apply it at boot: a key
 * with a glob (`net.ipv4.conf.*.rp_filter`), a value with a
 * double quote, a key that names a network interface other than lo, all or default
 * (none exists that early: virtio_net is a module), or a key outside what Debian's
 * kernels have built in (a module's keys, such as net.netfilter.*, appear only once
 * it is loaded). Under systemd, also a key systemd itself writes when it starts:
 * kernel.core_pattern (it turns core dumps off until systemd-sysctl runs), fs.file-max
 * and fs.nr_open (raised to their maximum) and net.unix.max_dgram_qlen (raised to
 * 512); the kernel's earlier value would be overwritten.
 */
import type { ImageTree } from '../../tree/index.js';
import { readConfD } from '../../configure/confd.js';

export const SYSCTL_DIRS = ['etc/sysctl.d', 'run/sysctl.d', 'usr/local/lib/sysctl.d', 'usr/lib/sysctl.d'] as const;

export interface SysctlSetting {
  key: string;
  value: string;
  /** The file that set it last, as an absolute path. */
  file: string;
}

export type SysctlInit = 'systemd' | 'busybox';

/** What build.json records: the settings (`key=value`, in the order applied) and what applies them. */
export interface SysctlRecord {
  settings: string[];
  on: 'kernel command line' | 'systemd-sysctl.service' | 'not applied';
  /** Why the kernel does not apply them, when it does not. */
  reason?: string;
  /** The kernel command-line arguments, when it does. */
  args?: string[];
}

export interface SysctlPlan {
  /** The settings in the order the kernel applies them. */
  settings: SysctlSetting[];
  /** `sysctl.<key>=<value>` for each setting, when every one can be written so. */
  args?: string[];
  /** Why systemd-sysctl is still needed, when it is: the first setting the kernel cannot apply. */
  needsService?: string;
}

/** Built-in key prefixes whose entries exist before /init runs. */
const BUILT_IN = [/^kernel\./, /^vm\./, /^fs\./, /^net\.core\./, /^net\.unix\./, /^net\.ipv4\./, /^net\.ipv6\./, /^user\./, /^abi\./, /^debug\./];
/**
 * Under the built-in prefixes, what belongs to modules or interfaces, and the two keys
 * whose value names a module (a queueing discipline, a congestion control algorithm)
 * that the kernel could not load before /init.
 */
const FROM_MODULES = [/^net\.ipv4\.(netfilter|vs)\b/, /^net\.core\.default_qdisc$/, /^net\.ipv4\.tcp_congestion_control$/, /^net\.ipv[46]\.conf\.(?!(all|default|lo)\.)/, /^net\.ipv6\.neigh\.(?!(default|lo)\.)/, /^net\.ipv4\.neigh\.(?!(default|lo)\.)/, /^fs\.(nfs|lustre|ocfs2|quota|xfs|fscache|cachefiles|binfmt_misc)\b/];

/** Keys systemd writes as it starts, after the kernel has applied its command line. */
const SYSTEMD_WRITES = new Set(['kernel.core_pattern', 'fs.file-max', 'fs.nr_open', 'net.unix.max_dgram_qlen']);

/** systemd's key form: dots between components; a key written with slashes keeps any dots inside a component (an interface name such as eth0.1). */
function normalizeKey(raw: string): { key: string; dottedComponent: boolean } {
  const key = raw.replace(/^\/+/, '');
  const slash = key.indexOf('/');
  const dot = key.indexOf('.');
  if (slash >= 0 && (dot < 0 || slash < dot)) {
    const parts = key.split('/').filter(Boolean);
    return { key: parts.join('.'), dottedComponent: parts.some((p) => p.includes('.')) };
  }
  return { key, dottedComponent: false };
}

function blocker(setting: SysctlSetting, raw: string, dottedComponent: boolean, init: SysctlInit): string | undefined {
  const at = `${setting.file}: ${raw}`;
  if (init === 'systemd' && SYSTEMD_WRITES.has(setting.key)) return `${at} (systemd writes this key as it starts, after the kernel)`;
  if (/[*?[]/.test(setting.key)) return `${at} (a pattern, matched against the keys that exist at boot)`;
  if (dottedComponent) return `${at} (a component with a dot cannot be written on the kernel command line)`;
  if (/["\n]/.test(setting.value) || setting.value === '') return `${at} (${setting.value ? 'the value has a double quote' : 'the value is empty'})`;
  if (!BUILT_IN.some((p) => p.test(setting.key)) || FROM_MODULES.some((p) => p.test(setting.key))) return `${at} (the key or its value needs a module or an interface, which appear only after /init)`;
  return undefined;
}

/** The image's sysctl settings, and their kernel command-line form when the kernel can apply them all at boot. */
export function planSysctl(tree: ImageTree, init: SysctlInit): SysctlPlan {
  const byKey = new Map<string, SysctlSetting>();
  let needsService: string | undefined;
  for (const { file, text } of readConfD(tree, SYSCTL_DIRS)) {
    for (const line of text.split('\n')) {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
      const eq = trimmed.indexOf('=');
      if (eq < 0) continue; // `-KEY`: leaves KEY out of a glob's matches (a glob keeps the service anyway)
      const rawKey = trimmed.slice(0, eq).trim().replace(/^-/, '');
      const { key, dottedComponent } = normalizeKey(rawKey);
      const setting = { key, value: trimmed.slice(eq + 1).trim(), file };
      needsService ??= blocker(setting, trimmed, dottedComponent, init);
      byKey.delete(key);
      byKey.set(key, setting);
    }
  }
  const settings = [...byKey.values()];
  if (needsService) return { settings, needsService };
  return { settings, args: settings.map((s) => `sysctl.${s.key}=${/\s/.test(s.value) ? `"${s.value}"` : s.value}`) };
}

export function sysctlRecord(plan: SysctlPlan, init: SysctlInit): SysctlRecord {
  const settings = plan.settings.map((s) => `${s.key}=${s.value}`);
  if (plan.args) return { settings, on: 'kernel command line', args: plan.args };
  return { settings, on: init === 'systemd' ? 'systemd-sysctl.service' : 'not applied', ...(plan.needsService ? { reason: plan.needsService } : {}) };
}
