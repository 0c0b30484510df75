#!/bin/sh
# Quick start, step 1: install what jeos needs, build it, and run it on the bundled example.
# As root the Debian packages are installed with apt-get; otherwise the exact command is printed.
set -eu
cd "$(dirname "$0")/.."

wanted=$(sed -e 's/#.*//' scripts/debian-packages.txt | tr -s ' \n' ' ')
missing=""
for p in $wanted; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "==> installing Debian packages:$missing"
    [ "${JEOS_SKIP_APT_UPDATE:-}" = 1 ] || apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "jeos needs these Debian packages; install them as root, then run this again:"
    echo "  sudo apt-get install -y --no-install-recommends$missing"
    exit 1
  fi
fi

echo "==> installing npm dependencies"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
echo "==> building"
npm run --silent build

echo "==> jeos on examples/nginx: build the images, then run the container and boot the VM, and check nginx answers"
node dist/jeos.mjs build examples/nginx
node dist/jeos.mjs test examples/nginx --container
node dist/jeos.mjs test examples/nginx --vm
