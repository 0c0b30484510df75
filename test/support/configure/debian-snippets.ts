/**
 * Snippets of real maintainer scripts from Debian 13 (trixie) packages that this machine
 * does not have installed: the lines that matter, verbatim, with a closing `esac` or call
 * where the excerpt needs one to run. Where each comes from is named above it.
 */

/**
 * apache2 2.4.71-1~deb13u1, postinst: lines 1-6 and 20-80 (enable_default_mpm,
 * enable_default_modules, enable_default_conf, install_default_site), called as its
 * `configure)` branch calls them.
 */
export const apache2Postinst = `#! /bin/bash
# postinst script
#
# see: dh_installdeb(1)

set -e

is_fresh_install()
{
	if [ -z "$2" ] ; then
		return 0
	fi
	return 1
}


enable_default_mpm()
{
	if is_fresh_install $@ ; then
		a2enmod -m -q mpm_event
	fi

}

enable_default_modules()
{
	if is_fresh_install $@; then
		for module in authz_host auth_basic access_compat authn_file authz_user \\
				alias dir autoindex \\
				env mime negotiation setenvif \\
				filter deflate \\
				status reqtimeout ; do
			a2enmod -m -q $module
		done
	fi
	if [ -z "$2" ] ; then
		return 0
	fi
}

enable_default_conf()
{
	if is_fresh_install $@ ; then
		for conf in charset localized-error-pages other-vhosts-access-log \\
				security serve-cgi-bin ; do
			a2enconf -m -q $conf
		done
	fi
}

install_default_site()
{
	if is_fresh_install $@ ; then
		if [ ! -L /etc/apache2/sites-enabled/000-default.conf -a \\
			! -f /etc/apache2/sites-enabled/000-default.conf ]; then
				a2ensite -q 000-default
		fi

		touch /var/log/apache2/error.log /var/log/apache2/access.log
		chown root:adm /var/log/apache2/error.log /var/log/apache2/access.log
		chmod 0640 /var/log/apache2/error.log /var/log/apache2/access.log

		touch /var/log/apache2/other_vhosts_access.log
		chown root:adm /var/log/apache2/other_vhosts_access.log
		chmod 0640 /var/log/apache2/other_vhosts_access.log
	fi
}

case "$1" in
	configure)
		enable_default_mpm $@
		enable_default_modules $@
		enable_default_conf $@
		install_default_site $@
	;;
esac
`;

/** bind9 1:9.20.30-1~deb13u1, postinst: lines 1-40 (the bind user, /var/lib/bind, rndc.key, /var/cache/bind), up to named-checkconf. */
export const bind9Postinst = `#!/bin/sh

set -e

if [ "$1" = configure ]; then
    # lets give them a bind user/group in all cases.
    getent group bind >/dev/null 2>&1 || addgroup --system bind
    getent passwd bind >/dev/null 2>&1 ||
	adduser --system --home /var/cache/bind --no-create-home \\
		--disabled-password --ingroup bind bind

    # create data directory on fresh install
    if [ -z "$2" ]; then
	mkdir -p /var/lib/bind
	chown root:bind /var/lib/bind
	chmod 775 /var/lib/bind
    fi

    if [ ! -s /etc/bind/rndc.key ] && [ ! -s /etc/bind/rndc.conf ]; then
	rndc-confgen -a
    fi

    uid=$(ls -ln /etc/bind/rndc.key | awk '{print $3}')
    if [ "$uid" = "0" ]; then
	chown bind /etc/bind/rndc.key
	chgrp bind /etc/bind
	chmod g+s /etc/bind
	chgrp bind /etc/bind/rndc.key /var/cache/bind
	chgrp bind /etc/bind/named.conf* || true
	chmod g+r /etc/bind/rndc.key /etc/bind/named.conf* || true
	chmod g+rwx /var/cache/bind
    fi

    if [ -e /etc/bind/named.conf.default-zones.dpkg-dist ]; then
        rm -f /etc/bind/named.conf.default-zones.dpkg-dist
    fi

    # Configuration file sanity check. This should avoid the upgrade process to
    # stop a running service when starting it after the upgrade would fail
    named-checkconf /etc/bind/named.conf

fi
`;

/** exim4-base 4.98.2-1+deb13u6, postinst: lines 1-31 (the Debian-exim user, its log, run and spool directories). */
export const exim4BasePostinst = `#!/bin/sh

set -e
. /usr/share/debconf/confmodule

if [ -n "$EX4DEBUG" ]; then
  echo "now debugging $0 $@"
  set -x
fi

db_version 2.0

BDBVERSION=5.3

case "$1" in
  configure)

	if ! getent passwd Debian-exim > /dev/null ; then
	  echo 'Adding system-user for exim (v4)' 1>&2
	  adduser --system --group --quiet --home /var/spool/exim4 \\
	    --no-create-home --disabled-login \\
	    --allow-bad-names Debian-exim
	fi
	# Create directories for log etc
	# install also fixes permissions.
	install -d -oDebian-exim -gadm -m2750 /var/log/exim4
	install -d -oDebian-exim -gDebian-exim -m750 /run/exim4
	install -d -oDebian-exim -gDebian-exim -m750 /var/spool/exim4
	install -d -oDebian-exim -gDebian-exim -m750 /var/spool/exim4/db \\
		/var/spool/exim4/input /var/spool/exim4/msglog

	;;
esac
`;
