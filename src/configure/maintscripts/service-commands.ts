/**
 * Commands about services and alternatives: systemctl, deb-systemd-helper,
 * update-rc.d and update-alternatives.
 */
import { parseArgs, UnsupportedCommand } from './args.js';
import { done, na, notReproduced, reproduced, type Args, type Classification, type ClassifyContext, type Handler } from './classification.js';

export const SERVICE_HANDLERS: Record<string, Handler> = {};

SERVICE_HANDLERS['update-alternatives'] = (args, _cmd, ctx) => updateAlternatives(args, ctx);

SERVICE_HANDLERS['systemctl'] = (args) => {
  const { opts, operands } = parseArgs(args.filter((a) => a !== ''), {
    flags: { '--system': 'ignore', '--no-reload': 'ignore', '--quiet': 'ignore', '-q': 'ignore', '--no-block': 'ignore', '--now': 'now', '--user': 'user', '--global': 'user', '--force': 'ignore', '-f': 'ignore', '--no-ask-password': 'ignore', '--no-pager': 'ignore' },
    values: { '--root': 'root' },
  });
  const [verb, ...units] = operands;
  const user = opts.has('user');
  if (verb === 'enable') return reproduced([{ kind: 'enable-units', units, ...(user ? { user } : {}) }], 'by the systemd-units effect');
  if (user) return notReproduced(`systemctl --user ${verb ?? ''} is not reproduced`);
  if (verb === 'unmask') return done('nothing is masked on a first installation');
  if (verb && /^(daemon-reload|daemon-reexec|start|stop|restart|try-restart|reload|reload-or-restart|try-reload-or-restart|kill|reset-failed)$/.test(verb)) {
    return done('acts on the running systemd; nothing runs while the image is built');
  }
  if (verb && /^(status|show|cat|list-units|list-unit-files|is-system-running)$/.test(verb)) return na();
  if (verb && /^is-(active|enabled|failed)$/.test(verb)) return na(undefined, undefined);
  return notReproduced(`systemctl ${verb ?? ''} is not reproduced`);
};
SERVICE_HANDLERS['deb-systemd-helper'] = (args) => {
  const { opts, operands } = parseArgs(args, { flags: { '--quiet': 'ignore', '--user': 'user' } });
  const [verb, ...units] = operands;
  const user = opts.has('user');
  switch (verb) {
    case 'enable':
      return reproduced([{ kind: 'enable-units', units, ...(user ? { user } : {}) }], 'by the systemd-units effect');
    case 'was-enabled':
      // No state yet on a first installation: deb-systemd-helper answers "enabled", so the script enables.
      return na(undefined, true);
    case 'debian-installed':
      return na(undefined, false);
    case 'unmask':
    case 'update-state':
    case 'purge':
    case 'disable':
      return done('deb-systemd-helper state bookkeeping; nothing to do on a first installation');
    default:
      return notReproduced(`deb-systemd-helper ${verb ?? ''} is not reproduced`);
  }
};
SERVICE_HANDLERS['update-rc.d'] = (args, _cmd, ctx) => {
  const name = args.find((a) => a !== undefined && !a.startsWith('-'));
  if (name !== undefined && ctx.world.kind(`/etc/init.d/${name}`) === undefined) return na(`no /etc/init.d/${name} in the image`);
  // jeos starts the workload itself (its unit in a VM, the command in a container) and masks systemd's SysV generator.
  return done('SysV init rc.d links: no SysV init runs in a jeos image');
};

function updateAlternatives(args: Args, ctx: ClassifyContext): Classification {
  const words = args.filter((a) => a !== '--quiet' && a !== '--verbose' && a !== '--force' && a !== '--skip-auto');
  const [verb] = words;
  if (verb === '--install') {
    const [, link, name, path, prio, ...rest] = words;
    if ([link, name, path, prio].some((x) => x === undefined) || rest.some((x) => x === undefined)) {
      throw new UnsupportedCommand('an argument is not known when the image is built');
    }
    if (!/^-?[0-9]+$/.test(prio!)) throw new UnsupportedCommand(`priority ${prio} is not a number`);
    const slaves: Array<{ link: string; name: string; path: string }> = [];
    for (let i = 0; i < rest.length; i += 4) {
      if (rest[i] !== '--slave' || i + 3 >= rest.length) throw new UnsupportedCommand(`unexpected ${rest[i]} after --install`);
      slaves.push({ link: rest[i + 1]!, name: rest[i + 2]!, path: rest[i + 3]! });
    }
    ctx.world.alternatives.add(name!);
    return reproduced([{ kind: 'alternative', link: link!, name: name!, path: path!, priority: Number(prio), slaves }], 'by the alternatives effect');
  }
  if (verb === '--set' && words.length === 3 && words[1] !== undefined && words[2] !== undefined) {
    return reproduced([{ kind: 'alternative-set', name: words[1], path: words[2] }], 'by the alternatives effect');
  }
  if (verb === '--auto' && words.length === 2 && words[1] !== undefined) {
    return done(ctx.world.alternatives.has(words[1]) ? 'link groups are in auto mode already' : `no link group ${words[1]} is registered`);
  }
  if ((verb === '--remove' || verb === '--remove-all') && words[1] !== undefined && !ctx.world.alternatives.has(words[1])) {
    return done('nothing is registered on a first installation');
  }
  if (verb && /^--(query|display|list|get-selections)$/.test(verb)) return na();
  return notReproduced(`update-alternatives ${verb ?? ''} is not reproduced`);
}
