#!/bin/sh
# Start PostgreSQL, creating its cluster on first start (an empty image has none: Debian's
# pg_createcluster runs from the package's postinst, which a jeos build does not run).
set -e
PGBIN=/usr/lib/postgresql/17/bin
PGDATA=/var/lib/postgresql/17/main
export PGDATA
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  # Local connections trust the OS user; TCP clients must present a password (none is set yet).
  "$PGBIN/initdb" --pgdata="$PGDATA" --username=postgres --encoding=UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
# The socket next to the data: Debian's default, /run/postgresql, is made by the package's tmpfiles.d
# entry, which a container does not run.
exec "$PGBIN/postgres" -c listen_addresses='*' -c unix_socket_directories=/var/lib/postgresql
