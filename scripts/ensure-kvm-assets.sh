#!/usr/bin/env bash
# Everything a real kvm guest needs on this machine, installed when missing:
#   qemu-system-x86, qemu-utils: qemu-system-x86_64 and qemu-img
#   busybox-static: the whole userland of the tiny guest (one static binary)
#   e2fsprogs: mke2fs -d builds a guest root filesystem without mounting it
#   lz4: to unpack the uncompressed vmlinux out of the cloud kernel's vmlinuz
# and a guest kernel: Debian's cloud kernel (its current ABI package, named by
# linux-image-cloud-amd64), fetched with apt-get download and unpacked with
# dpkg -x into the cache, never installed on the host. From it:
#   vmlinux   the uncompressed kernel (boots ~2x faster under TCG: no
#             decompression and no bootloader detour)
#   vmlinuz   the kernel as shipped
#   modules/  the .ko files the guest loads (virtio, virtio_blk, virtio_net,
#             balloon, ACPI button, evdev, ext2/ext4), decompressed, plus
#             modules.order listing them in load order
#   initrd-<digest>.img  the guest initramfs: busybox-static, those modules and
#             server/os/busybox/guest-init as /init (the tiny test guest, and
#             the loader of a disk installed by the "busybox" OS definition)
# Cache: ${GANETI_TS_CACHE:-$HOME/.cache/ganeti-ts}/guest. Prints the paths as
# KEY=VALUE lines (GUEST_DIR, GUEST_INITRD, GUEST_KERNEL, GUEST_VMLINUZ,
# GUEST_MODULES, BUSYBOX, QEMU).
set -euo pipefail

want=(qemu-system-x86 qemu-utils busybox-static e2fsprogs lz4)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
APT=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO "${APT[@]}" update -qq >&2
  $SUDO "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

cache="${GANETI_TS_CACHE:-$HOME/.cache/ganeti-ts}/guest"
mkdir -p "$cache"
# Modules in the order the guest inserts them (dependencies first).
mods=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk
      failover net_failover virtio_net virtio_balloon button evdev)

if [ ! -s "$cache/vmlinux" ] || [ ! -s "$cache/modules/modules.order" ]; then
  pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
  if [ -z "$pkg" ]; then
    $SUDO "${APT[@]}" update -qq >&2
    pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
  fi
  [ -n "$pkg" ] || { echo "cannot find the cloud kernel package" >&2; exit 1; }
  work=$(mktemp -d "$cache/.build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  chmod 755 "$work" # apt's _apt user downloads into it
  (cd "$work" && "${APT[@]}" download -qq "$pkg" >&2)
  dpkg -x "$work"/*.deb "$work/x"
  vmlinuz=$(ls "$work"/x/boot/vmlinuz-* | head -1)
  kver=${vmlinuz##*/vmlinuz-}
  # The kernel payload is lz4 (legacy frame, magic 02 21 4c 18) after the
  # bzImage setup code: cut at the first magic and let lz4 decompress it
  # (it stops at the end of the frame and ignores the trailer).
  off=$(grep -obUaP '\x02\x21\x4c\x18' "$vmlinuz" | head -1 | cut -d: -f1)
  [ -n "$off" ] || { echo "no lz4 payload in $vmlinuz" >&2; exit 1; }
  tail -c +$((off + 1)) "$vmlinuz" | lz4 -dc > "$work/vmlinux" 2>/dev/null || true
  [ -s "$work/vmlinux" ] && head -c 4 "$work/vmlinux" | grep -q $'\x7fELF' || { echo "vmlinux extraction failed" >&2; exit 1; }
  mkdir -p "$work/modules"
  : > "$work/modules/modules.order"
  for m in "${mods[@]}"; do
    f=$(find "$work/x/lib/modules/$kver" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -1)
    # Built into the kernel: nothing to load.
    [ -n "$f" ] || continue
    case "$f" in
      *.xz) xz -dc "$f" > "$work/modules/$m.ko" ;;
      *.zst) zstd -qdc "$f" > "$work/modules/$m.ko" ;;
      *) cp "$f" "$work/modules/$m.ko" ;;
    esac
    echo "$m.ko" >> "$work/modules/modules.order"
  done
  echo "$kver" > "$work/kernel-version"
  cp "$vmlinuz" "$work/vmlinuz"
  rm -rf "$cache/modules"
  mv "$work/modules" "$cache/modules"
  mv "$work/vmlinuz" "$cache/vmlinuz"
  mv "$work/kernel-version" "$cache/kernel-version"
  mv "$work/vmlinux" "$cache/vmlinux"
fi

# The guest initramfs: busybox, the modules and the tiny guest's /init (it
# also boots an installed "busybox" OS disk). Named after a digest of its
# inputs, so checkouts with different guest-init versions sharing the cache
# never overwrite each other's.
init="$(cd "$(dirname "$0")/.." && pwd)/server/os/busybox/guest-init"
busybox=$(command -v busybox)
sum=$(cat "$init" "$busybox" "$cache/modules/modules.order" | sha256sum | cut -c1-16)
initrd="$cache/initrd-$sum.img"
if [ ! -s "$initrd" ]; then
  ird=$(mktemp -d "$cache/.initrd.XXXXXX")
  mkdir -p "$ird"/{bin,sbin,etc,proc,sys,dev,tmp,run,newroot,lib/modules}
  cp "$busybox" "$ird/bin/busybox"
  ln -s busybox "$ird/bin/sh"
  cp "$cache"/modules/* "$ird/lib/modules/"
  cp "$init" "$ird/init"
  chmod 755 "$ird/init"
  (cd "$ird" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) > "$ird.img"
  mv "$ird.img" "$initrd"
  rm -rf "$ird"
fi

echo "GUEST_DIR=$cache"
echo "GUEST_INITRD=$initrd"
echo "GUEST_KERNEL=$cache/vmlinux"
echo "GUEST_VMLINUZ=$cache/vmlinuz"
echo "GUEST_MODULES=$cache/modules"
echo "BUSYBOX=$(command -v busybox || echo /bin/busybox)"
echo "QEMU=$(command -v qemu-system-x86_64)"
