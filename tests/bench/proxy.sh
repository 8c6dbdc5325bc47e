#!/usr/bin/env bash
# The local proxy (`mlflow-login proxy`) side by side with MLflow direct and nginx as a plain
# reverse proxy, all three in front of the same MLflow fixture server:
#   latency   one-row experiment search over one keep-alive connection, p50 and p99 (wrk);
#             then the same in front of a static answer (nginx `return 200`), where the
#             forwarding is all there is to measure (MLflow's own ~10 ms hide it above)
#   1 GiB     an artifact uploaded and downloaded through MLflow's artifact proxy (curl),
#             direct vs ours, and our proxy's peak RSS (VmHWM) after both
#   64 x N    64 concurrent keep-alive clients, N requests each through ours to the static
#             answer (ab): failed requests (MLflow alone would take minutes for 64,000)
# Targets: p50/p99 <= nginx's; transfers >= 0.9x direct; peak RSS <= 20 MB; 0 errors.
# Runs under tests/fixtures/with-keyring.sh + with-servers.sh (tests/bench/run.sh does that).
#
#   tests/bench/proxy.sh [PATH/TO/release/mlflow-login]
#   MLL_BENCH_SECONDS=10 MLL_BENCH_PROXY_REQUESTS=1000 MLL_BENCH_PROXY_MIB=1024 (defaults)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib.sh
source "$root/tests/lib.sh"

bin=${1:-${CARGO_TARGET_DIR:-${MLL_CACHE:-$HOME/.cache/mlflow-login}/target}/release/mlflow-login}
[[ -x "$bin" ]] || die "no release binary at $bin: run cargo build --release -p mlflow-login"
need wrk "apt-get install wrk (or scripts/install-deps.sh)"
need ab "apt-get install apache2-utils"
need nginx "apt-get install nginx"
need curl "apt-get install curl"
: "${MLL_MLFLOW_DIRECT_URL:?run under tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh}"
secs=${MLL_BENCH_SECONDS:-10}
requests=${MLL_BENCH_PROXY_REQUESTS:-1000}
mib=${MLL_BENCH_PROXY_MIB:-1024}

work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The start of an nginx.conf whose files all live under the folder $1 (made here).
nginx_prologue() {
    mkdir -p "$1/logs" "$1/tmp"
    cat <<EOF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $1/tmp/body;
    proxy_temp_path $1/tmp/proxy;
    fastcgi_temp_path $1/tmp/fastcgi;
    uwsgi_temp_path $1/tmp/uwsgi;
    scgi_temp_path $1/tmp/scgi;
EOF
}

