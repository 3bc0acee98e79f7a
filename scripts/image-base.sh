#!/usr/bin/env bash
# The container image's base without a registry: debootstrap a minimal Debian bookworm from Debian's own mirror
# and `podman import` it as debian:bookworm-slim, the Containerfile's FROM. Cached under PAYBUTTON_IMAGE_CACHE
# (default /var/cache/paybutton-image), so only the first run pays for it. Needs root (debootstrap).
set -euo pipefail
CACHE="${PAYBUTTON_IMAGE_CACHE:-/var/cache/paybutton-image}"
BASE="${PAYBUTTON_BASE_IMAGE:-docker.io/library/debian:bookworm-slim}"
MIRROR="${PAYBUTTON_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$CACHE"
if podman image exists "$BASE"; then
  echo "base image $BASE: present"
  exit 0
fi
if [ ! -s "$CACHE/bookworm-minbase.tar" ]; then
  echo "debootstrap: a minimal bookworm into $CACHE (first run only)"
  rm -rf "$CACHE/rootfs"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$CACHE/rootfs" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log"; exit 1; }
  rm -rf "$CACHE/rootfs/var/cache/apt/archives/"*.deb "$CACHE/rootfs/var/lib/apt/lists/"*
  tar -C "$CACHE/rootfs" -cf "$CACHE/bookworm-minbase.tar.tmp" .
  mv "$CACHE/bookworm-minbase.tar.tmp" "$CACHE/bookworm-minbase.tar"
  rm -rf "$CACHE/rootfs"
fi
podman import --change 'CMD ["/bin/bash"]' "$CACHE/bookworm-minbase.tar" "$BASE" >/dev/null
echo "base image $BASE: imported from $CACHE/bookworm-minbase.tar"
