#!/bin/sh
# PHP behind nginx: php-fpm serves PHP on its Unix socket (Debian's www pool, /run/php/php8.4-fpm.sock,
# as www-data), in the background; nginx, in the foreground, passes .php requests to it.
set -e
/usr/sbin/php-fpm8.4 --daemonize --fpm-config /etc/php/8.4/fpm/php-fpm.conf
exec /usr/sbin/nginx -g 'daemon off;'
