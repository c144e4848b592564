#!/bin/sh
# provision.sh: runs as root on the Packer build instance (Debian 12).
# Builds spookyd from /tmp/spookyd-src.tar.gz, installs it under
# /usr/local, creates its system user, checks the example config as that
# user, enables the unit, then removes the compilers and headers.
set -eu

export DEBIAN_FRONTEND=noninteractive
SRC=/usr/local/src/spookyd
BUILD_DEPS="build-essential pkg-config libuv1-dev libcurl4-openssl-dev
    libjansson-dev libssl-dev libsystemd-dev"
RUNTIME="libuv1 libcurl4 libjansson4 libssl3 libsystemd0 ca-certificates
    tzdata"

apt-get update -q
# curl only probes IMDS below; it is small and stays installed.
apt-get install -y -q --no-install-recommends $BUILD_DEPS $RUNTIME curl
# Installed by name, the runtime libraries survive the autoremove below.
apt-mark manual $RUNTIME >/dev/null

# The build instance must answer only IMDSv2: a tokenless request gets 401.
imds=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    http://169.254.169.254/latest/meta-data/ || true)
if [ "$imds" != 401 ]; then
    echo "IMDSv1 answered ($imds): require IMDSv2 first (docs/deploy.md)" >&2
    exit 1
fi

mkdir -p "$SRC"
tar -xzf /tmp/spookyd-src.tar.gz -C "$SRC"
make -C "$SRC" -j"$(nproc)"
make -C "$SRC" install PREFIX=/usr/local

# The system user the unit runs as; the config stays root:spookyd 0640.
install -D -m 0644 "$SRC/systemd/spookyd.sysusers.conf" \
    /usr/local/lib/sysusers.d/spookyd.conf
systemd-sysusers
chgrp spookyd /etc/spookyd/spookyd.conf
chmod 0640 /etc/spookyd/spookyd.conf

# Start only after cloud-init has written the real config.
install -D -m 0644 /tmp/spookyd-cloud-init.conf \
    /etc/systemd/system/spookyd.service.d/cloud-init.conf

# The example config and the calendar must pass as the service user reads
# them (no network is touched).
runuser -u spookyd -- /usr/local/sbin/spookyd \
    -c /etc/spookyd/spookyd.conf --check

systemctl daemon-reload
systemctl enable spookyd.service

apt-get purge -y -q $BUILD_DEPS
apt-get autoremove -y -q --purge
apt-get clean
rm -rf "$SRC" /tmp/spookyd-src.tar.gz /tmp/spookyd-cloud-init.conf \
    /var/lib/apt/lists/*

# The libraries spookyd links must all still resolve.
if ldd /usr/local/sbin/spookyd | grep -q 'not found'; then
    ldd /usr/local/sbin/spookyd >&2
    exit 1
fi
