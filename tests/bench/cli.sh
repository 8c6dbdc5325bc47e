#!/usr/bin/env bash
# Benchmarks of the mlflow-login CLI, printed as a table of ratios.
# Runs under tests/fixtures/with-keyring.sh + with-servers.sh (tests/bench/run.sh does that).
#
#   tests/bench/cli.sh [PATH/TO/release/mlflow-login]
set -euo pipefail

bin=${1:-${CARGO_TARGET_DIR:-${MLL_CACHE:-$HOME/.cache/mlflow-login}/target}/release/mlflow-login}
[[ -x "$bin" ]] || { echo "cli.sh: no release binary at $bin: run cargo build --release -p mlflow-login" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "cli.sh: hyperfine is missing: apt-get install hyperfine" >&2; exit 1; }
: "${MLL_NGINX_URL:?run under tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh}"
: "${DBUS_SESSION_BUS_ADDRESS:?run under tests/fixtures/with-keyring.sh}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MLFLOW_LOGIN_CONFIG_DIR=$work/config MLFLOW_LOGIN_KEYCHAIN_PREFIX="mll-bench-$$:"

printf '%s' "$MLL_ALICE_PW" | "$bin" login prod --url "$MLL_NGINX_URL" --username alice --password-stdin >/dev/null
i=0
for url in $MLL_SLOW_URLS; do
    printf pw | "$bin" login "slow$i" --url "$url" --username u --password-stdin --no-verify >/dev/null 2>&1
    i=$((i + 1))
done
printf pw | "$bin" login slowauth --url "$MLL_SLOW_AUTH_URL" --username u --password-stdin --no-verify >/dev/null 2>&1
printf pw | "$bin" login hole --url "$MLL_BLACKHOLE_URL" --username u --password-stdin --no-verify >/dev/null 2>&1
service="mll-bench-$$:$MLL_NGINX_URL"

# mean seconds of a command, by hyperfine
mean() { # name warmup runs cmd...
    local name=$1 warmup=$2 runs=$3
    shift 3
    hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$work/$name.json" -- "$*" >/dev/null 2>&1 ||
        hyperfine --warmup "$warmup" --runs "$runs" --export-json "$work/$name.json" -- "$*" >/dev/null
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$work/$name.json"
}

# A command against its baseline on a shared, noisy machine: five rounds, each timing both
# back to back (hyperfine, no shell); prints the two means and the ratio of the round with
# the median ratio, so a burst of load in one round does not decide the result.
pair() { # name warmup runs ours baseline
    local name=$1 warmup=$2 runs=$3 ours=$4 base=$5 round
    for round in 1 2 3 4 5; do
        hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$work/$name.$round.json" -- "$ours" "$base" >/dev/null
    done
    python3 - "$work/$name" <<'PY'
import json, sys
rounds = []
for r in range(1, 6):
    a, b = (x["mean"] for x in json.load(open(f"{sys.argv[1]}.{r}.json"))["results"])
    rounds.append((a / b, a, b))
ratio, a, b = sorted(rounds)[2]
print(a, b)
PY
}

read -r env_t st_t < <(pair env 5 40 "$bin env prod --shell bash" "secret-tool lookup service $service username alice")
read -r ver_t true_t < <(pair version 20 300 "$bin --version" "/bin/true")
one_t=$(mean one 1 10 "$bin status slow0")
# An auth app 300 ms away: the search, then /version and /users/current at once.
auth_t=$(mean auth 1 10 "$bin status slowauth")
all8_t=$(python3 - "$bin" <<'PY'
import subprocess, sys, time, json, os
bin = sys.argv[1]
# status over the eight slow servers: rename-free, through a private config of just them
cfg = os.environ["MLFLOW_LOGIN_CONFIG_DIR"]
import tomllib
with open(os.path.join(cfg, "config.toml"), "rb") as f:
    c = tomllib.load(f)
os.makedirs(cfg + "-8", exist_ok=True)
with open(os.path.join(cfg + "-8", "config.toml"), "w") as f:
    for name, s in c["servers"].items():
        if name.startswith("slow"):
            f.write(f'[servers.{name}]\nurl = "{s["url"]}"\nusername = "{s["username"]}"\n')
env = dict(os.environ, MLFLOW_LOGIN_CONFIG_DIR=cfg + "-8")
times = []
for _ in range(10):
    t = time.perf_counter()
    subprocess.run([bin, "status", "--all"], env=env, check=True, stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - t)
print(sum(times) / len(times))
PY
)
t0=$(date +%s.%N)
"$bin" status hole >/dev/null 2>&1 || true
t1=$(date +%s.%N)
hole_t=$(python3 -c "print($t1 - $t0)")

python3 - "$env_t" "$st_t" "$ver_t" "$true_t" "$one_t" "$all8_t" "$hole_t" "$auth_t" <<'PY'
import sys
env_t, st_t, ver_t, true_t, one_t, all8_t, hole_t, auth_t = map(float, sys.argv[1:])
# --version is a figure, not a target: it is std's start-up, which no prompt pays (the hook
# starts no process when nothing changed); nothing is bought there with unsafe code.
rows = [
    # keyring 4's own Secret Service read (the only read path) against
    # libsecret's: no slower than the reference client.
    ("env (keychain read + render)", env_t, "secret-tool lookup", st_t, 1.0),
    ("--version (figure)", ver_t, "/bin/true", true_t, None),
    ("status --all, 8 servers at 300 ms", all8_t, "status, 1 server", one_t, 1.2),
    # The identity is asked beside /version: two round trips in all, not three (three
    # would be 1.5x).
    ("status, auth app at 300 ms (+identity)", auth_t, "2 round trips", 0.6, 1.15),
]
print(f"{'benchmark':38} {'ours':>10} {'baseline':>28} {'ratio':>7} {'target':>7}  ok")
for name, a, bname, b, target in rows:
    r = a / b
    verdict = f"{target:6.1f}x  {'yes' if r <= target else 'NO'}" if target else f"{'-':>7}"
    print(f"{name:38} {a*1000:8.2f}ms {bname:>19} {b*1000:6.2f}ms {r:6.2f}x {verdict}")
print(f"{'status of a blackholed server':38} {hole_t:8.2f}s  (verifier total timeout: 10 s; connect timeout 5 s)")
print("(env and --version: the round with the median ratio of five, each timing both back to back)")
PY
# What the CLI's start-up loads besides the binary (Cargo.toml's tokio features keep libm out).
libs=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd ' ')
echo "shared libraries of the CLI: $libs"
