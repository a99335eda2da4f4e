#!/usr/bin/env bash
# Installs what CephTrace needs from Debian 12 and builds it into build/ (binary:
# build/bin/cephtrace). Safe to run again: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config
  libopencv-dev            # imgcodecs, imgproc, dnn (ONNX inference)
  nlohmann-json3-dev libcli11-dev libgtest-dev
  libdcmtk-dev dcmtk       # DICOM input; the tools make DICOM test files
  libcurl4-openssl-dev     # download-weights
  libssl-dev               # SHA-256 of model files and downloads (libcrypto)
  libjpeg-dev              # corrupt-JPEG warnings (libjpeg itself; OpenCV ignores them)
  python3 python3-numpy python3-onnx python3-opencv python3-pil  # fixture models, checks
  python3-dev pybind11-dev python3-pybind11 python3-setuptools python3-pip python3-venv
  python3-pytest           # `import cephtrace` (pybind11), pip install . and its tests
  python3-torch python3-scipy  # training code (CI runs a training smoke test)
  libcpp-httplib-dev       # cephtrace serve (HTTP server)
  nodejs chromium chromium-driver  # the viewer's end-to-end test in headless Chromium
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

JOBS=${JOBS:-$(nproc)}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build -j "$JOBS"
echo "setup: built build/bin/cephtrace"
