#!/usr/bin/env bash
# setup.sh - install what a fresh Debian (bookworm) machine lacks to build,
# boot and test Rumkv: QEMU for riscv64/aarch64, Bochs (VMX) and GRUB ISO
# tools for x86_64, libfdt and libsodium. The Swift 6.3 toolchain is expected
# at /opt/swift or on PATH. Safe to run again: it only installs what is missing.
set -euo pipefail

packages=(
  qemu-system-misc qemu-system-arm qemu-system-x86 opensbi
  bochs bochsbios vgabios bochs-sdl
  grub-pc-bin grub-common xorriso mtools
  libfdt-dev libsodium-dev device-tree-compiler
  u-boot-qemu
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "setup: add the Swift toolchain to PATH: export PATH=/opt/swift/usr/bin:\$PATH"
  else
    echo "setup: no Swift toolchain found (Swift 6.3 with the Embedded stdlib is required)" >&2
    exit 1
  fi
fi
echo "setup: ready"
