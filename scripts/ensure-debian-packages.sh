#!/usr/bin/env bash
# Install the Debian packages the tests use, when missing:
#   python3-ganeti-rapi, python3-pycurl: Ganeti's real RAPI client (conformance tests)
#   python3: the relay that hands a running qemu an open file (kvm hotplug with security_model=user)
#   ganeti: Ganeti's own hbal/hail/hspace (htools compatibility and benchmarks)
#   ganeti-os-noop: Debian's noop OS definition (OS interface test)
#   time: /usr/bin/time -v for the htools benchmark harness
#   etcd-server, etcd-client: the replicated store of HA clusters (store and failover tests)
#   qemu-system-x86, qemu-utils, busybox-static, e2fsprogs, lz4: real kvm
#     guests (scripts/ensure-kvm-assets.sh also fetches the guest kernel)
#   debootstrap: the fresh Debian root of the Debian-package test (scripts/ensure-debian-root.sh)
# Never ganeti-htools: it conflicts with ganeti and removes it.
set -euo pipefail
want=(python3 python3-ganeti-rapi python3-pycurl ganeti ganeti-os-noop time etcd-server etcd-client qemu-system-x86 qemu-utils busybox-static e2fsprogs lz4 debootstrap)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "Installing Debian packages: ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# ganeti's postinst may try to start daemons; no cluster is configured so they exit.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
