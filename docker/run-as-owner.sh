#!/bin/sh
# run-as-owner CHECKOUT WRITABLE COMMAND...
#
# Runs COMMAND as the user and group that own CHECKOUT (the project folder, bind-mounted from the
# host), after handing them WRITABLE. The load test writes its report into ./reports on the host:
# Docker creates a missing bind-mount folder as root, and the image's `node` user (uid 1000) is
# not everyone's uid, so the report is written as whoever owns the checkout, whatever their uid
# (root included, as in CI). setpriv needs no passwd entry for that uid.
set -eu
[ "$#" -ge 3 ] || { echo "usage: run-as-owner CHECKOUT WRITABLE COMMAND..." >&2; exit 2; }
checkout=$1
writable=$2
shift 2
uid=$(stat -c %u "$checkout")
gid=$(stat -c %g "$checkout")
mkdir -p "$writable"
# On Docker Desktop the host's file sharing owns every file already and may refuse chown.
chown "$uid:$gid" "$writable" 2>/dev/null || true
exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
