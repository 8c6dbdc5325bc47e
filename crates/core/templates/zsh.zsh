# MLflow Login: shell integration for zsh.
# Set up by `{{init_line}}` in {{rc_file}}.
#
# At each prompt __mll_hook compares the one-line state file with $__mll_state using
# builtins only, so an unchanged prompt starts no process. When the file changed (a
# switch, login or logout anywhere), it runs mlflow-login once for the new exports.

__mll_hook() {
    local __mll_rc=$? __mll_s=
    # `$(<file)` is a builtin read in zsh (no fork), and faster than `read`.
    [[ -f {{state_file}} ]] && __mll_s=$(<{{state_file}})
    if [[ "$__mll_s" != "${__mll_state-}" ]]; then
        typeset -g __mll_state=$__mll_s
        if [[ -x {{bin}} ]]; then
            eval "$({{bin}} hook-env --shell zsh{{hook_args}})"
        fi
    fi
    return $__mll_rc
}

# `use NAME --here` and `use --unpin` change this shell, so they go through a function;
# every other command runs the program as it is.
mlflow-login() {
    if [[ ! -x {{bin}} ]]; then
        print -ru2 -- "mlflow-login: "{{bin}}" is gone: reinstall it, or remove the init line from {{rc_file}}"
        return 127
    fi
    local __mll_a __mll_out
    if [[ "${1-}" == use ]]; then
        for __mll_a in "$@"; do
            if [[ "$__mll_a" == --here || "$__mll_a" == --unpin ]]; then
                __mll_out=$(MLFLOW_LOGIN_SHELL="zsh{{hook_args}}" {{bin}} "$@") || return
                eval "$__mll_out"
                return
            fi
        done
    fi
    MLFLOW_LOGIN_SHELL="zsh{{hook_args}}" {{bin}} "$@"
}

typeset -ag precmd_functions
if (( ! ${precmd_functions[(I)__mll_hook]} )); then
    precmd_functions=(__mll_hook $precmd_functions)
fi
