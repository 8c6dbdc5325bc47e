#!/usr/bin/python3
"""Concurrent CLI processes changing one config, killed at random with SIGKILL.

Run by tests/faults/stress.sh inside a private world (bus, gnome-keyring, config dir).
Each cycle starts a handful of `use`, `login --no-verify --password-stdin`, `rename` and
`remove` processes at once and SIGKILLs some of them at random moments. After every
cycle:

- config.toml parses, and `list --json` answers;
- every server there before the cycle is still there, unless this cycle started a
  `remove` or `rename` of it; every server there now was there before or was created by a
  `login` or `rename` of this cycle; the active server, if any, exists.

At the end, every keychain entry under our prefix that no server names (a `login` killed
between its keychain write and its config write leaves one) is reported by `doctor`, and
`doctor` reports nothing else of the kind.

    STRESS_CYCLES=N tests/faults/stress.py BIN
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
import tomllib

import dbus

BIN = sys.argv[1]
CYCLES = int(os.environ.get("STRESS_CYCLES", "15"))
PREFIX = os.environ["MLFLOW_LOGIN_KEYCHAIN_PREFIX"]
CONFIG = os.path.join(os.environ["MLFLOW_LOGIN_CONFIG_DIR"], "config.toml")
rng = random.Random(int(os.environ.get("STRESS_SEED", str(time.time_ns()))))


def fail(msg):
    sys.exit(f"FAIL (stress): {msg}")


def url(name):
    return f"http://127.0.0.1:9/{name}"


def run(*args, stdin=None):
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, timeout=60)


def servers():
    try:
        with open(CONFIG, "rb") as f:
            config = tomllib.load(f)
    except FileNotFoundError:
        return {}, None
    except tomllib.TOMLDecodeError as e:
        fail(f"config.toml does not parse: {e}\n{open(CONFIG).read()}")
    return config.get("servers", {}), config.get("active")


def account(name, server):
    """The keychain account core names a server's entry by (crates/core/src/vault.rs
    `EntryKey::for_server`): the auth kind, then the username (Basic), the label (Bearer)
    or the server's own name (single sign-on)."""
    auth = server.get("auth", "basic")
    return f"sso:{name}" if auth == "sso" else f"{auth}:{server.get('username', '')}"


def keychain_entries():
    """(service, username) of every item under PREFIX, straight from the Secret Service."""
    bus = dbus.SessionBus()
    service = bus.get_object("org.freedesktop.secrets", "/org/freedesktop/secrets")
    unlocked, locked = service.SearchItems({}, dbus_interface="org.freedesktop.Secret.Service")
    if locked:
        fail("the keyring locked itself")
    found, ghosts = set(), 0
    for path in unlocked:
        item = bus.get_object("org.freedesktop.secrets", path)
        try:
            attrs = item.Get("org.freedesktop.Secret.Item", "Attributes", dbus_interface="org.freedesktop.DBus.Properties")
        except dbus.exceptions.DBusException as e:
            # gnome-keyring can list an item that a killed client was creating and then
            # not know it: no client can read it (keyring's search skips it too).
            if e.get_dbus_name() != "org.freedesktop.DBus.Error.UnknownMethod":
                raise
            ghosts += 1
            continue
        if str(attrs.get("service", "")).startswith(PREFIX):
            found.add((str(attrs["service"]), str(attrs.get("username", ""))))
    return found, ghosts


def start(args, password=None):
    p = subprocess.Popen([BIN, *args], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if password is not None:
        try:
            p.stdin.write(password.encode())
        except BrokenPipeError:
            pass
    p.stdin.close()
    return p


def main():
    for i in range(3):
        r = run("login", f"s{i}", "--url", url(f"s{i}"), "--username", "u", "--password-stdin", "--no-verify", stdin="pw")
        if r.returncode != 0:
            fail(f"seeding s{i}: {r.stderr}")
    fresh = 0
    killed = finished = 0
    for cycle in range(CYCLES):
        before, _ = servers()
        names = list(before)
        may_vanish, may_appear = set(), set()
        procs = []
        for _ in range(rng.randint(3, 6)):
            op = rng.choice(["use", "login", "login", "rename", "remove"])
            if op == "login" or not names:
                fresh += 1
                name = f"n{fresh}"
                may_appear.add(name)
                procs.append(start(["login", name, "--url", url(name), "--username", "u", "--password-stdin", "--no-verify"], "pw"))
            elif op == "use":
                procs.append(start(["use", rng.choice(names)]))
            elif op == "rename":
                fresh += 1
                old, new = rng.choice(names), f"r{fresh}"
                may_vanish.add(old)
                may_appear.add(new)
                procs.append(start(["rename", old, new]))
            else:
                name = rng.choice(names)
                may_vanish.add(name)
                procs.append(start(["remove", name]))
        time.sleep(rng.uniform(0, 0.12))
        for p in procs:
            if rng.random() < 0.5 and p.poll() is None:
                p.send_signal(signal.SIGKILL)
        for p in procs:
            rc = p.wait(timeout=60)
            if rc == -signal.SIGKILL:
                killed += 1
            else:
                finished += 1

        after, active = servers()
        lost = set(before) - set(after) - may_vanish
        if lost:
            fail(f"cycle {cycle}: servers lost that nothing removed: {sorted(lost)}")
        unexplained = set(after) - set(before) - may_appear
        if unexplained:
            fail(f"cycle {cycle}: servers that nothing created: {sorted(unexplained)}")
        if active is not None and active not in after:
            fail(f"cycle {cycle}: the active server {active!r} does not exist")
        r = run("list", "--json")
        if r.returncode != 0 or sorted(e["name"] for e in json.loads(r.stdout)) != sorted(after):
            fail(f"cycle {cycle}: list --json disagrees with config.toml: {r.stdout}{r.stderr}")

    after, _ = servers()
    named = {(PREFIX + s["url"], account(name, s)) for name, s in after.items()}
    entries, ghosts = keychain_entries()
    orphans = entries - named
    r = run("doctor")
    reported = set()
    for line in r.stdout.splitlines():
        marker = "a keychain entry with no server: "
        if marker in line:
            user, _, shown_url = line.split(marker, 1)[1].partition(" for ")
            reported.add((PREFIX + shown_url, user))
    if reported != orphans:
        fail(f"doctor reports {sorted(reported)}, the keychain has orphans {sorted(orphans)}\n{r.stdout}")
    print(
        f"  stress: {CYCLES} cycles, {killed} processes killed, {finished} finished; "
        f"{len(after)} servers, {len(orphans)} orphaned entries, all reported by doctor"
        + (f"; {ghosts} items gnome-keyring lists but cannot find" if ghosts else "")
    )


if __name__ == "__main__":
    main()
