#!/usr/bin/env bash
# Install what the build and the test suite need, and nothing that is already there.
#
#   scripts/install-deps.sh                # Debian packages (cargo itself comes from rustup)
#   scripts/install-deps.sh --tauri-driver # also `tauri-driver`, only the tray WebDriver e2e needs it
#
# Idempotent: packages are checked with dpkg-query first; `apt-get update` and
# `apt-get install` only run when something is missing. Safe with no stdin (CI).
set -euo pipefail

want_tauri_driver=0
for arg in "$@"; do
    case "$arg" in
        --tauri-driver) want_tauri_driver=1 ;;
        -h | --help)
            sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "install-deps.sh: unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done

TAURI_DRIVER_VERSION=2.1.0

# Debian 12 package names. Grouped by who needs them.
packages=(
    # Tauri build: WebKitGTK, tray (ayatana appindicator), icons
    libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev
    build-essential pkg-config
    # headless desktop + private keychain for tests
    xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools
    # tray e2e (WebKitWebDriver), tray icon host, window poking, screenshots
    webkit2gtk-driver trayer xdotool imagemagick xsel python3-dbus python3-gi
    # the MLflow fixture venv (node + npm come with the machine image)
    python3-venv
    # fixture servers: nginx + htpasswd + certificates
    nginx apache2-utils openssl curl ca-certificates
    # SSO fixtures: Apache + mod_auth_openidc as the OIDC-validating proxy (the IdP is
    # npm's oidc-provider on the machine's node, see tests/fixtures/oidc/)
    apache2 libapache2-mod-auth-openidc
    # real-shell tests
    zsh fish dash direnv
    # UI page tests
    chromium
    # lint, bench, debugging
    shellcheck hyperfine strace tmux valgrind
    # the local proxy's bench (latency percentiles, 64 concurrent clients)
    wrk
)

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo_cmd=(sudo)
    else
        echo "install-deps.sh: not root and sudo is missing; cannot install packages" >&2
        exit 1
    fi
fi

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

# Package installs must not start system services: Debian's nginx and apache2 would each
# start one on 0.0.0.0:80. Where no policy-rc.d exists, a temporary one forbids starting anything.
policy=/usr/sbin/policy-rc.d
own_policy=0
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\n# temporary, from scripts/install-deps.sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
        "${sudo_cmd[@]}" chmod 755 "$policy"
        own_policy=1
    fi
    local rc=0
    { "${sudo_cmd[@]}" apt-get update -q && "${sudo_cmd[@]}" apt-get install -y -q "$@"; } </dev/null || rc=$?
    if ((own_policy)); then
        "${sudo_cmd[@]}" rm -f "$policy"
        own_policy=0
    fi
    return "$rc"
}

if ((${#missing[@]} > 0)); then
    echo "install-deps.sh: installing ${#missing[@]} missing package(s): ${missing[*]}"
    apt_install "${missing[@]}"
else
    echo "install-deps.sh: all ${#packages[@]} Debian packages present"
fi

# python3 with venv support is needed by tests/fixtures/mlflow-venv.sh.
if ! command -v python3 >/dev/null 2>&1; then
    echo "install-deps.sh: installing python3 (for the MLflow fixture venv)"
    apt_install python3 python3-venv
elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "install-deps.sh: python3 has no venv/ensurepip; installing python3-venv"
    apt_install python3-venv
fi

# Cargo tools.
if ! command -v cargo >/dev/null 2>&1; then
    echo "install-deps.sh: cargo not found; install Rust with rustup first" >&2
    exit 1
fi
if ((want_tauri_driver)); then
    if cargo install --list 2>/dev/null | grep -q "^tauri-driver v${TAURI_DRIVER_VERSION}:"; then
        echo "install-deps.sh: tauri-driver ${TAURI_DRIVER_VERSION} present"
    else
        echo "install-deps.sh: installing tauri-driver ${TAURI_DRIVER_VERSION}"
        cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION"
    fi
fi
