# MLflow Login: shell integration for bash.
# Set up by `{{init_line}}` in {{rc_file}}.
#
# At each prompt __mll_hook compares, in one pattern match, bash's clock, the one-line
# state file and $PWD with $__mll_when (the seconds before a single sign-on token's refresh
# time, from mlflow-login), $__mll_state and the folder of the last prompt: builtins only,
# and nothing more when they match, so an unchanged prompt starts no process. Otherwise
# __mll_changed looks for the project file (.mlflow-login.toml) in $PWD and the folders
# above, up to $HOME, with `[[ -f ]]`, and only when the state file or the project file in
# force changed (a switch of server or workspace, a login or logout anywhere; entering or
# leaving a project), or the token needs refreshing, runs mlflow-login, once.

__mll_hook() {
    # Globals, not `local`: a local scope costs this function more than all its tests.
    __mll_rc=$? __mll_s=
    # `-r` first, not `2>/dev/null`: a redirection of stderr costs bash 9 more system calls.
    [[ -r {{state_file}} ]] && IFS= read -r __mll_s <{{state_file}}
    # One match for the clock, the state and the folder: the clock's ten digits against the
    # glob $__mll_when (unquoted: a pattern), then the state and $PWD literally (a state line
    # holds no `/`, and $PWD starts with one). A second test, or `${…-}` defaults, would
    # cost more than the match. Without bash 5's $EPOCHSECONDS every prompt takes
    # __mll_changed, which has a clock (no process either).
    [[ "$EPOCHSECONDS$__mll_s$PWD" != $__mll_when"${__mll_state-}${__mll_pwd-}" ]] &&
        __mll_changed "$__mll_s"
    return "$__mll_rc"
}

# Something may have changed: the state file ($1), the folder, or the clock.
__mll_changed() {
    local __mll_p=${MLFLOW_LOGIN_PROJECT-} __mll_d __mll_now=0 __mll_b
    if [[ "$PWD" != "${__mll_pwd-}" ]]; then
        __mll_pwd=$PWD __mll_p='' __mll_d=$PWD
        while [[ -n "$__mll_d" && "$__mll_d" != / ]]; do
            if [[ -f "$__mll_d/"{{project_file}} ]]; then
                __mll_p=$__mll_d/{{project_file}}
                break
            fi
            [[ "$__mll_d" == "${HOME-}" ]] && break
            __mll_d=${__mll_d%/*}
        done
    fi
    if [[ -n "${__mll_due-}" ]]; then
        # Builtins: bash 5's $EPOCHSECONDS, else printf's clock (bash 4.2).
        __mll_now=${EPOCHSECONDS-}
        [[ -n "$__mll_now" ]] || printf -v __mll_now '%(%s)T' -1
        # The clock left $__mll_when's block: the prompt compares with the next block of
        # $__mll_whens that holds it (each block ends before the refresh time).
        __mll_b=${__mll_whens-}
        while [[ -n "$__mll_b" ]]; do
            # shellcheck disable=SC2053 # the block is a glob
            if [[ $__mll_now == ${__mll_b%%[|]*} ]]; then
                __mll_when=${__mll_b%%[|]*}
                break
            fi
            __mll_b=${__mll_b#*[|]}
        done
    fi
    if [[ "$1" != "${__mll_state-}" || "$__mll_p" != "${MLFLOW_LOGIN_PROJECT-}" ]] ||
        ((${__mll_due:-0} > 0 && __mll_now >= __mll_due)); then
        __mll_state=$1
        if [[ -x {{bin}} ]]; then
            eval "$(MLFLOW_LOGIN_PROJECT=$__mll_p __MLL_HINTED=${__mll_hinted-} {{bin}} hook-env --shell bash{{hook_args}})"
        fi
    fi
}

# `use NAME --here` and `use --unpin` change this shell, so they go through a function;
# every other command runs the program as it is.
mlflow-login() {
    if [[ ! -x {{bin}} ]]; then
        printf '%s\n' "mlflow-login: "{{bin}}" is gone: reinstall it, or remove the init line from {{rc_file}}" >&2
        return 127
    fi
    local __mll_a __mll_out
    if [[ "${1-}" == use ]]; then
        for __mll_a in "$@"; do
            if [[ "$__mll_a" == --here || "$__mll_a" == --unpin ]]; then
                __mll_out=$(MLFLOW_LOGIN_SHELL="bash{{hook_args}}" {{bin}} "$@") || return
                eval "$__mll_out"
                return
            fi
        done
    fi
    MLFLOW_LOGIN_SHELL="bash{{hook_args}}" {{bin}} "$@"
}

if [[ "${PROMPT_COMMAND[*]-}" != *__mll_hook* ]]; then
    if [[ "$(declare -p PROMPT_COMMAND 2>&1)" == "declare -a"* ]]; then
        PROMPT_COMMAND=(__mll_hook "${PROMPT_COMMAND[@]}")
    else
        # A string here (the array case is above).
        # shellcheck disable=SC2178,SC2128
        PROMPT_COMMAND="__mll_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
    fi
fi
