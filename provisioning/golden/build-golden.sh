#!/bin/bash
# Build the Hamlet Box golden image from a stock Raspberry Pi OS Lite (arm64) image.
#
#   sudo ./build-golden.sh RASPIOS-LITE.img OUT.img
#   ./build-golden.sh --install-only ROOT      (step 6 alone, into a folder; no root needed)
#
# Run from the folder `hamletbox provision golden --out DIR` wrote: it reads packages.txt,
# install-map.tsv, wheels/, systemd/ and firmware_config/ next to this script. Needs root on a
# Debian or Raspberry Pi OS machine with: losetup, sfdisk, e2fsck, resize2fs, systemd (systemctl,
# systemd-sysusers), and on a non-arm64 machine qemu-user-static with binfmt-support.
# README.md beside this script explains each step.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GROW_MB="${GROW_MB:-1536}"          # room for the packages and the venv
VENV=/opt/hamletbox/venv
MARK_BEGIN="# --- hamletbox begin ---"
MARK_END="# --- hamletbox end ---"

die() { echo "build-golden: $*" >&2; exit 1; }
# replace_block FILE: stdin becomes FILE's marked block (added, or replaced on a rebuild).
replace_block() {
    sed -i "/^$MARK_BEGIN\$/,/^$MARK_END\$/d" "$1"
    { echo "$MARK_BEGIN"; cat; echo "$MARK_END"; } >>"$1"
}

# install_files ROOT: every file of install-map.tsv into the tree at ROOT (step 6).
install_files() {
    local root="$1" src dest mode action
    while IFS=$'\t' read -r src dest mode action; do
        [[ -z "$src" || "$src" == \#* ]] && continue
        case "$action" in
            copy) install -D -m "$mode" "$HERE/$src" "$root$dest" ;;
            append) replace_block "$root$dest" <"$HERE/$src" ;;
            nft-include)
                install -D -m "$mode" "$HERE/$src" "$root$dest"
                echo "include \"$dest\"" | replace_block "$root/etc/nftables.conf"
                ;;
            *) die "install-map.tsv: unknown action $action for $src" ;;
        esac
    done <"$HERE/install-map.tsv"
}

if [[ "${1:-}" == "--install-only" ]]; then
    # Step 6 alone, into any folder (no root needed): how the tests check the install map.
    [[ $# -eq 2 && -d "$2" ]] || die "usage: $0 --install-only ROOT"
    install_files "$2"
    exit 0
fi

[[ $# -eq 2 ]] || die "usage: $0 RASPIOS-LITE.img OUT.img"
BASE="$1"
OUT="$2"
[[ $EUID -eq 0 ]] || die "needs root (losetup, mount, chroot)"
[[ -f "$BASE" ]] || die "no such image: $BASE"
[[ ! -e "$OUT" ]] || die "will not overwrite $OUT"
for tool in losetup sfdisk e2fsck resize2fs mount chroot systemctl systemd-sysusers install; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
shopt -s nullglob
WHEELS=("$HERE"/wheels/hamletbox-*.whl)
[[ ${#WHEELS[@]} -eq 1 ]] || die "expected one hamletbox wheel in $HERE/wheels"

# Step 1: copy the base image and grow its root partition
# (the second one, by GROW_MB; the base is never changed).
cp --sparse=always "$BASE" "$OUT.part"
truncate -s "+${GROW_MB}M" "$OUT.part"
echo ", +" | sfdisk --no-reread --no-tell-kernel -N 2 "$OUT.part"

# Step 2: attach it to a loop device and mount root, then the boot partition
ROOT="$(mktemp -d /tmp/hamletbox-root.XXXXXX)"
LOOP="$(losetup --find --show --partscan "$OUT.part")"
cleanup() {
    set +e
    for sub in boot/firmware dev/pts dev proc sys; do
        mountpoint -q "$ROOT/$sub" && umount "$ROOT/$sub"
    done
    mountpoint -q "$ROOT" && umount "$ROOT"
    losetup -d "$LOOP"
    rmdir "$ROOT"
}
trap 'cleanup; rm -f "$OUT.part"' EXIT
e2fsck -pf "${LOOP}p2"
resize2fs "${LOOP}p2"
mount "${LOOP}p2" "$ROOT"
mount "${LOOP}p1" "$ROOT/boot/firmware"
for sub in dev dev/pts proc sys; do
    mount --bind "/$sub" "$ROOT/$sub"
done

# Step 3: run arm64 programs in the chroot
# (natively on a Pi, else through qemu-user-static).
if [[ "$(uname -m)" != "aarch64" ]]; then
    [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] \
        || die "no binfmt for arm64: apt-get install qemu-user-static binfmt-support"
    install -m 0755 "$(command -v qemu-aarch64-static)" "$ROOT/usr/bin/qemu-aarch64-static"
fi
# The build machine's DNS while apt and pip run; the image's own resolv.conf is put back after.
mv "$ROOT/etc/resolv.conf" "$ROOT/etc/resolv.conf.golden-saved"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# Packages must not start their daemons (cups, dnsmasq) inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 0755 "$ROOT/usr/sbin/policy-rc.d"

# Step 4: the Debian packages
# (camera, QR decoding, hotspot, firewall, kiosk, printing, fonts: packages.txt).
mapfile -t PACKAGES < <(grep -v '^#' "$HERE/packages.txt" | grep .)
chroot "$ROOT" apt-get update
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${PACKAGES[@]}"

# Step 5: the program in its own venv
# (--system-site-packages: it sees the OS's picamera2 and gi).
chroot "$ROOT" python3 -m venv --system-site-packages "$VENV"
install -m 0644 "${WHEELS[0]}" "$ROOT/tmp/"
chroot "$ROOT" "$VENV/bin/pip" install --no-cache-dir "/tmp/$(basename "${WHEELS[0]}")"
rm -f "$ROOT/tmp/$(basename "${WHEELS[0]}")"

# Step 6: units, sysusers/tmpfiles, firmware_config
# (each where install-map.tsv says).
install_files "$ROOT"

# Step 7: the service user, then the first-boot unit
# (it enrolls and starts the rest).
systemd-sysusers --root="$ROOT"
systemctl --root="$ROOT" enable nftables.service hamletbox-firstboot.service

# Step 8: clean up and keep the image
# (nothing of the build machine is left behind).
chroot "$ROOT" apt-get clean
rm -f "$ROOT/usr/bin/qemu-aarch64-static" "$ROOT/usr/sbin/policy-rc.d" "$ROOT/etc/resolv.conf"
mv "$ROOT/etc/resolv.conf.golden-saved" "$ROOT/etc/resolv.conf"
sync
trap - EXIT
cleanup
set -e
mv "$OUT.part" "$OUT"
sha256sum "$OUT"
