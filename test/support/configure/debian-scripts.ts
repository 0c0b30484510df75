/**
 * Real maintainer scripts, as fixtures for the script scan: read from this machine's
 * dpkg database (Debian 12, bookworm), where the packages that ship them installed them.
 * They are not copied into the repository; a machine without one of these packages
 * fails the tests that use it, naming the package to install.
 */
import { readFileSync } from 'node:fs';

const INFO = '/var/lib/dpkg/info';

function installed(file: string, pkg: string): string {
  try {
    return readFileSync(`${INFO}/${file}`, 'utf8');
  } catch (e) {
    throw new Error(`test fixture ${INFO}/${file} is missing: install the Debian package ${pkg} (apt-get install ${pkg})`, { cause: e });
  }
}

/** apt's postinst */
export const aptPostinst = installed('apt.postinst', 'apt');
/** dbus-system-bus-common's postinst */
export const dbusSystemBusCommonPostinst = installed('dbus-system-bus-common.postinst', 'dbus-system-bus-common');
/** mawk's postinst */
export const mawkPostinst = installed('mawk.postinst', 'mawk');
/** login's postinst */
export const loginPostinst = installed('login.postinst', 'login');
/** base-files's postinst */
export const baseFilesPostinst = installed('base-files.postinst', 'base-files');
/** libc-bin's postinst */
export const libcBinPostinst = installed('libc-bin.postinst', 'libc-bin');
/** ca-certificates's postinst */
export const caCertificatesPostinst = installed('ca-certificates.postinst', 'ca-certificates');
/** openssh-client's postinst */
export const opensshClientPostinst = installed('openssh-client.postinst', 'openssh-client');
/** passwd's postinst */
export const passwdPostinst = installed('passwd.postinst', 'passwd');
/** libc-bin's triggers */
export const libcBinTriggers = installed('libc-bin.triggers', 'libc-bin');
/** libc6's triggers */
export const libc6Triggers = installed('libc6:amd64.triggers', 'libc6');
/** libpam-runtime's postinst (pam-auth-update --package) */
export const libpamRuntimePostinst = installed('libpam-runtime.postinst', 'libpam-runtime');
/** libdebuginfod-common's postinst (ucf --three-way --debconf-ok TEMPLATE /etc/profile.d/…) */
export const libdebuginfodCommonPostinst = installed('libdebuginfod-common.postinst', 'libdebuginfod-common');
