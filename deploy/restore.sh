#!/bin/sh
# Restore a backup made by deploy/backup.sh into DATABASE_URL, replacing what is there (every
# object of the dump is dropped first). Stop web, worker and beat before, start them after.
#   DATABASE_URL=postgres://market:secret@db:5432/market deploy/restore.sh /backups/market.dump
set -eu
: "${DATABASE_URL:?DATABASE_URL must name the database to restore into}"
file="${1:?give the backup file to restore}"
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --dbname="$DATABASE_URL" "$file"
