#!/usr/bin/env bash
# Per-prompt cost of the MLflow Login hook against direnv's hook, in bash, zsh
# and fish: microseconds and processes per unchanged prompt, as a table with ratios. Then
# the same in a project: a prompt in a project's sub-folder, and a `cd` between
# two folders of one project followed by its prompt. mlflow-login's project has a
# .mlflow-login.toml, direnv's the same folders with an allowed .envrc doing the same export.
#
#   tests/bench/hook.sh [PATH/TO/mlflow-login [PATH/TO/REFERENCE/mlflow-login]]
#
# (default: mlflow-login from PATH). With a reference binary (make bench builds 4d0889e's,
# tests/bench/ref-cli.sh), the unchanged prompt is measured for it too in the same run and
# today's figure is printed as a ratio to it: within 10 % is the target. Today's binary is
# measured with everything a prompt may have to check in force: the active server has a
# workspace, a single sign-on expiry is pending ($__mll_due), and the project rows run in a
# project.
#
# Each shell calls its prompt hook N times in a loop, exactly as PROMPT_COMMAND, precmd or
# the fish_prompt event would; the cost of starting the shell is taken out by a run with
# N = 0. direnv runs in a folder without .envrc for the unchanged prompt. Processes are counted with strace
# (fork, vfork, and clone without CLONE_THREAD). Needs a keychain (the init reads
# the active server's password): run under tests/fixtures/with-keyring.sh (make bench does).
set -euo pipefail

bin=${1:-$(command -v mlflow-login || true)}
[[ -n "$bin" && -x "$bin" ]] || {
    echo "hook.sh: no mlflow-login binary: pass its path, or put it on PATH (cargo build --release -p mlflow-login)" >&2
    exit 1
}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
ref_bin=${2:-}
ref_name=${ref_bin##*/mlflow-login-}
if [[ -n "$ref_bin" ]]; then
    [[ -x "$ref_bin" ]] || { echo "hook.sh: the reference binary $ref_bin is not executable" >&2; exit 1; }
    ref_bin=$(cd "$(dirname "$ref_bin")" && pwd)/$(basename "$ref_bin")
fi
: "${DBUS_SESSION_BUS_ADDRESS:?hook.sh: no keychain: run under tests/fixtures/with-keyring.sh}"
for tool in bash zsh fish direnv strace; do
    command -v "$tool" >/dev/null || { echo "hook.sh: $tool is missing: apt-get install $tool" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/empty" "$work/home"
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_DATA_HOME=$work/home/.local/share
export MLFLOW_LOGIN_CONFIG_DIR=$work/config MLFLOW_LOGIN_KEYCHAIN_PREFIX="mll-bench-$$-$RANDOM:"
printf 'bench-pw\n' | "$bin" login prod --url https://prod.example/mlflow --username alice --password-stdin --no-verify \
    >/dev/null 2>&1
"$bin" use prod/team-a --no-verify >/dev/null 2>&1
if [[ -n "$ref_bin" ]]; then
    # Its own config: today's (with a workspace) is not one an older binary reads.
    printf 'bench-pw\n' | MLFLOW_LOGIN_CONFIG_DIR=$work/config-ref "$ref_bin" login prod --url https://prod.example/mlflow \
        --username alice --password-stdin --no-verify >/dev/null 2>&1
fi
mkdir -p "$HOME/proj/src/a" "$HOME/proj/src/b"
printf 'url = "https://prod.example/mlflow"\n' >"$HOME/proj/.mlflow-login.toml"
printf 'export MLFLOW_TRACKING_URI=https://prod.example/mlflow\n' >"$HOME/proj/.envrc"
direnv allow "$HOME/proj" >/dev/null 2>&1
cd "$work/empty"

# The script that calls `hook` N times in `shell`, after `setup`.
script() { # shell setup hook n
    case $1 in
    bash) printf '%s\ni=0; while ((i < %d)); do %s; ((i += 1)); done\n' "$2" "$4" "$3" ;;
    zsh) printf '%s\nfor ((i = 0; i < %d; i++)); do %s; done\n' "$2" "$4" "$3" ;;
    fish) printf '%s\nfor i in (seq %d); %s; end\n' "$2" "$4" "$3" ;;
    esac
}
shell_argv() { # shell script -> argv in the array `argv`
    case $1 in
    bash) argv=(bash --norc --noprofile -c "$2") ;;
    zsh) argv=(zsh -f -c "$2") ;;
    fish) argv=(fish --no-config -c "$2") ;;
    esac
}
run_shell() { # shell script
    local argv
    shell_argv "$1" "$2"
    "${argv[@]}"
}
now_ns() { date +%s%N; }

