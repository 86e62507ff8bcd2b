#!/usr/bin/env bash
# cfw_nb developer entry point. Every command first makes sure the set-up is in place (safe to repeat):
#   - as root, the Debian packages dataset-fashion-mnist (the embedded default data) and chromium (the report's browser test);
#   - a virtual environment in .venv (created with python3, or $PYTHON; Python >= 3.10);
#   - the package installed editable with its dev extras (redone only when settings.ini or setup.py change).
#
#   ./dev.sh demo      set up, then run the main job (`cfw_nb run`) on the embedded default data
#   ./dev.sh test      set up, then run the whole test suite (what CI runs)
#   ./dev.sh docs      set up, then build the Quarto-free HTML preview of the docs in _preview/ and README.md
#   ./dev.sh setup     set up only
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
FMNIST=/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

log() { printf '[dev.sh] %s\n' "$*" >&2; }

system_packages() {
  [ -f "$FMNIST" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing the Debian package dataset-fashion-mnist"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null; }
  else
    log "Fashion-MNIST is not installed (not root, or no apt-get). Install it with"
    log "  sudo apt-get install dataset-fashion-mnist"
    log "or set CFW_NB_DATA to a torchvision root holding FashionMNIST/raw; './dev.sh demo' will otherwise download it."
  fi
}

make_venv() {
  [ -x "$PY" ] && return 0
  local base=${PYTHON:-python3}
  command -v "$base" >/dev/null || { log "no $base found: install Python 3.10 or newer (or set PYTHON)"; exit 1; }
  "$base" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || { log "$base is Python $("$base" -c 'import platform; print(platform.python_version())'); cfw_nb needs 3.10 or newer (set PYTHON)"; exit 1; }
  log "creating the virtual environment .venv"
  if ! "$base" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      local ver; ver=$("$base" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
      log "venv is missing: installing python${ver}-venv"
      apt-get install -y -q "python${ver}-venv" >/dev/null 2>&1 || apt-get install -y -q python3-venv >/dev/null
      "$base" -m venv "$VENV"
    else
      log "'$base -m venv' failed: on Debian/Ubuntu install python3-venv (sudo apt-get install python3-venv)"; exit 1
    fi
  fi
}

install_package() {
  local stamp="$VENV/.cfw_nb-install" want
  want=$(cat settings.ini setup.py | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$PY" -c 'import cfw_nb, nbdev' 2>/dev/null; then return 0; fi
  log "installing cfw_nb (editable, with dev extras) into .venv"
  "$PY" -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
}

browser_package() {
  [ -x /usr/bin/chromium ] || [ -x "${CFW_NB_CHROMIUM:-}" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing the Debian package chromium (headless browser for tests/test_report_browser.py)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  else
    log "Chromium is not installed, so tests/test_report_browser.py will fail: install it with 'sudo apt-get install chromium' (or run './dev.sh setup' as root), or set CFW_NB_CHROMIUM to a Chromium binary"
  fi
}

setup() { system_packages; browser_package; make_venv; install_package; }

run_tests() {
  export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 MPLBACKEND=Agg
  log "checking the code for undefined names and unused imports (ruff, pyflakes rules)"
  "$VENV/bin/ruff" check --select F --output-format concise cfw_nb tools tests benchmarks
  log "checking that notebooks are clean and that library and README are in sync with them"
  "$PY" tools/check_nbs.py
  log "running every notebook with nbdev_test (2 workers)"
  "$PY" tools/run_nb_tests.py --n_workers 2
  log "running pytest tests/"
  "$PY" -m pytest -q tests/
}

cmd=${1:-}
case "$cmd" in
  setup) setup ;;
  demo)
    setup; shift
    extra=()
    [ -f "$FMNIST" ] || [ -n "${CFW_NB_DATA:-}" ] || extra+=(--download)
    "$VENV/bin/cfw_nb" run "${extra[@]}" "$@" ;;
  test) setup; run_tests ;;
  docs) setup; "$PY" tools/docs_preview.py "${@:2}" ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; [ -z "$cmd" ] || { log "unknown command: $cmd"; exit 2; } ;;
esac
