#!/usr/bin/env bash
# Installs the Debian packages the tests need (real peers: mosquitto, pcscd + vsmartcard-vpcd, mbpoll;
# swig + libpcsclite-dev to build pyscard). Installs only what is missing; needs root or sudo.
set -euo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v pcscd >/dev/null 2>&1 || [ -x /usr/sbin/pcscd ] || need+=(pcscd)
ls /usr/lib/pcsc/drivers/serial/libifdvpcd.so* >/dev/null 2>&1 || dpkg -s vsmartcard-vpcd >/dev/null 2>&1 || need+=(vsmartcard-vpcd)
command -v mbpoll >/dev/null 2>&1 || need+=(mbpoll)
command -v swig >/dev/null 2>&1 || need+=(swig)
[ -f /usr/include/PCSC/winscard.h ] || need+=(libpcsclite-dev)
[ -x /usr/bin/chromium ] || need+=(chromium)            # browser tests (Playwright drives Debian's chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)  # Chinese text in screenshots
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
