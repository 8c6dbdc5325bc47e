# Sourced by `make test`'s scripts: `step CMD...` runs a step and notes its time, and the
# table of every step's time ends the run (also when a step fails), so that where the time of
# `make test` goes is on screen. Nested scripts (the fixture wrapper, tests/run-all.sh) add
# their steps to the same table through the file $MLL_STEP_TIMES; the script that made the
# file prints it.
# shellcheck shell=bash

# steps_begin: makes the table's file unless an outer script did, and prints it at exit.
steps_begin() {
    [[ -z "${MLL_STEP_TIMES:-}" ]] || return 0
    MLL_STEP_TIMES=$(mktemp "${TMPDIR:-/tmp}/mll-step-times.XXXXXX")
    export MLL_STEP_TIMES
    _steps_start=$SECONDS
    trap _steps_report EXIT
}

_steps_report() {
    local rc=$?
    if [[ -s "$MLL_STEP_TIMES" ]]; then
        printf '\n==> time per step\n'
        cat "$MLL_STEP_TIMES"
        printf '%5ds  in all\n' $((SECONDS - _steps_start))
    fi
    rm -f "$MLL_STEP_TIMES"
    return "$rc"
}

# step CMD [ARGS...]: runs CMD, notes "SECONDS  CMD" in the table, returns CMD's status.
step() {
    printf '\n==> %s\n' "$*"
    local start=$SECONDS rc=0
    "$@" || rc=$?
    if [[ -n "${MLL_STEP_TIMES:-}" ]]; then
        printf '%5ds  %s\n' $((SECONDS - start)) "$*" >>"$MLL_STEP_TIMES"
    fi
    return "$rc"
}
