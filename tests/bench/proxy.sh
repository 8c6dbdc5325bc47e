#!/usr/bin/env bash
# The local proxy (`mlflow-login proxy`) side by side with MLflow direct and nginx as a plain
# reverse proxy, all three in front of the same MLflow fixture server:
#   latency   one-row experiment search over one keep-alive connection, p50 and p99 (wrk);
#             then the same in front of a static answer (nginx `return 200`), where the
#             forwarding is all there is to measure (MLflow's own ~10 ms hide it above).
#             Also the CPU time each proxy process spent per request (utime + stime from
#             /proc): what the hop costs, which a loaded machine moves much less than
#             latency.
#   1 GiB     an artifact uploaded and downloaded through MLflow's artifact proxy (curl),
#             direct vs ours, and our proxy's peak RSS (VmHWM) after all of them
#   64 x N    64 concurrent keep-alive clients, N requests each through ours to the static
#             answer (ab): failed requests (MLflow alone would take minutes for 64,000)
#   steady    the static answer at a user's pace (tests/bench/steady.py: a request per
#             candidate every 250 ms, MLL_BENCH_STEADY_SECONDS, default 30): p50, p90, p99,
#             the slowest, and how many took over 1 ms more than the p50 (a keychain read
#             every 2 s falls on one request in 8 of a proxy that waits for it)
#   Ir        instructions per forwarded request of the static answer (valgrind's
#             callgrind: a count that the machine's load does not move): nginx, ours and
#             the reference, each started under callgrind and counted over N keep-alive
#             requests after 200 uncounted ones (MLL_BENCH_PROXY_IR_REQUESTS, 3000)
# The machine may be shared: every measure runs in rounds, the candidates interleaved
# within each round (a load that comes and goes hits them alike), and the table gives the
# median and the range over the rounds, and the median of the per-round ratios. The load
# average is printed before and after.
# Targets: p50/p99 <= nginx's; transfers >= 0.9x direct; peak RSS <= 20 MB; 0 errors.
# With a second binary (a reference build, tests/bench/ref-build.sh), its proxy runs as one
# more candidate, "ref", in the same rounds: a change's effect as a ratio of one run.
# Runs under tests/fixtures/with-keyring.sh + with-servers.sh (tests/bench/run.sh does that).
#
#   tests/bench/proxy.sh [PATH/TO/release/mlflow-login [PATH/TO/reference/mlflow-login]]
#   MLL_BENCH_SECONDS=5 MLL_BENCH_ROUNDS=5 (latency), MLL_BENCH_PROXY_MIB=1024
#   MLL_BENCH_TRANSFER_ROUNDS=3, MLL_BENCH_PROXY_REQUESTS=1000 (defaults)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib.sh
source "$root/tests/lib.sh"

bin=${1:-${CARGO_TARGET_DIR:-${MLL_CACHE:-$HOME/.cache/mlflow-login}/target}/release/mlflow-login}
[[ -x "$bin" ]] || die "no release binary at $bin: run cargo build --release -p mlflow-login"
ref_bin=${2:-}
[[ -z "$ref_bin" || -x "$ref_bin" ]] || die "no reference binary at $ref_bin"
need wrk "apt-get install wrk (or scripts/install-deps.sh)"
need ab "apt-get install apache2-utils"
need nginx "apt-get install nginx"
need curl "apt-get install curl"
: "${MLL_MLFLOW_DIRECT_URL:?run under tests/fixtures/with-keyring.sh tests/fixtures/with-servers.sh}"
secs=${MLL_BENCH_SECONDS:-5}
rounds=${MLL_BENCH_ROUNDS:-5}
transfer_rounds=${MLL_BENCH_TRANSFER_ROUNDS:-3}
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

