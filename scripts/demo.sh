#!/usr/bin/env bash
# make demo: a one-node cluster in DIR (default ./.demo) on 127.0.0.1 — reused
# if it is already running — then the SDK example against it, then a real
# kvm virtual machine: installed from the busybox OS definition onto its own
# disk, booted (its console output shown), and removed.
#
# DEMO_NODES=2 (make demo DEMO_NODES=2): a second node daemon on 127.0.0.12
# joins (same network namespace, its own file storage), and the VM is
# live-migrated there before it is removed: its disk image is copied during
# the migration, and its console is shown again after the move.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-$PWD/.demo}"
NODES="${DEMO_NODES:-1}"
case "$NODES" in 1 | 2) ;; *) echo "DEMO_NODES must be 1 or 2, not $NODES" >&2; exit 2 ;; esac
NODE2=node2.demo.local
# qemu, busybox, e2fsprogs and a small guest kernel (cached), installed when missing.
eval "$(bash scripts/ensure-kvm-assets.sh | grep -E '^(GUEST_KERNEL|GUEST_INITRD)=')"
GNT="node cli/bin/gnt.js"
bash scripts/demo-cluster.sh "$DIR"
# shellcheck disable=SC1091
source "$DIR/demo.env"
echo "RAPI at $GANETI_RAPI_URL (credentials in $DIR/demo.env: 'source $DIR/demo.env' to use gnt)"
if [ "$NODES" = 2 ] && ! $GNT node list --no-headers -o name | grep -qx "$NODE2"; then
  # The second node: its own daemon and data directory, in the first node's
  # network namespace (one L2 segment: the bridges, and 127.0.0.12 for the
  # migration), keeping the cluster's file storage in a directory of its own
  # as a separate machine would.
  NETNS="$(node -e "console.log(require('$DIR/noded.json').netns)")"
  $GNT node add "$NODE2" --address 127.0.0.12 --port 0 --data-dir "$DIR/node2" --netns "$NETNS" \
    --master-data-dir "$DIR" --file-storage-map "$DIR/file-storage=$DIR/node2/file-storage"
  # A TCG guest is paused while its RAM moves (qemu 7.2's TCG can corrupt a
  # live pre-copy, docs/kvm.md): an unthrottled transfer keeps that pause
  # short (the kvm parameters are validated as a whole, so the guest kernel
  # goes with it).
  $GNT cluster modify -H "kvm:migration_bandwidth=10000,kernel_path=$GUEST_KERNEL,initrd_path=$GUEST_INITRD" >/dev/null
fi

npx tsx examples/sdk-scripts/create-and-wait.ts
echo

# A real VM: kvm (qemu; TCG where the CPU has no hardware virtualisation).
echo "A real virtual machine (kvm):"
VM=demo-vm.ganeti-ts.local
npx tsx examples/sdk-scripts/kvm-vm.ts --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
  --name "$VM" --template file --os busybox --keep --no-migrate
# The node is this machine: its serial log is the VM's console output.
LOG="$DIR/hypervisors/kvm/log/$VM.serial.log"
for _ in $(seq 1 240); do grep -q "GANETI-TS-GUEST-UP" "$LOG" 2>/dev/null && break; sleep 0.5; done
echo "--- console output of $VM (booted from its own disk) ---"
grep -a -E "GANETI-TS|GTS-" "$LOG" | tail -n 5 || true
echo "---"

if [ "$NODES" = 2 ]; then
  echo
  echo "Live-migrating $VM to $NODE2 (its file disk is copied there during the migration):"
  $GNT instance migrate -f --target-node "$NODE2" "$VM"
  $GNT instance list --no-headers -o name,pnode,status "$VM"
  # Its console after the move: a command typed into the guest's shell, its
  # output read from node2's serial log.
  LOG2="$DIR/node2/hypervisors/kvm/log/$VM.serial.log"
  SOCK="$($GNT instance console --show-cmd "$VM" | sed -n 's/.*UNIX-CONNECT:\([^ ]*\).*/\1/p')"
  FROM="$(stat -c %s "$LOG2" 2>/dev/null || echo 0)"
  printf '\necho GTS-MOVED to $(hostname), up $(cut -d" " -f1 /proc/uptime) s, disk $(cat /sys/block/vda/size) sectors\n' |
    socat -t 2 - "UNIX-CONNECT:$SOCK" >/dev/null
  for _ in $(seq 1 120); do tail -c +"$((FROM + 1))" "$LOG2" 2>/dev/null | grep -aq "^GTS-MOVED" && break; sleep 0.5; done
  echo "--- console of $VM on $NODE2, after the move ---"
  tail -c +"$((FROM + 1))" "$LOG2" | tr -d '\r' | grep -a "^GTS-MOVED" | tail -n 1 || true
  echo "---"
fi
$GNT instance remove --force --shutdown-timeout 0 "$VM"
echo
echo "The cluster keeps running: try 'source $DIR/demo.env && node cli/bin/gnt.js instance list'."
echo "Stop it with 'make demo-down'."
