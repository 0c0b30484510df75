import type { Command } from 'commander';
import { newKeyPair } from '../../lifecycle/channel/index.js';
import { printJson } from '../format.js';

export function registerKey(program: Command): void {
  const key = program.command('key').description('signing keys for channels');
  key
    .command('new')
    .requiredOption('--out <dir>', 'directory for channel.key (secret, mode 0600) and channel.pub (public, ASCII-armoured)')
    .option('--name <name>', 'the name in the key\'s user id (default: jeos channel)')
    .option('--json', 'print machine-readable JSON on stdout')
    .description('make an OpenPGP (ed25519) key pair that signs a channel; never overwrites a key')
    .addHelpText(
      'after',
      `
channel.pub goes into every image that follows the channel, as the only key of
systemd-sysupdate's keyring: Debian's default import keyring trusts other vendors'
keys, an image must not. Keep channel.key off the machines that run images.

Example:
  jeos key new --out keys/stable`,
    )
    .action(async (flags: { out: string; name?: string; json?: boolean }) => {
      const made = await newKeyPair(flags.out, flags.name ? { name: flags.name } : {});
      if (flags.json) return printJson({ ok: true, ...made });
      console.log(`secret key  ${made.secretKey} (mode 0600: keep it where you publish from)`);
      console.log(`public key  ${made.publicKey} (goes into images that follow the channel)`);
      console.log(`fingerprint ${made.fingerprint}`);
    });
}