# The start of an nginx.conf whose files all live under the folder $1 (made before the
# caller's output redirection opens $1/nginx.conf).
mkdir -p "$work/nginx/logs" "$work/nginx/tmp" "$work/static/logs" "$work/static/tmp"
nginx_prologue() {
    cat <<EOF
worker_processes 1;
master_process off;
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

# nginx's server block that passes the static answer on, listening on port $1.
static_proxy() {
    cat <<EOF
    upstream static { server 127.0.0.1:$static_port; keepalive 64; }
    server {
        listen 127.0.0.1:$1;
        keepalive_requests 1000000;
        location / {
            proxy_pass http://static;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
    }
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
EOF
    static_proxy "$static_proxy_port"
    cat <<EOF
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
start_proxy() { # name url [binary]; its two lines go to $work/NAME.out, its pid to $work/NAME.pid
    local b=${3:-$bin}
    printf 'bench-pw' | "$b" login "$1" --url "$2" --username bench --password-stdin --no-verify >/dev/null 2>&1
    # A file, not a pipe: a reader that closed a pipe after the first line would stop the
    # proxy (it stops when its output cannot be written).
    "$b" proxy "$1" >"$work/$1.out" 2>/dev/null &
    pids+=($!)
    echo $! >"$work/$1.pid"
}
tracking_uri() { # name -> the first line its proxy printed, once both are there
    for _ in $(seq 100); do
        (($(wc -l <"$work/$1.out") >= 2)) && break
        sleep 0.1
    done
    head -n 1 "$work/$1.out"
}
start_proxy bench "$MLL_MLFLOW_DIRECT_URL"
start_proxy static "http://127.0.0.1:$static_port"
ours=$(tracking_uri bench)
ours_static=$(tracking_uri static)
if [[ -n "$ref_bin" ]]; then
    start_proxy bench-ref "$MLL_MLFLOW_DIRECT_URL" "$ref_bin"
    start_proxy static-ref "http://127.0.0.1:$static_port" "$ref_bin"
    ref=$(tracking_uri bench-ref)
    ref_static=$(tracking_uri static-ref)
fi
proxy_pid=$(cat "$work/bench.pid")
for _ in $(seq 50); do
    curl -fsS -o /dev/null "http://127.0.0.1:$nginx_port/health" 2>/dev/null && break
    sleep 0.1
done

search='/api/2.0/mlflow/experiments/search?max_results=1'
declare -A base=([direct]=$MLL_MLFLOW_DIRECT_URL [nginx]="http://127.0.0.1:$nginx_port" [ours]=$ours)
# The process that does each candidate's forwarding (none for direct).
declare -A pid_of=([nginx]=${pids[0]} [ours]=$proxy_pid [nginx-static]=${pids[0]} [ours-static]=$(cat "$work/static.pid"))
search_pairs=("direct=${base[direct]}$search" "nginx=${base[nginx]}$search" "ours=${base[ours]}$search")
static_pairs=("direct=http://127.0.0.1:$static_port$search" "nginx=http://127.0.0.1:$static_proxy_port$search"
    "ours=$ours_static$search")
transfer_candidates=(direct ours)
if [[ -n "$ref_bin" ]]; then
    base[ref]=$ref
    pid_of[ref]=$(cat "$work/bench-ref.pid")
    pid_of[ref-static]=$(cat "$work/static-ref.pid")
    search_pairs+=("ref=$ref$search")
    static_pairs+=("ref=$ref_static$search")
    transfer_candidates+=(ref)
fi
rows=$work/rows.tsv
: >"$rows"

cpu_ticks() { # pid -> its utime + stime so far, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}
ticks_per_s=$(getconf CLK_TCK)

# One wrk run: appends "measure candidate p50_us p99_us req/s cpu_us_per_request errors".
wrk_row() { # measure candidate url [pid]
    local out before after
    [[ -n "${4:-}" ]] && before=$(cpu_ticks "$4")
    out=$(wrk -t1 -c1 -d"${secs}s" --latency "$3")
    [[ -n "${4:-}" ]] && after=$(cpu_ticks "$4")
    awk -v m="$1" -v c="$2" -v b="${before:-}" -v a="${after:-}" -v hz="$ticks_per_s" -v secs="$secs" '
        function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1e6; return v }
        /^ +50%/ { p50 = us($2) } /^ +99%/ { p99 = us($2) }
        /^Requests\/sec/ { rps = $2 } /Non-2xx|Socket errors/ { err = 1 }
        END {
            cpu = (b == "" || rps == 0) ? "" : (a - b) / hz * 1e6 / (rps * secs)
            printf "%s\t%s\t%.1f\t%.1f\t%.0f\t%s\t%d\n", m, c, p50, p99, rps, cpu, err
        }' <<<"$out" >>"$rows"
}

latency() { # measure, then name=url pairs (the pid of each from pid_of[name or name-static])
    local measure=$1 round pair i n
    shift
    local pairs=("$@")
    n=${#pairs[@]}
    for pair in "${pairs[@]}"; do wrk -t1 -c1 -d1s "${pair#*=}" >/dev/null; done # warm-up
    for ((round = 0; round < rounds; round++)); do
        for ((i = 0; i < n; i++)); do # each round starts with another candidate
            pair=${pairs[$(((round + i) % n))]}
            wrk_row "$measure" "${pair%%=*}" "${pair#*=}" "${pid_of[${pair%%=*}${suffix:-}]:-}"
        done
    done
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
suffix="" latency search "${search_pairs[@]}"
suffix=-static latency static "${static_pairs[@]}"
steady_secs=${MLL_BENCH_STEADY_SECONDS:-30}
if ((steady_secs > 0)); then # MLL_BENCH_STEADY_SECONDS=0 leaves it out
    echo
    echo "the static answer at a steady pace: one request per candidate every 250 ms for $steady_secs s, in turn"
    echo "(a user's pace: what a proxy does every few seconds, such as a keychain read, falls on a request)"
    python3 "$here/steady.py" "$steady_secs" 0.25 "$search" "${static_pairs[@]/%"$search"/}"
fi

if ((mib > 0)); then # MLL_BENCH_PROXY_MIB=0 leaves the transfers out
    head -c "$((mib << 20))" /dev/urandom >"$work/blob"
    want=$(sha256sum <"$work/blob" | cut -d' ' -f1)
    for ((round = 0; round < transfer_rounds; round++)); do
        n=${#transfer_candidates[@]}
        for ((i = 0; i < n; i++)); do # each round starts with another candidate
            which=${transfer_candidates[$(((round + i) % n))]}
            url="${base[$which]}/api/2.0/mlflow-artifacts/artifacts/bench-$$/$which-$round.bin"
            pid=${pid_of[$which]:-}
            [[ -n "$pid" ]] && before=$(cpu_ticks "$pid")
            up=$(curl -fsS -T "$work/blob" -o /dev/null -w '%{time_total}' "$url")
            [[ -n "$pid" ]] && mid=$(cpu_ticks "$pid")
            down=$(curl -fsS -o "$work/back" -w '%{time_total}' "$url")
            [[ -n "$pid" ]] && after=$(cpu_ticks "$pid")
            got=$(sha256sum <"$work/back" | cut -d' ' -f1)
            [[ "$got" == "$want" ]] || die "the $which download differs from the upload"
            rm -f "$work/back"
            # Each round stores MIB more on the server's disk: gone before the next.
            curl -fsS -X DELETE -o /dev/null "${base[direct]}/api/2.0/mlflow-artifacts/artifacts/bench-$$/$which-$round.bin"
            cpu_up="" cpu_down=""
            if [[ -n "$pid" ]]; then
                cpu_up=$(bc -l <<<"($mid - $before) / $ticks_per_s")
                cpu_down=$(bc -l <<<"($after - $mid) / $ticks_per_s")
            fi
            printf 'upload\t%s\t%s\t\t%s\t%s\t0\n' "$which" "$up" "$(bc -l <<<"$mib / $up")" "$cpu_up" >>"$rows"
            printf 'download\t%s\t%s\t\t%s\t%s\t0\n' "$which" "$down" "$(bc -l <<<"$mib / $down")" "$cpu_down" >>"$rows"
        done
    done
    rm -f "$work/blob"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$rows" "$secs" "$rounds" "$transfer_rounds" "$mib" <<'PY'
import statistics as st, sys
path, secs, rounds, trounds, mib = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
def of(measure, cand, col):
    return [float(r[col]) for r in rows if r[0] == measure and r[1] == cand and r[col] != ""]
def span(xs, fmt):
    if not xs:
        return ""
    return f"{fmt.format(st.median(xs))} [{fmt.format(min(xs))}-{fmt.format(max(xs))}]"
def ratios(measure, a, b, col):
    xa, xb = of(measure, a, col), of(measure, b, col)
    return [x / y for x, y in zip(xa, xb) if y]
has_ref = any(r[1] == "ref" for r in rows)
titles = {"search": "a one-row experiment search at MLflow", "static": "a static answer (forwarding cost alone)"}
for measure in ("search", "static"):
    if not any(r[0] == measure for r in rows):
        continue
    print(f"\n{titles[measure]}: one keep-alive connection, {secs} s per run, {rounds} rounds interleaved (wrk);")
    print("median [min-max] over the rounds; CPU = the proxy process's CPU time per request")
    print(f"{'':8} {'p50 us':>22} {'p99 us':>24} {'req/s':>20} {'CPU us/req':>20} errors")
    for cand in ("direct", "nginx", "ours") + (("ref",) if has_ref else ()):
        errs = sum(int(r[6]) for r in rows if r[0] == measure and r[1] == cand)
        print(f"{cand:8} {span(of(measure, cand, 2), '{:.0f}'):>22} {span(of(measure, cand, 3), '{:.0f}'):>24} "
              f"{span(of(measure, cand, 4), '{:.0f}'):>20} {span(of(measure, cand, 5), '{:.1f}'):>20} {errs}")
    p50 = ratios(measure, "ours", "nginx", 2)
    cpu = ratios(measure, "ours", "nginx", 5)
    if p50:
        print(f"ours / nginx per round: p50 {span(p50, '{:.2f}')}, p99 {span(ratios(measure, 'ours', 'nginx', 3), '{:.2f}')}"
              + (f", CPU per request {span(cpu, '{:.2f}')}" if cpu else ""))
    if has_ref:
        print(f"ref / nginx per round: p50 {span(ratios(measure, 'ref', 'nginx', 2), '{:.2f}')}, "
              f"CPU per request {span(ratios(measure, 'ref', 'nginx', 5), '{:.2f}')}")
        print(f"ours / ref per round: p50 {span(ratios(measure, 'ours', 'ref', 2), '{:.2f}')}, "
              f"CPU per request {span(ratios(measure, 'ours', 'ref', 5), '{:.2f}')}")
for measure in ("upload", "download"):
    if not any(r[0] == measure for r in rows):
        continue
    print(f"\n{mib} MiB artifact {measure} through MLflow's artifact proxy (curl), {trounds} rounds interleaved")
    print(f"{'':8} {'s':>22} {'MiB/s':>20} {'proxy CPU s':>20}")
    for cand in ("direct", "ours") + (("ref",) if has_ref else ()):
        print(f"{cand:8} {span(of(measure, cand, 2), '{:.2f}'):>22} {span(of(measure, cand, 4), '{:.0f}'):>20} "
              f"{span(of(measure, cand, 5), '{:.2f}'):>20}")
    print(f"ours / direct throughput per round: {span(ratios(measure, 'ours', 'direct', 4), '{:.2f}')} (target >= 0.9)")
    if has_ref:
        print(f"ref / direct throughput per round: {span(ratios(measure, 'ref', 'direct', 4), '{:.2f}')}")
PY
if ((mib > 0)); then
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$proxy_pid/status")
    echo "our proxy's peak RSS (VmHWM) after all transfers: $((hwm / 1024)) MiB (target <= 20 MB)"
fi
echo
echo "64 concurrent keep-alive clients x $requests requests each, through ours to the static answer (ab)"
out=$(ab -q -k -c 64 -n $((64 * requests)) "$ours_static$search" 2>&1)
grep -E '^(Complete requests|Failed requests|Non-2xx responses|Requests per second|Time per request)' <<<"$out" || true
failed=$(awk '/^Failed requests/ {print $3}' <<<"$out")
non2xx=$(awk '/^Non-2xx responses/ {print $3}' <<<"$out")
echo "errors: $((failed + ${non2xx:-0}))"

# Instructions per forwarded request: each proxy of the static answer started once more,
# under callgrind, its count reset after a warm-up and dumped after N requests.
ir_requests=${MLL_BENCH_PROXY_IR_REQUESTS:-3000}
if ! command -v valgrind >/dev/null; then
    echo "MISSED: valgrind is missing (instruction counts): apt-get install valgrind" >&2
    exit 1
fi
mkdir -p "$work/cg-nginx/logs" "$work/cg-nginx/tmp"
cg_nginx_port=$(free_port)
{
    nginx_prologue "$work/cg-nginx"
    static_proxy "$cg_nginx_port"
    echo "}"
} >"$work/cg-nginx/nginx.conf"
instructions() { # name url-of-the-running-proxy pid -> instructions per request (k)
    [[ "$2" == http://* ]] || die "$1 under callgrind printed no address"
    ab -q -k -c 1 -n 200 "$2$search" >/dev/null
    # Counting starts here (--instr-atstart=no): start-up and warm-up are not counted.
    callgrind_control -i on "$3" >/dev/null 2>&1 || die "callgrind_control could not reach $1"
    ab -q -k -c 1 -n "$ir_requests" "$2$search" >/dev/null
    callgrind_control -d "$3" >/dev/null 2>&1 || die "callgrind_control could not reach $1"
    kill "$3"
    wait "$3" 2>/dev/null || true
    # The dump (.1) only: the file written at exit holds the shutdown.
    local dump
    dump=$(ls "$work/cg.$1".*.1 2>/dev/null) || die "no callgrind dump of $1"
    awk -v n="$ir_requests" '/^summary:/ { s += $2 } END { printf "%.1f", s / n / 1000 }' "$dump"
}
echo
echo "instructions per forwarded request of the static answer (callgrind, $ir_requests keep-alive requests)"
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.nginx.%p" \
    nginx -c "$work/cg-nginx/nginx.conf" -p "$work/cg-nginx" 2>/dev/null &
cg_pid=$!
pids+=("$cg_pid")
for _ in $(seq 100); do
    curl -fsS -o /dev/null "http://127.0.0.1:$cg_nginx_port/" 2>/dev/null && break
    sleep 0.1
done
nginx_ir=$(instructions nginx "http://127.0.0.1:$cg_nginx_port" "$cg_pid")
cg_proxy() { # name binary -> instructions per request
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$work/cg.$1.%p" "$2" proxy static \
        >"$work/cg-$1.out" 2>/dev/null &
    local pid=$!
    # A command substitution runs this: the script's cleanup does not see the pid, so this
    # subshell ends it when it exits, however it exits.
    # shellcheck disable=SC2064 # the pid, now
    trap "kill $pid 2>/dev/null" EXIT
    for _ in $(seq 300); do
        (($(wc -l <"$work/cg-$1.out") >= 2)) && break
        sleep 0.1
    done
    instructions "$1" "$(head -n 1 "$work/cg-$1.out")" "$pid"
}
ours_ir=$(cg_proxy ours "$bin")
printf '%-8s %8s kIr\n%-8s %8s kIr (%sx nginx)\n' nginx "$nginx_ir" ours "$ours_ir" \
    "$(awk -v a="$ours_ir" -v b="$nginx_ir" 'BEGIN { printf "%.2f", a / b }')"
if [[ -n "$ref_bin" ]]; then
    ref_ir=$(cg_proxy ref "$ref_bin")
    printf '%-8s %8s kIr (%sx nginx; ours / ref %s)\n' ref "$ref_ir" \
        "$(awk -v a="$ref_ir" -v b="$nginx_ir" 'BEGIN { printf "%.2f", a / b }')" \
        "$(awk -v a="$ours_ir" -v b="$ref_ir" 'BEGIN { printf "%.2f", a / b }')"
fi