# Best of three: nanoseconds for the whole run.
elapsed() { # shell script
    local best=0 t0 t1 d k
    for k in 1 2 3; do
        t0=$(now_ns)
        run_shell "$1" "$2" >/dev/null 2>&1
        t1=$(now_ns)
        d=$((t1 - t0))
        if ((k == 1 || d < best)); then best=$d; fi
    done
    echo "$best"
}

# Processes started by a run (strace), not counting the shell itself.
processes() { # shell script
    local out=$work/trace argv
    shell_argv "$1" "$2"
    strace -f -qq -e trace=fork,vfork,clone,clone3 -o "$out" "${argv[@]}" >/dev/null 2>&1
    # A new process is a fork, vfork or clone without CLONE_THREAD (its execve is the same process).
    grep -E '(fork|vfork|clone3?)\(' "$out" | grep -v CLONE_THREAD | grep -v 'resumed>' | grep -c . || true
}

# µs per prompt and processes per prompt of one hook.
measure() { # shell setup hook n
    local t0 tn p0 pn pn_runs=100
    t0=$(elapsed "$1" "$(script "$1" "$2" "$3" 0)")
    tn=$(elapsed "$1" "$(script "$1" "$2" "$3" "$4")")
    p0=$(processes "$1" "$(script "$1" "$2" "$3" 0)")
    pn=$(processes "$1" "$(script "$1" "$2" "$3" "$pn_runs")")
    # `per`: prompts in one loop body (the cd scenario has two).
    awk -v t0="$t0" -v tn="$tn" -v n="$4" -v p0="$p0" -v pn="$pn" -v pr="$pn_runs" -v per="${per:-1}" \
        'BEGIN { us = (tn - t0) / n / per / 1000; if (us < 0) us = 0; printf "%.1f %.2f\n", us, (pn - p0) / pr / per }'
}

