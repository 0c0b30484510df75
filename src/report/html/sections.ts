/** The report's tables: the packages, the trim's totals, the security posture and the SBOM's figures. */
import type { BuildRecord, VariantName, VariantRecord } from '../../record/index.js';
import { anchor, bytes, count, esc, table } from './markup.js';
import type { SbomSummary } from './sbom-summary.js';
import type { Exposure, ReportLockedPackage } from './types.js';

/** Characters of a licence expression shown before it folds. */
const LONG_LICENCE = 160;

export const TREE_TITLE: Readonly<Record<VariantName, string>> = { image: 'container image', vm: 'VM' };

export function variantsOf(record: BuildRecord): Array<[VariantName, VariantRecord]> {
  return record.vm ? [['image', record.image], ['vm', record.vm]] : [['image', record.image]];
}

/** The lock's reasons for a package: the packages that need it (linked to their rows), and the other reasons as written. */
function why(p: ReportLockedPackage, listed: Set<string>): string {
  const parts = p.neededBy.map((reason) => {
    if (reason === '(request)') return 'asked for (<code>workload.packages</code>)';
    const m = /^([^\s:()]+): (.+)$/.exec(reason);
    if (!m) return esc(reason);
    const name = listed.has(m[1]!) ? `<a href="#${anchor('pkg', m[1]!)}">${esc(m[1]!)}</a>` : esc(m[1]!);
    return `<span title="${esc(m[2]!)}">${name}</span>`;
  });
  return parts.join(', ');
}

/** A long expression (libc6's runs to thousands of characters) opens on demand. */
function licenceCell(expression: string, note: string): string {
  if (expression.length <= LONG_LICENCE) return note ? `<span title="${esc(note)}">${esc(expression)}</span>` : esc(expression);
  const parts = expression.split(' AND ').length;
  return `<details class="licence"><summary${note ? ` title="${esc(note)}"` : ''}>${esc(expression.slice(0, LONG_LICENCE - 40).replace(/\s+\S*$/, ''))} … (${parts} terms joined by AND)</summary>${esc(expression)}</details>`;
}

export function packagesSection(lock: readonly ReportLockedPackage[], sbom: SbomSummary): string {
  const seen = new Set<string>();
  const packages = [...lock]
    .filter((p) => !seen.has(`${p.name}:${p.architecture}`) && seen.add(`${p.name}:${p.architecture}`))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.architecture < b.architecture ? -1 : 1));
  const names = new Set(packages.map((p) => p.name));
  const rows = packages.map((p) => {
    const s = sbom.packages.find((x) => x.name === p.name && x.version === p.version);
    // Where the licence was read, or why there is none: shown for NOASSERTION, a tooltip otherwise.
    const licence = !s ? '—' : s.licence === 'NOASSERTION' ? `NOASSERTION<br><span class="n">${esc(s.licenceNote)}</span>` : licenceCell(s.licence, s.licenceNote);
    return [
      `<span id="${anchor('pkg', p.name)}" class="pkg">${esc(p.name)}</span>`,
      `<code>${esc(p.version)}</code>`,
      esc(p.architecture),
      licence,
      s ? s.trees.split('; ').map(esc).join('<br>') : 'in no tree',
      why(p, names),
    ];
  });
  return table(['package', 'version', 'arch', 'licence (declared)', 'in the trees', 'why it is there (jeos.lock)'], rows, 'packages');
}

const figure = (files: number, n: number) => `${count(files)} files, ${count(n)} bytes (${bytes(n)})`;

export function totalsSection(record: BuildRecord): string {
  const rows = variantsOf(record).map(([name, v]) => {
    const t = v.trim;
    if (!t) return [esc(TREE_TITLE[name]), 'not trimmed', figure(v.tree.files, v.tree.bytes), '—'];
    return [esc(TREE_TITLE[name]), figure(t.before.files, t.before.bytes), figure(t.kept.files, t.kept.bytes), figure(t.dropped.files, t.dropped.bytes)];
  });
  const missing = variantsOf(record).flatMap(([name, v]) =>
    (v.trim?.missing ?? []).map((m) => [esc(TREE_TITLE[name]), `<code>${esc(m.what)}</code>`, `${esc(m.why)} of <code>${esc(m.neededBy)}</code>`]),
  );
  return [
    table(['tree', 'before the trim', 'kept', 'dropped'], rows, 'totals'),
    missing.length ? `<p class="warn">What kept files need and the image does not have:</p>${table(['tree', 'missing', 'needed as'], missing)}` : '',
  ].join('\n');
}

