#!/bin/bash
# The .deb's after-install script (electron-builder `deb.afterInstall`). electron-builder fills in the two
# macros in dollar-brace form (product folder, executable) and refuses any other dollar-brace name, so shell
# variables here are written $NAME. Giving our own script replaces electron-builder's default one, so this file
# does what that did (the /usr/bin link, the chrome-sandbox mode, desktop and MIME databases, the AppArmor profile
# of Ubuntu 24.04+), then installs the station's udev rules.

APP_DIR='/opt/${sanitizedProductName}'

if type update-alternatives >/dev/null 2>&1; then
    # Remove a previous link that does not use update-alternatives.
    if [ -L '/usr/bin/${executable}' -a -e '/usr/bin/${executable}' -a "`readlink '/usr/bin/${executable}'`" != '/etc/alternatives/${executable}' ]; then
        rm -f '/usr/bin/${executable}'
    fi
    update-alternatives --install '/usr/bin/${executable}' '${executable}' "$APP_DIR/${executable}" 100 || ln -sf "$APP_DIR/${executable}" '/usr/bin/${executable}'
else
    ln -sf "$APP_DIR/${executable}" '/usr/bin/${executable}'
fi

# The SUID sandbox helper only where the kernel has no working user namespaces.
if ! { [[ -L /proc/self/ns/user ]] && unshare --user true; }; then
    chmod 4755 "$APP_DIR/chrome-sandbox" || true
else
    chmod 0755 "$APP_DIR/chrome-sandbox" || true
fi

if hash update-mime-database 2>/dev/null; then
    update-mime-database /usr/share/mime || true
fi
if hash update-desktop-database 2>/dev/null; then
    update-desktop-database /usr/share/applications || true
fi

# Ubuntu 24.04+ restricts unprivileged user namespaces to programs with an AppArmor profile; skipped where the
# running AppArmor cannot parse the profile (22.04) or inside a chroot (image builds).
if apparmor_status --enabled > /dev/null 2>&1; then
    APPARMOR_PROFILE_SOURCE="$APP_DIR/resources/apparmor-profile"
    APPARMOR_PROFILE_TARGET='/etc/apparmor.d/${executable}'
    if apparmor_parser --skip-kernel-load --debug "$APPARMOR_PROFILE_SOURCE" > /dev/null 2>&1; then
        cp -f "$APPARMOR_PROFILE_SOURCE" "$APPARMOR_PROFILE_TARGET"
        if ! { [ -x '/usr/bin/ischroot' ] && /usr/bin/ischroot; } && hash apparmor_parser 2>/dev/null; then
            apparmor_parser --replace --write-cache --skip-read-cache "$APPARMOR_PROFILE_TARGET"
        fi
    else
        echo "Skipping the AppArmor profile: this AppArmor does not support it"
    fi
fi

# The station's serial adapters: usable by the dialout group, ignored by ModemManager (build/gen-udev-rules.mjs
# makes the file from the station config's USB filters). Under /usr/lib so an admin's copy of the same name in
# /etc/udev/rules.d overrides it. Only tty and usb devices are re-triggered: the rules concern nothing else.
RULES_SOURCE="$APP_DIR/resources/linux/99-infuse-station.rules"
RULES_DIR=/usr/lib/udev/rules.d
[ -d "$RULES_DIR" ] || RULES_DIR=/lib/udev/rules.d
if [ -f "$RULES_SOURCE" ]; then
    mkdir -p "$RULES_DIR"
    install -m 0644 "$RULES_SOURCE" "$RULES_DIR/99-infuse-station.rules"
    if command -v udevadm >/dev/null 2>&1; then
        udevadm control --reload-rules && udevadm trigger --subsystem-match=tty --subsystem-match=usb || true
    fi
fi
echo "Infuse Provisioning Station: add each station user to the dialout group (sudo usermod -aG dialout USER), then log in again."

exit 0