q=$(printf '%q' "$bin")
# A single sign-on token's refresh is pending: the prompt compares the clock. Ten digits,
# as hook-env renders them; for bash also the blocks of seconds before it, in the shape
# hook-env renders (core's clock_blocks): the 10^4-second block that holds now, then the next.
now=$(date +%s)
due=$(((now / 10000 + 2) * 10000))
when="${now:0:6}????" when2="$((${now:0:6} + 1))????"
# fish: the same refresh time in /proc/uptime seconds, in blocks of 10^k seconds (k as core's
# uptime_blocks picks it): the leading digits and the `.`, one character a word.
fish_due="set -g __mll_due $due"
if [[ -r /proc/uptime ]]; then
    read -r up _ </proc/uptime
    up=${up%.*} left=$((due - now)) k=0
    while ((k + 1 < ${#up} && 10 ** (k + 1) * 20 <= left)); do ((k += 1)); done
    kept=$((${#up} - k)) b=$((up / 10 ** k)) whens=()
    while (((b + 1) * 10 ** k <= up + left)); do
        w=''
        for ((i = 0; i < ${#b}; i++)); do w+="${b:i:1} "; done
        whens+=("'$w.'")
        ((b += 1))
    done
    fish_due+="; set -g __mll_i $(seq -s ' ' 1 "$kept") $((${#up} + 1)); set -g __mll_when ${whens[0]}"
    fish_due+="; set -g __mll_whens ${whens[*]}; set -g __mll_up $((up + left))"
fi
# What hook-env sets while a token's refresh is pending, per shell.
declare -A due_vars=(
    [bash]="__mll_due=$due __mll_when='$when' __mll_whens='$when|$when2|'"
    [zsh]="__mll_due=$due"
    [fish]="$fish_due"
)
# shellcheck disable=SC2016 # the direnv lines are shell code, expanded by the shell under test
declare -A setup=(
    [mll_bash]="eval \"\$($q init bash)\"; ${due_vars[bash]}"
    [mll_zsh]="eval \"\$($q init zsh)\"; ${due_vars[zsh]}"
    [mll_fish]="$q init fish | source; ${due_vars[fish]}"
    # No token due (instruction counts only).
    [plain_bash]="eval \"\$($q init bash)\"" [plain_zsh]="eval \"\$($q init zsh)\"" [plain_fish]="$q init fish | source"
    [direnv_bash]='eval "$(direnv hook bash)"'
    [direnv_zsh]='eval "$(direnv hook zsh)"'
    [direnv_fish]='direnv hook fish | source'
)
declare -A hook=(
    [mll_bash]=__mll_hook [mll_zsh]=__mll_hook [mll_fish]=__mll_hook
    [direnv_bash]=_direnv_hook [direnv_zsh]=_direnv_hook [direnv_fish]=__direnv_export_eval
)

if [[ -n "$ref_bin" ]]; then
    r=$(printf 'MLFLOW_LOGIN_CONFIG_DIR=%q %q' "$work/config-ref" "$ref_bin")
    setup[ref_bash]="eval \"\$($r init bash)\"" setup[ref_zsh]="eval \"\$($r init zsh)\""
    setup[ref_fish]="env $r init fish | source"
fi

qa=$(printf '%q' "$HOME/proj/src/a") qb=$(printf '%q' "$HOME/proj/src/b")
status=0
printf '%-6s %-13s %-22s %12s %18s %14s\n' shell hook scenario "µs/prompt" "processes/prompt" "vs direnv"
row() { # shell scenario body(HOOK is the hook) mll-n direnv-n
    local sh=$1 mus mproc dus dproc ratio
    read -r mus mproc < <(measure "$sh" "${setup[mll_$sh]}" "${3//HOOK/${hook[mll_$sh]}}" "$4")
    read -r dus dproc < <(measure "$sh" "${setup[direnv_$sh]}" "${3//HOOK/${hook[direnv_$sh]}}" "$5")
    ratio=$(awk -v m="$mus" -v d="$dus" 'BEGIN { if (m <= 0) m = 0.1; printf "%.0f", d / m }')
    printf '%-6s %-13s %-22s %12s %18s %14s\n' "$sh" mlflow-login "$2" "$mus" "$mproc" "${ratio}x cheaper"
    printf '%-6s %-13s %-22s %12s %18s %14s\n' "$sh" direnv "$2" "$dus" "$dproc" 1x
    if [[ "$mproc" != 0.00 ]]; then
        echo "MISSED: $sh: the hook started processes ($2)" >&2
        status=1
    fi
    if ((ratio < 100)); then
        echo "note: $sh: $2: under the 100x target (${ratio}x)" >&2
    fi
}
# The reference binary's unchanged prompt, measured now: today's figure as a ratio to it.
ref_row() { # shell
    local sh=$1 rus rproc mus mproc vs
    read -r rus rproc < <(measure "$sh" "${setup[ref_$sh]}" "${hook[mll_$sh]}" 5000)
    read -r mus mproc < <(measure "$sh" "${setup[mll_$sh]}" "${hook[mll_$sh]}" 5000)
    vs=$(awk -v m="$mus" -v r="$rus" 'BEGIN { if (r <= 0) r = 0.1; printf "%.2f", m / r }')
    printf '%-6s %-13s %-22s %12s %18s %14s\n' "$sh" "${ref_name:-reference}" "unchanged prompt" "$rus" "$rproc" 1x
    printf '%-6s %-13s %-22s %12s %18s %14s\n' "$sh" mlflow-login "unchanged prompt" "$mus" "$mproc" "${vs}x the ref"
    if awk -v v="$vs" 'BEGIN { exit !(v > 1.10) }'; then
        echo "MISSED: $sh: the unchanged prompt costs ${vs}x the reference's (target: at most 1.10x)" >&2
        status=1
    fi
}
if [[ -n "$ref_bin" ]]; then
    printf '%-6s %-13s %-22s %12s %18s %14s\n' shell hook scenario "µs/prompt" "processes/prompt" "vs reference"
    for sh in bash zsh fish; do
        ref_row "$sh"
    done
    echo
fi
# Instructions per unchanged prompt (valgrind's callgrind: the same count on a loaded box,
# where the µs above move with the load): 2000 prompts minus none, every process of the run
# counted (the init's command substitution is in both runs).
instructions() { # shell setup hook -> instructions per prompt
    local argv a b n=2000
    count() { # script
        rm -f "$work"/cg.*
        shell_argv "$1" "$2"
        valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" "${argv[@]}" >/dev/null 2>&1
        cat "$work"/cg.* | awk '/^summary:/ { s += $2 } END { print s }'
    }
    a=$(count "$1" "$(script "$1" "$2" "$3" 0)")
    b=$(count "$1" "$(script "$1" "$2" "$3" "$n")")
    awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n / 1000 }'
}
if [[ -n "$ref_bin" ]]; then
    if command -v valgrind >/dev/null; then
        printf '%-6s %12s %22s %28s %34s\n' shell "ref kIr" "no SSO kIr (vs ref)" "SSO pending kIr (vs ref)" \
            "SSO pending, project kIr (vs ref)"
        for sh in bash zsh fish; do
            ref_ir=$(instructions "$sh" "${setup[ref_$sh]}" "${hook[mll_$sh]}")
            plain_ir=$(instructions "$sh" "${setup[plain_$sh]}" "${hook[mll_$sh]}")
            sso_ir=$(instructions "$sh" "${setup[mll_$sh]}" "${hook[mll_$sh]}")
            # Everything in force: a project file (entered in the set-up: its hook-env run
            # is in both runs), the workspace, and a refresh pending.
            proj_ir=$(instructions "$sh" "${setup[plain_$sh]}; cd $qa; ${hook[mll_$sh]}; ${due_vars[$sh]}" "${hook[mll_$sh]}")
            read -r v1 v2 v3 < <(awk -v r="$ref_ir" -v p="$plain_ir" -v s="$sso_ir" -v j="$proj_ir" \
                'BEGIN { printf "%.2f %.2f %.2f\n", p / r, s / r, j / r }')
            printf '%-6s %12s %22s %28s %34s\n' "$sh" "$ref_ir" "$plain_ir (${v1}x)" "$sso_ir (${v2}x)" "$proj_ir (${v3}x)"
            for v in "no SSO:$v1" "SSO pending:$v2" "SSO pending in a project:$v3"; do
                if awk -v v="${v##*:}" 'BEGIN { exit !(v > 1.10) }'; then
                    echo "MISSED: $sh: ${v%%:*}: ${v##*:}x the reference's instructions (target: at most 1.10x)" >&2
                    status=1
                fi
            done
        done
        echo
    else
        echo "MISSED: valgrind is missing (instruction counts): apt-get install valgrind" >&2
        status=1
    fi
fi
for sh in bash zsh fish; do
    row "$sh" "unchanged prompt" HOOK 5000 200
    # Entering the project (one run of each tool) is set-up, so also in the N = 0 run.
    outside_mll=${setup[mll_$sh]} outside_direnv=${setup[direnv_$sh]}
    setup[mll_$sh]="$outside_mll; cd $qa; cd $qb; ${hook[mll_$sh]}"
    setup[direnv_$sh]="$outside_direnv; cd $qa; cd $qb; ${hook[direnv_$sh]}"
    row "$sh" "prompt in a project" HOOK 5000 200
    # Back and forth between src/a and src/b: two cds and two prompts a turn (not `cd -`:
    # fish's runs seq).
    per=2 row "$sh" "cd within a project" "cd $qa; HOOK; cd $qb; HOOK" 1000 100
    setup[mll_$sh]="$outside_mll"
    setup[direnv_$sh]="$outside_direnv"
done
exit $status
