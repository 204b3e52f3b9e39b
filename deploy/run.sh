#!/usr/bin/env bash
# make run: install what is missing, build, and run `culturecloud dev`, which starts Redis,
# MinIO and Meilisearch on loopback with data in CC_DATA_DIR (default .data), loads demo data
# and serves on CC_HTTP_ADDR (default 127.0.0.1:8080). Ctrl-C or SIGTERM stops everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash deploy/install.sh
export PATH="$root/.tools/bin:$PATH"
go build -o bin/culturecloud ./cmd/culturecloud
# The server ends with whoever started it (make), so a SIGTERM to make stops it too.
export CC_EXIT_WITH_PARENT=1
exec ./bin/culturecloud dev "$@"