# nginx as a plain reverse proxy to MLflow: no auth, keep-alive upstream, no buffering.
nginx_port=$(free_port)
static_port=$(free_port)
static_proxy_port=$(free_port)
upstream=${MLL_MLFLOW_DIRECT_URL#http://}
{
    nginx_prologue "$work/nginx"
    cat <<EOF
    client_max_body_size 0;
    upstream mlflow { server $upstream; keepalive 64; }
    upstream static { server 127.0.0.1:$static_port; keepalive 64; }
    server {
        listen 127.0.0.1:$static_proxy_port;
        keepalive_requests 1000000;
        location / {
            proxy_pass http://static;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
    server {
        listen 127.0.0.1:$nginx_port;
        keepalive_requests 1000000;
        location / {
            proxy_pass http://mlflow;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $upstream;
            proxy_buffering off;
            proxy_request_buffering off;
        }
    }
}
EOF
} >"$work/nginx/nginx.conf"
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
# The static answer in a process of its own, so that every proxy's hop crosses processes
# (within one nginx the proxy and the answer would share a process and its event loop).
{
    nginx_prologue "$work/static"
    cat <<EOF
    server {
        listen 127.0.0.1:$static_port;
        keepalive_requests 1000000;
        location / {
            default_type application/json;
            return 200 '{"experiments": [{"experiment_id": "0", "name": "Default"}]}';
        }
    }
}
EOF
} >"$work/static/nginx.conf"
nginx -c "$work/static/nginx.conf" -p "$work/static" &
pids+=($!)

# Ours, for a server whose MLflow asks for no password (the credential is still added).
export MLFLOW_LOGIN_CONFIG_DIR=$work/config MLFLOW_LOGIN_KEYCHAIN_PREFIX="mll-bench-$$:"
start_proxy() { # name url -> prints the tracking URI
    printf 'bench-pw' | "$bin" login "$1" --url "$2" --username bench --password-stdin --no-verify >/dev/null 2>&1
    mkfifo "$work/$1.out"
    "$bin" proxy "$1" >"$work/$1.out" 2>/dev/null &
    pids+=($!)
    echo $! >"$work/$1.pid"
}
start_proxy bench "$MLL_MLFLOW_DIRECT_URL"
read -r ours <"$work/bench.out"
proxy_pid=$(cat "$work/bench.pid")
start_proxy static "http://127.0.0.1:$static_port"
read -r ours_static <"$work/static.out"
for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://127.0.0.1:$nginx_port/health" 2>/dev/null && break
    sleep 0.1
done

search='/api/2.0/mlflow/experiments/search?max_results=1'
declare -A base=([direct]=$MLL_MLFLOW_DIRECT_URL [nginx]="http://127.0.0.1:$nginx_port" [ours]=$ours)

latency() { # title, then name=url pairs
    echo "$1, one keep-alive connection, ${secs} s each (wrk)"
    shift
    printf '%-8s %10s %10s %10s\n' "" "p50" "p99" "req/s"
    for pair in "$@"; do
        wrk -t1 -c1 -d1s "${pair#*=}" >/dev/null # warm-up
        out=$(wrk -t1 -c1 -d"${secs}s" --latency "${pair#*=}")
        printf '%-8s %10s %10s %10s %s\n' "${pair%%=*}" "$(awk '/^ +50%/ {print $2}' <<<"$out")" \
            "$(awk '/^ +99%/ {print $2}' <<<"$out")" "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
            "$(awk '/Non-2xx|Socket errors/' <<<"$out")"
    done
}
latency "a one-row experiment search at MLflow" "direct=${base[direct]}$search" "nginx=${base[nginx]}$search" \
    "ours=${base[ours]}$search"
echo
latency "a static answer (forwarding cost alone)" "direct=http://127.0.0.1:$static_port$search" \
    "nginx=http://127.0.0.1:$static_proxy_port$search" "ours=$ours_static$search"

if ((mib > 0)); then # MLL_BENCH_PROXY_MIB=0 leaves the transfers out
    echo
    echo "a ${mib} MiB artifact through MLflow's artifact proxy (curl; seconds, MiB/s)"
    head -c "$((mib << 20))" /dev/urandom >"$work/blob"
    want=$(sha256sum <"$work/blob" | cut -d' ' -f1)
    printf '%-8s %10s %10s %10s %10s\n' "" "up s" "up MiB/s" "down s" "down MiB/s"
    for which in direct ours; do
        url="${base[$which]}/api/2.0/mlflow-artifacts/artifacts/bench-$$/$which.bin"
        up=$(curl -fsS -T "$work/blob" -o /dev/null -w '%{time_total}' "$url")
        down=$(curl -fsS -o "$work/back" -w '%{time_total}' "$url")
        got=$(sha256sum <"$work/back" | cut -d' ' -f1)
        [[ "$got" == "$want" ]] || die "the $which download differs from the upload"
        rm -f "$work/back"
        printf '%-8s %10.2f %10.0f %10.2f %10.0f\n' "$which" "$up" "$(bc -l <<<"$mib / $up")" "$down" "$(bc -l <<<"$mib / $down")"
    done
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$proxy_pid/status")
    echo "our proxy's peak RSS (VmHWM) after both: $((hwm / 1024)) MiB"
fi
echo
echo "64 concurrent keep-alive clients x $requests requests each, through ours to the static answer (ab)"
out=$(ab -q -k -c 64 -n $((64 * requests)) "$ours_static$search" 2>&1)
grep -E '^(Complete requests|Failed requests|Non-2xx responses|Requests per second|Time per request)' <<<"$out" || true
failed=$(awk '/^Failed requests/ {print $3}' <<<"$out")
non2xx=$(awk '/^Non-2xx responses/ {print $3}' <<<"$out")
echo "errors: $((failed + ${non2xx:-0}))"
