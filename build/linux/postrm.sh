#!/bin/bash
# The .deb's after-remove script (electron-builder `deb.afterRemove`; same macro rule as postinst.sh). Replaces
# electron-builder's default, so it also does what that did: the /usr/bin link and the AppArmor profile. The udev
# rules go only on remove or purge: on an upgrade the new package's postinst installs them again.

if type update-alternatives >/dev/null 2>&1; then
    update-alternatives --remove '${executable}' '/opt/${sanitizedProductName}/${executable}'
else
    rm -f '/usr/bin/${executable}'
fi

APPARMOR_PROFILE_DEST='/etc/apparmor.d/${executable}'
if [ -f "$APPARMOR_PROFILE_DEST" ]; then
    if apparmor_status --enabled > /dev/null 2>&1; then
        if ! { [ -x '/usr/bin/ischroot' ] && /usr/bin/ischroot; } && hash apparmor_parser 2>/dev/null; then
            apparmor_parser --remove "$APPARMOR_PROFILE_DEST" || true
        fi
    fi
    rm -f "$APPARMOR_PROFILE_DEST"
fi

case "$1" in
    remove|purge)
        rm -f /usr/lib/udev/rules.d/99-infuse-station.rules /lib/udev/rules.d/99-infuse-station.rules
        if command -v udevadm >/dev/null 2>&1; then
            udevadm control --reload-rules || true
        fi
        ;;
esac

exit 0
