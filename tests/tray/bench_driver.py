"""Measures one tray app for tests/bench/tray.sh: start to tray ready, then idle memory
(RSS and PSS of the whole process tree, from /proc/*/smaps_rollup), WebKit processes and
syscalls (strace -c -f) over an idle period; optionally again after the login dialog was
opened (from the menu, through dbusmenu) and closed.

    python3 bench_driver.py NAME BINARY IDLE_SECONDS [--login-dialog]

Prints one JSON object per phase. Needs a session bus (the StatusNotifier host is served
here), a display (Xvfb) and strace.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import dbus

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import app_processes, descendants  # noqa: E402
from sni_host import Menu, Watcher, pump, wait_for  # noqa: E402


def tree(pid):
    """pid and all its descendants, with their comm."""
    return [(pid, comm(pid))] + descendants(pid)


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def memory(pid):
    rss = pss = 0
    for p, _ in tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        except OSError:
            pass
    return rss, pss


def idle_phase(name, phase, pid, seconds):
    """strace -c -f for `seconds` while serving D-Bus, then memory and process counts."""
    out = tempfile.mktemp(prefix="mll-strace.")
    st = subprocess.Popen(["strace", "-c", "-f", "-q", "-o", out, "-p", str(pid)], stderr=subprocess.DEVNULL)
    pump(seconds)
    st.send_signal(signal.SIGINT)
    st.wait(timeout=30)
    calls = 0
    with open(out) as f:
        for line in f:
            parts = line.split()
            if parts and parts[-1] == "total":
                calls = int(parts[3]) if len(parts) >= 5 else int(parts[2])
    os.unlink(out)
    rss, pss = memory(pid)
    procs = tree(pid)
    webkit = [p for p, c in procs if "WebKit" in c]
    return {
        "app": name,
        "phase": phase,
        "rss_kb": rss,
        "pss_kb": pss,
        "processes": len(procs),
        "webkit": len(webkit),
        "syscalls_per_min": round(calls * 60 / seconds, 1),
    }


def plain_window_ms(binary, tries=3):
    """Median ms from starting `bare-tray --window` (a plain Tauri window, mapped once its
    page loaded) until the window is visible: the baseline of the login dialog's time."""
    times = []
    for _ in range(tries):
        t0 = time.monotonic()
        win = subprocess.Popen([binary, "--window"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name", "Bare window"],
                           capture_output=True, timeout=60, check=True)
            times.append((time.monotonic() - t0) * 1000)
        finally:
            win.terminate()
            win.wait(timeout=10)
    return round(sorted(times)[len(times) // 2])


def main():
    name, binary, idle = sys.argv[1], sys.argv[2], float(sys.argv[3])
    login_dialog = "--login-dialog" in sys.argv[4:]
    bus = dbus.SessionBus()
    watcher = Watcher(bus)
    # Start to icon registered, median of five starts after one that is not counted (the
    # first tray in a fresh session also pays for D-Bus activations and a cold page cache).
    ready = []
    for attempt in range(6):
        pump(0.5)
        watcher.items.clear()
        t0 = time.monotonic()
        app = subprocess.Popen([binary], stdout=subprocess.DEVNULL)
        wait_for(lambda: watcher.items, 30, f"{name} to register its tray icon")
        if attempt > 0:
            ready.append((watcher.items[0][0] - t0) * 1000)
        if attempt < 5:
            pump(1)
            app.terminate()
            app.wait(timeout=10)
    ready_ms = sorted(ready)[len(ready) // 2]
    try:
        # Let start-up work end: the first refresh and check, and the threads they used
        # (tokio's blocking pool keeps an idle thread for 10 s).
        pump(12)
        result = idle_phase(name, "idle", app.pid, idle)
        result["ready_ms"] = round(ready_ms)
        if name == "bare":
            result["window_ready_ms"] = plain_window_ms(binary)
        print(json.dumps(result), flush=True)
        if not login_dialog:
            return
        _, item_name, path = watcher.items[0]
        menu = Menu(bus, item_name, path)
        t1 = time.monotonic()
        menu.click("Log in…")
        wid = subprocess.run(
            ["xdotool", "search", "--sync", "--onlyvisible", "--name", "Log in to MLflow"],
            capture_output=True, text=True, timeout=60,
        ).stdout.split()[0]
        mapped_ms = (time.monotonic() - t1) * 1000  # the window maps once its page loaded
        window_procs = app_processes(app.pid)
        pump(2)
        during = idle_phase(name, "dialog open", app.pid, 2)
        during["dialog_mapped_ms"] = round(mapped_ms)
        print(json.dumps(during), flush=True)
        # Close it as a user would (Esc), or ask the process to end if the page did not.
        # Real key events (XTEST) to the focused dialog: events sent to a window with
        # --window are synthetic, and GTK drops those.
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], check=False, timeout=10)
        subprocess.run(["xdotool", "key", "Escape"], check=False, timeout=10)
        end = time.monotonic() + 5
        while time.monotonic() < end and any(os.path.exists(f"/proc/{p}") for p in window_procs):
            pump(0.1)
        closed_by = "Esc"
        for p in window_procs:
            if os.path.exists(f"/proc/{p}"):
                closed_by = "SIGTERM"
                os.kill(p, signal.SIGTERM)
        wait_for(lambda: not any(c != "xdg-open" for _, c in descendants(app.pid)), 15,
                 "the window process to exit")
        pump(3)
        after = idle_phase(name, "after dialog", app.pid, idle)
        after["closed_by"] = closed_by
        print(json.dumps(after), flush=True)
    finally:
        app.terminate()
        try:
            app.wait(timeout=10)
        except subprocess.TimeoutExpired:
            app.kill()


if __name__ == "__main__":
    main()
