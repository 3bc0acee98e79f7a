#!/bin/sh
# The image's entry point: `paybutton serve` (or any paybutton command given as arguments).
# Without PAYBUTTON_DATABASE_URL the database is the SQLite file /data/paybutton.db, which must live on a volume
# (a file inside the container would vanish with it): without one, say what is needed and exit 2.
set -eu
if [ -z "${PAYBUTTON_DATABASE_URL:-}" ]; then
  if ! awk '$5 == "/data" { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    echo "paybutton: no database: set PAYBUTTON_DATABASE_URL (postgresql://user@host/db) or mount a volume at /data" \
         "for the SQLite file (-v paybutton-data:/data)" >&2
    exit 2
  fi
  export PAYBUTTON_DATABASE_URL="sqlite+aiosqlite:////data/paybutton.db"
fi
exec paybutton "$@"
