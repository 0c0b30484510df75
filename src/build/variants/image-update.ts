/**
 * What a disk that follows a channel (jeos.yaml's update:) carries: the channel's transfer
 * files, timer and service (src/lifecycle/channel), its key alone as systemd-sysupdate's
 * keyring, and the reboot window; src/vm writes them into the VM's tree.
 */
import { readProjectFile, SOURCE_FILE_RULES } from '../../config/project-files.js';
import type { Config } from '../../config/schema.js';
import { IMAGE_KEYRING, imageKeyring, sysupdateFiles } from '../../lifecycle/channel/index.js';
import type { ImageUpdateSpec } from '../../vm/index.js';

export async function imageUpdateSpec(config: Config, projectDir: string): Promise<ImageUpdateSpec | undefined> {
  const u = config.update;
  if (!u || !config.outputs.includes('disk')) return undefined;
  const what = `update.key ${u.key}`;
  const armored = (await readProjectFile(projectDir, u.key, { what, ...SOURCE_FILE_RULES, limit: 1 << 20 })).toString('utf8');
  const { keyring } = await imageKeyring(armored, what);
  return {
    files: sysupdateFiles({ url: u.channel, onBootSec: u.schedule.first, onUnitActiveSec: u.schedule.every, randomizedDelaySec: u.schedule.spread }),
    keyring,
    keyringPath: IMAGE_KEYRING,
    reboot: u.reboot,
  };
}
