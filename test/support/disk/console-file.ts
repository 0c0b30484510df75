// The serial console jeos test --console kept: the lines that tell a disk boot's stages, for an assertion's
// message when a boot was recorded unlike the guest said (CI keeps the message, not the file).
import { readFile } from 'node:fs/promises';

const STAGES = /BdsDxe: starting|EFI stub|Linux version|Kernel command line|JEOS_BOOT_COMPLETE|jeos-update: (installing|installed|rebooting)/;

export async function consoleStages(file: string): Promise<string> {
  const text = await readFile(file, 'latin1').catch(() => '');
  // Control characters made visible: a lost or doubled byte is what these lines are read for.
  const lines = text.split('\n').filter((l) => STAGES.test(l)).map((l) => JSON.stringify(l.replace(/\r$/, '')));
  return `the console's stage lines (${file}):\n${lines.join('\n')}`;
}
