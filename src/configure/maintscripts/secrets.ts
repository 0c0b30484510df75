/**
 * Per-instance secrets. A maintainer-script step that generates a key, a cookie or a
 * certificate (openssl rand/genrsa/req, make-ssl-cert, ssh-keygen, bytes from /dev/urandom)
 * must not run at build time: every instance of the image would share its result. Such a
 * step becomes a first-start step — run before the workload, in the container's start script
 * and as the VM unit's ExecStartPre=, only while what it makes is missing — together with the
 * chmod, chown and chgrp steps that follow on the same path, which cannot act on a file the
 * build does not have. docs/build.md lists this table; add a row rather than a special case.
 */
import type { Args } from './classification.js';
import { parseArgs } from './args.js';

/** What a secret-generating step makes, and the packages that carry it out at start. */
export interface SecretOutput {
  /** Absolute paths it writes. */
  paths: string[];
  /** Debian packages with the programs the step runs. */
  packages: string[];
  /** What runs at start instead of the command itself, and the programs it runs. */
  run?: { text: string; programs: string[] };
}

const SNAKEOIL_CERT = '/etc/ssl/certs/ssl-cert-snakeoil.pem';
const SNAKEOIL_KEY = '/etc/ssl/private/ssl-cert-snakeoil.key';
/**
 * ssl-cert's snakeoil certificate, made as make-ssl-cert makes it (a self-signed certificate for
 * this host's name, valid ten years) by openssl alone: make-ssl-cert is a bash script that reads
 * debconf, whose frontend is Perl — three interpreters in the image for one certificate.
 */
export const SNAKEOIL_STEP = `[ -s ${SNAKEOIL_KEY} ] || { read h < /proc/sys/kernel/hostname; umask 077; /usr/bin/openssl req -new -x509 -nodes -days 3650 -subj "/CN=$h" -addext "subjectAltName=DNS:$h" -keyout ${SNAKEOIL_KEY} -out ${SNAKEOIL_CERT} && /usr/bin/chmod 644 ${SNAKEOIL_CERT}; }`;

type Detector = (args: Args, stdout: string | undefined) => SecretOutput | undefined;

const RANDOM_DEVICES = new Set(['/dev/urandom', '/dev/random']);
const OPENSSL_GENERATORS = new Set(['rand', 'genrsa', 'genpkey', 'gendsa', 'req', 'dhparam', 'ecparam']);
const known = (args: Args): string[] | undefined => (args.every((a): a is string => a !== undefined) ? (args as string[]) : undefined);
const absolute = (paths: Array<string | undefined>): string[] => paths.filter((p): p is string => p !== undefined && p.startsWith('/'));

/** The value of an option written `-out FILE` or `-out=FILE`. */
function optionValues(args: string[], names: string[]): string[] {
  const out: string[] = [];
  args.forEach((a, i) => {
    if (names.includes(a) && args[i + 1] !== undefined) out.push(args[i + 1]!);
    for (const n of names) if (a.startsWith(`${n}=`)) out.push(a.slice(n.length + 1));
  });
  return out;
}

/** The table: command name → what it makes when it makes a secret. */
export const SECRET_COMMANDS: Record<string, Detector> = {
  openssl(args, stdout) {
    const words = known(args);
    if (!words || !OPENSSL_GENERATORS.has(words[0]!)) return undefined;
    // ecparam generates a key only with -genkey; otherwise it prints parameters.
    if (words[0] === 'ecparam' && !words.includes('-genkey')) return undefined;
    const paths = absolute([...optionValues(words, ['-out', '-keyout']), stdout]);
    return paths.length ? { paths, packages: ['openssl'] } : undefined;
  },
  'make-ssl-cert'(args) {
    const words = known(args);
    if (!words) return undefined;
    if (words[0] === 'generate-default-snakeoil') {
      // The certificate and key of ssl-cert's own default, which servers' default configurations name.
      return { paths: [SNAKEOIL_CERT, SNAKEOIL_KEY], packages: ['openssl', 'coreutils'], run: { text: SNAKEOIL_STEP, programs: ['openssl', 'chmod'] } };
    }
    const output = words.filter((w) => !w.startsWith('-'))[1];
    return output?.startsWith('/') ? { paths: [output], packages: ['ssl-cert', 'openssl', 'bash', 'coreutils'] } : undefined;
  },
  'ssh-keygen'(args) {
    const words = known(args);
    if (!words) return undefined;
    if (words.includes('-A')) return { paths: ['/etc/ssh/ssh_host_ed25519_key'], packages: ['openssh-client'] };
    // Queries (-l fingerprint, -y public key, -F/-R known_hosts) make nothing.
    if (words.some((w) => /^-[lyFRBe]$/.test(w))) return undefined;
    const file = optionValues(words, ['-f'])[0];
    return file?.startsWith('/') ? { paths: [file, `${file}.pub`], packages: ['openssh-client'] } : undefined;
  },
  dd(args) {
    const words = known(args);
    if (!words) return undefined;
    const input = words.find((w) => w.startsWith('if='))?.slice(3);
    const output = words.find((w) => w.startsWith('of='))?.slice(3);
    return input && RANDOM_DEVICES.has(input) && output?.startsWith('/') ? { paths: [output], packages: ['coreutils'] } : undefined;
  },
  head(args, stdout) {
    const words = known(args);
    if (!words || !words.some((w) => RANDOM_DEVICES.has(w)) || !stdout?.startsWith('/')) return undefined;
    return { paths: [stdout], packages: ['coreutils'] };
  },
};

/** What the command makes when it generates a per-instance secret; undefined otherwise. */
export function secretOutput(name: string, args: Args, stdout: string | undefined): SecretOutput | undefined {
  const detect = Object.hasOwn(SECRET_COMMANDS, name) ? SECRET_COMMANDS[name] : undefined;
  return detect?.(args, stdout);
}

/**
 * chmod, chown or chgrp that acts on what a secret step makes, which then follows it to the first
 * start: `words` to run there (the command on the secret's paths), and `whole` when every path it
 * names is such (then nothing of it is left for the build). A recursive one on a directory that
 * holds a secret acts on the directory at build time and on the secret at start.
 */
export function followsSecret(name: string, args: Args, deferred: ReadonlySet<string>): { words: string[]; whole: boolean } | undefined {
  if (!['chmod', 'chown', 'chgrp'].includes(name) || !deferred.size) return undefined;
  const words = known(args);
  if (!words) return undefined;
  const options = words.filter((w, i) => w.startsWith('-') && words.slice(0, i).every((x) => x.startsWith('-')));
  const [spec, ...paths] = words.slice(options.length);
  if (spec === undefined || !paths.length) return undefined;
  const recursive = options.some((o) => /^-[a-zA-Z]*R/.test(o) || o === '--recursive');
  const secrets = [...deferred];
  const hit = paths.flatMap((p) => (deferred.has(p) ? [p] : recursive ? secrets.filter((s) => s.startsWith(`${p.replace(/\/+$/, '')}/`)) : []));
  if (!hit.length) return undefined;
  return { words: [name, spec, ...[...new Set(hit)]], whole: paths.every((p) => deferred.has(p)) };
}
