#!/usr/bin/env bash
# make demo: a one-node cluster in DIR (default ./.demo) on 127.0.0.1 — reused
# if it is already running — then the SDK example against it, then a real
# kvm virtual machine: installed from the busybox OS definition onto its own
# disk, booted (its console output shown), and removed.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-$PWD/.demo}"
# qemu, busybox, e2fsprogs and a small guest kernel (cached), installed when missing.
eval "$(bash scripts/ensure-kvm-assets.sh | grep -E '^(GUEST_KERNEL|GUEST_INITRD)=')"
GNT="node cli/bin/gnt.js"
bash scripts/demo-cluster.sh "$DIR"
# shellcheck disable=SC1091
source "$DIR/demo.env"
echo "RAPI at $GANETI_RAPI_URL (credentials in $DIR/demo.env: 'source $DIR/demo.env' to use gnt)"
npx tsx examples/sdk-scripts/create-and-wait.ts
echo

# A real VM: kvm (qemu; TCG where the CPU has no hardware virtualisation).
echo "A real virtual machine (kvm):"
VM=demo-vm.ganeti-ts.local
npx tsx examples/sdk-scripts/kvm-vm.ts --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
  --name "$VM" --template file --os busybox --keep
# The node is this machine: its serial log is the VM's console output.
LOG="$DIR/hypervisors/kvm/log/$VM.serial.log"
for _ in $(seq 1 240); do grep -q "GANETI-TS-GUEST-UP" "$LOG" 2>/dev/null && break; sleep 0.5; done
echo "--- console output of $VM (booted from its own disk) ---"
grep -a -E "GANETI-TS|GTS-" "$LOG" | tail -n 5 || true
echo "---"
$GNT instance remove --force --shutdown-timeout 0 "$VM"
echo
echo "The cluster keeps running: try 'source $DIR/demo.env && node cli/bin/gnt.js instance list'."
echo "Stop it with 'make demo-down'."
