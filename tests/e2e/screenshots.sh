#!/usr/bin/env bash
# The README's tray menu screenshot, taken from the real app: docs/screenshots/tray-menu.png.
#
#   tests/e2e/screenshots.sh            # wraps itself in with-keyring.sh, with-servers.sh, xvfb-run
#   MLL_PROFILE=release tests/e2e/screenshots.sh
#   MLL_NO_BUILD=1 tests/e2e/screenshots.sh   # use the binaries as built
#   MLL_SCREENSHOT_DIR=/tmp/x tests/e2e/screenshots.sh   # write somewhere else
#
# Under Xvfb, `trayer` is the system tray: with no StatusNotifierWatcher on the (private)
# bus, libayatana-appindicator falls back to an XEmbed icon, which trayer embeds. Two
# servers are logged in through the CLI against the real nginx fixture, the tray is started,
# its first check turns the status line to "OK", the icon is clicked with xdotool, and the
# real GTK menu is captured with ImageMagick's `import`, cropped to the panel and the menu.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

# shellcheck source=tests/lib.sh
source "$root/tests/lib.sh"
need xvfb-run "apt-get install xvfb"
need trayer "apt-get install trayer"
need xdotool "apt-get install xdotool"
need xwininfo "apt-get install x11-utils"
need import "apt-get install imagemagick"
need convert "apt-get install imagemagick"

out_dir=${MLL_SCREENSHOT_DIR:-$root/docs/screenshots}
[[ $out_dir == /* ]] || out_dir=$PWD/$out_dir
export MLL_SCREENSHOT_DIR=$out_dir

# shellcheck source=tests/e2e/app.sh
source "$root/tests/e2e/app.sh"
tray_bin=$MLL_TRAY_BIN
cli_bin=$MLL_CLI_BIN

work=$(mktemp -d "${TMPDIR:-/tmp}/mll-shots.XXXXXX")
pids=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

export MLFLOW_LOGIN_CONFIG_DIR=$work/config
export MLFLOW_LOGIN_KEYCHAIN_PREFIX="mll-shots-$RANDOM$RANDOM:"
# With no watcher on the bus the app would open the servers window instead of a tray.
export MLFLOW_LOGIN_ASSUME_TRAY=1
mkdir -p "$MLFLOW_LOGIN_CONFIG_DIR"

# wait_until SECONDS CMD...: polls CMD every 0.1 s; false when it never succeeded.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

echo "==> two servers, logged in through the CLI (checked against nginx)"
printf '%s' "$MLL_ALICE_PW" | "$cli_bin" login prod --url "$MLL_NGINX_URL" --username alice --password-stdin
printf '%s' "$MLL_BOB_PW" | "$cli_bin" login staging --url "$MLL_NGINX_SUBPATH_URL" --username bob --password-stdin
"$cli_bin" use prod

echo "==> trayer, then the tray"
trayer --edge top --align right --widthtype request --height 28 --SetDockType true \
    --SetPartialStrut false --transparent false >"$work/trayer.log" 2>&1 &
pids+=($!)
panel_win() { xdotool search --classname '^panel$' 2>/dev/null | head -1; }
have_panel() { [[ -n $(panel_win) ]]; }
wait_until 20 have_panel || die "trayer did not show its panel: $(cat "$work/trayer.log")"

"$tray_bin" >"$work/tray.log" 2>&1 &
tray_pid=$!
pids+=("$tray_pid")
icon_win() { xdotool search --class '^tray-icon tray app main$' 2>/dev/null | head -1; }
have_icon() { [[ -n $(icon_win) ]]; }
wait_until 30 have_icon || die "no tray icon in trayer after 30 s; the app said: $(cat "$work/tray.log")"
# The start-up check of the active server fills in the status line ("OK just now").
checks_ok() { grep -q '"ok"' "$MLFLOW_LOGIN_CONFIG_DIR/checks.json" 2>/dev/null; }
wait_until 30 checks_ok || die "the tray's first check of prod did not pass in 30 s"
sleep 1 # the menu is rebuilt after the checks file changes (coalesced for 60 ms)

echo "==> click the icon, capture the menu"
menu_geometry() { # prints X Y W H of the open menu, if any
    local w
    for w in $(xdotool search --onlyvisible --class '^mlflow-login-tray$' 2>/dev/null); do
        # shellcheck disable=SC2034 # set by xdotool --shell
        local X Y WIDTH HEIGHT WINDOW SCREEN
        eval "$(xdotool getwindowgeometry --shell "$w")"
        if ((WIDTH > 100 && HEIGHT > 100)); then
            echo "$X $Y $WIDTH $HEIGHT"
            return 0
        fi
    done
    return 1
}
menu=""
for attempt in 1 2 3; do
    eval "$(xdotool getwindowgeometry --shell "$(icon_win)")"
    # shellcheck disable=SC2153 # X, Y, WIDTH, HEIGHT come from xdotool --shell
    xdotool mousemove $((X + WIDTH / 2)) $((Y + HEIGHT / 2)) click 1
    deadline=$((SECONDS + 5))
    while ((SECONDS < deadline)); do
        if menu=$(menu_geometry); then break 2; fi
        sleep 0.1
    done
    echo "menu not open after click $attempt; clicking again" >&2
done
[[ -n $menu ]] || die "the menu did not open after three clicks on the icon"
read -r mx my mw mh <<<"$menu"
sleep 0.5 # let GTK finish drawing the menu
eval "$(xdotool getwindowgeometry --shell "$(panel_win)")"
px=$X py=$Y pw=$WIDTH ph=$HEIGHT
import -window root "$work/root.png"

# The union of panel and menu, with a margin, inside the screen.
margin=12
x0=$((mx < px ? mx : px)) y0=$((my < py ? my : py))
x1=$((mx + mw > px + pw ? mx + mw : px + pw)) y1=$((my + mh > py + ph ? my + mh : py + ph))
x0=$((x0 - margin < 0 ? 0 : x0 - margin)) y0=$((y0 - margin < 0 ? 0 : y0 - margin))
x1=$((x1 + margin > 1280 ? 1280 : x1 + margin)) y1=$((y1 + margin > 800 ? 800 : y1 + margin))
mkdir -p "$out_dir"
# Xvfb's root is black: flood the desktop area (pure black, connected to the bottom-left
# corner) with a neutral grey so the menu reads as a menu on a desktop.
convert "$work/root.png" -crop "$((x1 - x0))x$((y1 - y0))+$x0+$y0" +repage \
    -fill '#5b6372' -fuzz 0 -floodfill +0+"$((y1 - y0 - 1))" black \
    -strip "$out_dir/tray-menu.png"
echo "wrote $out_dir/tray-menu.png ($((x1 - x0))x$((y1 - y0)), menu ${mw}x${mh})"

xdotool key Escape
kill "$tray_pid" 2>/dev/null || true
