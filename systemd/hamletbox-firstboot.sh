#!/bin/sh
# hamletbox-firstboot.service: turn the files `hamletbox provision image` left on the FAT boot
# partition into an installed, enrolled, serving box. Runs as root, once per file: each file is
# removed once used, so the FAT partition (readable by anyone holding the card) stops carrying the
# Wi-Fi password and the token.
#   hamletbox.toml                  -> /etc/hamletbox/hamletbox.toml (0640 root:hamletbox)
#   hamletbox-hotspot.nmconnection  -> NetworkManager's system-connections (0600 root)
#   enroll-token                    -> `hamletbox enroll --token-file` (never on a command line)
# The token file: removed after a success, and after the upstream refused it (wrong, used or
# expired: it can never work, a new one is needed). Kept after any other failure (no uplink yet,
# upstream down) so the next boot tries again.
# The HAMLETBOX_* variables below exist for the tests; the unit sets none of them.
set -u

BOOT_DIR=${HAMLETBOX_BOOT_DIR:-/boot/firmware/hamletbox}
ETC_DIR=${HAMLETBOX_ETC_DIR:-/etc/hamletbox}
NM_DIR=${HAMLETBOX_NM_DIR:-/etc/NetworkManager/system-connections}
HAMLETBOX=${HAMLETBOX_BIN:-/opt/hamletbox/venv/bin/hamletbox}
OWNER=${HAMLETBOX_OWNER:-root}
OWNER_GROUP=${HAMLETBOX_OWNER_GROUP:-root}
GROUP=${HAMLETBOX_GROUP:-hamletbox}
HOTSPOT=hamletbox-hotspot
EXIT_BAD_INPUT=2 # hamletbox enroll: the upstream refused the token, or bad input

say() {
	echo "hamletbox-firstboot: $*"
}

# install_file SRC DEST MODE GROUP: copy, set owner and mode, then remove SRC.
install_file() {
	if ! install -D -m "$3" -o "$OWNER" -g "$4" "$1" "$2"; then
		say "không cài được $2 / cannot install $2"
		return 1
	fi
	rm -f "$1"
	say "đã cài $2 / installed $2"
}

install_settings() {
	[ -f "$BOOT_DIR/hamletbox.toml" ] || return 0
	install_file "$BOOT_DIR/hamletbox.toml" "$ETC_DIR/hamletbox.toml" 0640 "$GROUP"
}

install_hotspot() {
	profile="$BOOT_DIR/$HOTSPOT.nmconnection"
	if [ -f "$profile" ]; then
		install_file "$profile" "$NM_DIR/$HOTSPOT.nmconnection" 0600 "$OWNER_GROUP" || return 1
		nmcli connection reload || say "nmcli connection reload thất bại / failed"
	fi
	if ! nmcli connection up "$HOTSPOT"; then
		say "chưa bật được điểm phát Wi-Fi / the Wi-Fi hotspot did not come up"
		return 1
	fi
}

# upstream_url: relay.upstream_url from the installed settings (empty when there is none).
upstream_url() {
	python3 -c 'import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print(tomllib.load(f).get("relay", {}).get("upstream_url", ""))' "$ETC_DIR/hamletbox.toml"
}

enroll() {
	token="$BOOT_DIR/enroll-token"
	[ -f "$token" ] || return 0
	if [ -e "$ETC_DIR/device.json" ]; then
		say "máy đã đăng ký, bỏ mã đăng ký / already enrolled, removing the token"
		rm -f "$token"
		return 0
	fi
	url=$(upstream_url) || url=""
	if [ -z "$url" ]; then
		say "thiếu relay.upstream_url trong cài đặt / relay.upstream_url is not set; token kept"
		return 1
	fi
	nm-online -s -q --timeout=60 || say "chưa có mạng / no uplink yet; trying anyway"
	"$HAMLETBOX" enroll --upstream "$url" --token-file "$token"
	status=$?
	if [ "$status" -eq 0 ]; then
		rm -f "$token"
		chown "$OWNER:$OWNER_GROUP" "$ETC_DIR/device.json" && chmod 0600 "$ETC_DIR/device.json"
		return
	fi
	if [ "$status" -eq "$EXIT_BAD_INPUT" ]; then
		rm -f "$token"
		say "mã đăng ký bị từ chối, đã xóa; cần mã mới / the token was refused and removed; get a new one"
	else
		say "đăng ký chưa được, thử lại lần khởi động sau / enrollment failed; will retry at next boot"
	fi
	return 1
}

failed=0
install_settings || failed=1
install_hotspot || failed=1
enroll || failed=1
# Enabled too, so later boots start the services even if the image did not enable them.
# --no-block: the services are ordered after this unit, so waiting for them here would deadlock.
systemctl enable --now --no-block hamletbox.target || failed=1
exit "$failed"