/** systemd's exposure score of the VM's workload unit; not applicable to a container, which has no systemd. */
function exposureSection(record: BuildRecord, exposure: Exposure | undefined): string {
  const out = ['<h3>Exposure score (systemd-analyze security)</h3>'];
  const container = '<p id="exposure-image">The container image: not applicable. A container runs no systemd; what confines the workload there is the runtime\'s (its user, capabilities, seccomp profile and namespaces).</p>';
  out.push(container);
  if (!record.vm) return out.join('\n');
  if (!exposure) {
    out.push('<p id="exposure-vm">The VM: not measured, it has no workload unit of jeos\'s (no <code>workload.command</code>; the packages\' own units run).</p>');
  } else if ('notMeasured' in exposure) {
    out.push(`<p id="exposure-vm">The VM's <code>${esc(exposure.unit)}</code>: not measured: ${esc(exposure.notMeasured)}.</p>`);
  } else {
    out.push(
      `<p id="exposure-vm">The VM's <code>${esc(exposure.unit)}</code>: <b class="score">${esc(exposure.score.toFixed(1))} ${esc(exposure.rating)}</b> ` +
        `<span class="n">(0 is confined, 10 is not at all; ${esc(exposure.tool)} on the build host, <code>--offline=true</code> over the unit and its drop-ins as the VM has them)</span></p>`,
    );
    if (exposure.worst.length) {
      out.push(table(['setting', 'what it leaves open', 'exposure'], exposure.worst.map((w) => [`<code>${esc(w.setting)}</code>`, esc(w.description), esc(w.exposure.toFixed(1))]), 'exposure'));
    }
  }
  return out.join('\n');
}

export function postureSection(record: BuildRecord, ports: ReadonlyArray<number | string>, exposure?: Exposure): string {
  const setuid = variantsOf(record).flatMap(([name, v]) =>
    v.setuid.map((s) => [esc(TREE_TITLE[name]), `<code>${esc(s.path)}</code>`, `<code>${esc(s.mode)}</code>`, s.package ? esc(s.package) : 'workload file']),
  );
  const out: string[] = [];
  out.push('<h3>Setuid and setgid files</h3>');
  out.push(setuid.length ? table(['tree', 'path', 'mode', 'package'], setuid, 'setuid') : '<p id="setuid-none">None: nothing in the image runs with another user\'s rights.</p>');
  out.push('<h3>Listening ports declared</h3>');
  out.push(
    ports.length
      ? `<ul id="ports">${ports.map((p) => `<li><code>${esc(String(p))}</code></li>`).join('')}</ul><p class="n">As declared in jeos.yaml's <code>workload.ports</code>.</p>`
      : '<p id="ports">None declared in jeos.yaml\'s <code>workload.ports</code>.</p>',
  );
  out.push('<h3>Units in the VM</h3>');
  const system = record.vm?.system;
  if (!system) out.push('<p>No VM was built.</p>');
  else {
    const list = (units: string[]) => (units.length ? units.map((u) => `<code>${esc(u)}</code>`).join(' ') : 'none');
    const reasons = (what: string, units: Array<{ unit: string; reason: string }>) =>
      units.length
        ? `<details class="units"><summary>${what}: ${count(units.length)}</summary><ul>${units.map((u) => `<li><code>${esc(u.unit)}</code>: ${esc(u.reason)}</li>`).join('')}</ul></details>`
        : `<p>${what}: none</p>`;
    out.push(
      table(
        ['init', 'workload unit', 'enabled'],
        [[`<code>${esc(system.init)}</code>`, system.workloadUnit ? `<code>${esc(system.workloadUnit)}</code>` : '—', `<span id="units-enabled">${list(system.enabled)}</span>`]],
      ),
    );
    out.push(reasons('Masked (never started, with the reason)', system.masked), reasons('Disabled (not started at boot)', system.disabled));
  }
  out.push(exposureSection(record, exposure));
  return out.join('\n');
}

export function sbomSection(sbom: SbomSummary, trees: VariantName[]): string {
  const files = trees.map((t) => `${count(sbom.files[t] ?? 0)} in the ${TREE_TITLE[t]}`).join(', ');
  const none = sbom.licences.find((l) => l.licence === 'NOASSERTION')?.packages ?? 0;
  return [
    `<p><b>${count(sbom.packages.length)}</b> packages; <b>${files}</b> regular files, each with its SHA-1 and SHA-256; <b>${count(sbom.licences.length)}</b> distinct declared licences` +
      `${sbom.licenceRefs ? ` (${count(sbom.licenceRefs)} without an SPDX identifier, given with their text)` : ''}` +
      `${none ? `; ${count(none)} package${none === 1 ? '' : 's'} without a machine-readable licence (NOASSERTION)` : ''}.` +
      ' In <code>sbom.spdx.json</code> (SPDX 2.3) and <code>sbom.cdx.json</code> (CycloneDX 1.6) beside this report.</p>',
    table(['declared licence', 'packages'], sbom.licences.map((l) => [licenceCell(l.licence, ''), count(l.packages)]), 'licences'),
  ].join('\n');
}
