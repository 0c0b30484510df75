/**
 * The apt sources the benchmarks give mmdebstrap: trixie, trixie-updates and
 * trixie-security, from the mirrors apt on this machine is configured with, signed by
 * Debian's archive keyring.
 */
import { resolveSettings } from '../src/settings/index.js';

export async function trixieSources(): Promise<string[]> {
  const { mirrors } = await resolveSettings();
  const keyring = '/usr/share/keyrings/debian-archive-keyring.gpg';
  return [
    `deb [signed-by=${keyring}] ${mirrors.archive} trixie main`,
    `deb [signed-by=${keyring}] ${mirrors.archive} trixie-updates main`,
    `deb [signed-by=${keyring}] ${mirrors.security} trixie-security main`,
  ];
}
