#!/bin/sh
# deps.sh: make sure the Debian packages Nimbus builds and tests with are installed.
# As root, installs what is missing with apt-get; otherwise prints the one apt line needed.
set -e
PKGS="build-essential pkg-config libhttp-parser-dev libjansson-dev libxml2-dev libsqlite3-dev
libssl-dev zlib1g-dev python3 python3-botocore python3-boto3 python3-pytest python3-pytest-xdist awscli clang
libclang-rt-14-dev s3cmd rclone curl openssl python3-cryptography"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || true
    apt-get install -y -q --no-install-recommends $missing
else
    echo "deps: missing packages; run:"
    echo "  sudo apt-get install -y$missing"
    exit 1
fi
