# MLflow Login: shell integration for bash.
# Set up by `{{init_line}}` in {{rc_file}}.
#
# At each prompt __mll_hook compares the one-line state file with $__mll_state using
# builtins only, so an unchanged prompt starts no process. When the file changed (a
# switch, login or logout anywhere), it runs mlflow-login once for the new exports.

__mll_hook() {
    local __mll_rc=$? __mll_s=
    # `-r` first, not `2>/dev/null`: a redirection of stderr costs bash 9 more system calls.
    [[ -r {{state_file}} ]] && IFS= read -r __mll_s <{{state_file}}
    if [[ "$__mll_s" != "${__mll_state-}" ]]; then
        __mll_state=$__mll_s
        if [[ -x {{bin}} ]]; then
            eval "$({{bin}} hook-env --shell bash{{hook_args}})"
        fi
    fi
    return "$__mll_rc"
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
