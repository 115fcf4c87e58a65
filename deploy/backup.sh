#!/bin/sh
# Back up the database: a compressed, consistent pg_dump of DATABASE_URL into the file given
# (default: backup-<UTC time>.dump). Safe while the site runs. Restore with deploy/restore.sh.
#   DATABASE_URL=postgres://market:secret@db:5432/market deploy/backup.sh /backups/market.dump
set -eu
: "${DATABASE_URL:?DATABASE_URL must name the database to back up}"
file="${1:-backup-$(date -u +%Y%m%dT%H%M%SZ).dump}"
pg_dump --format=custom --no-owner --no-privileges --file="$file" "$DATABASE_URL"
echo "$file"
