#!/bin/sh
# container/postgres.Containerfile's entry point: on an empty PGDATA make the cluster as the official postgres image
# does (superuser POSTGRES_USER with POSTGRES_PASSWORD, database POSTGRES_DB, password logins from other hosts,
# listening on every address), then run the command (postgres).
set -eu
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres-entrypoint: set POSTGRES_PASSWORD (the superuser's password for connections from other hosts)" >&2
    exit 2
  fi
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
         --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  if [ "$db" != postgres ]; then
    quoted=$(printf '%s' "$db" | sed 's/"/""/g')
    # single-user mode: no server, no socket; the session is the bootstrap superuser ($user), who owns the database
    out=$(echo "CREATE DATABASE \"$quoted\"" | postgres --single -D "$PGDATA" -j postgres 2>&1) \
      || { echo "$out" >&2; exit 1; }
  fi
  echo "postgres-entrypoint: cluster made in $PGDATA (superuser $user, database $db)"
fi
exec "$@"
