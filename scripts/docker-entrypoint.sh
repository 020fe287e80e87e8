#!/bin/sh
# The container's start (Dockerfile ENTRYPOINT): `run` migrates the database first, then
# becomes the bot (exec, so SIGTERM from `docker stop` reaches it and it stops cleanly).
# Any other arguments are a tbbot command: `docker compose run --rm bot keys check`.
# Several workers starting at once are safe: migrations hold a lock, and one at the head is a
# no-op.
set -eu
if [ "$#" -eq 0 ]; then
    set -- run
fi
if [ "$1" = "run" ]; then
    tbbot migrate
fi
exec tbbot "$@"
