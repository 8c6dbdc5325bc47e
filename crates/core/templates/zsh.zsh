# MLflow Login: shell integration for zsh.
# Set up by `{{init_line}}` in {{rc_file}}.
#
# At each prompt __mll_hook compares the one-line state file and $PWD with what it saw, using
# builtins only, so an unchanged prompt starts no process. When $PWD changed, it looks for
# the project file (.mlflow-login.toml) in it and the folders above, up to $HOME, with
# `[[ -f ]]`. Only when the state file or the project file in force changed (a switch,
# login or logout anywhere; entering or leaving a project), or the exported single sign-on
# token needs refreshing ($__mll_due, compared with zsh/datetime's $EPOCHSECONDS), does it
# run mlflow-login, once.

# The clock, as a builtin parameter (a loadable module, not a process). Without it the
# token is refreshed when anything else makes the hook run.
zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null

__mll_hook() {
    # Globals, not `local`: a local scope costs this function more than its tests.
    __mll_rc=$? __mll_s=
    # `$(<file)` is a builtin read in zsh (no fork), and faster than `read`.
    [[ -f {{state_file}} ]] && __mll_s=$(<{{state_file}})
    # One string compare for the state and the folder (a state line holds no `/`, and $PWD
    # starts with one); the clock only while a token is exported, as strings (both ten
    # digits): `<` costs zsh less than `-ge`'s arithmetic, and a glob of the clock more.
    [[ "$__mll_s$PWD" != "${__mll_state-}${__mll_pwd-}" ||
        -n ${__mll_due-} && ! ${EPOCHSECONDS-} < $__mll_due ]] &&
        __mll_changed "$__mll_s"
    return $__mll_rc
}

# Something may have changed: the state file ($1), the folder, or the clock.
__mll_changed() {
    local __mll_s=$1 __mll_p=${MLFLOW_LOGIN_PROJECT-} __mll_d
    if [[ "$PWD" != "${__mll_pwd-}" ]]; then
        typeset -g __mll_pwd=$PWD
        __mll_p='' __mll_d=$PWD
        while [[ -n "$__mll_d" && "$__mll_d" != / ]]; do
            if [[ -f "$__mll_d/"{{project_file}} ]]; then
                __mll_p=$__mll_d/{{project_file}}
                break
            fi
            [[ "$__mll_d" == "${HOME-}" ]] && break
            __mll_d=${__mll_d%/*}
        done
    fi
    if [[ "$__mll_s" != "${__mll_state-}" || "$__mll_p" != "${MLFLOW_LOGIN_PROJECT-}" ]] ||
        (( ${__mll_due:-0} > 0 && ${EPOCHSECONDS:-0} >= __mll_due )); then
        typeset -g __mll_state=$__mll_s
        if [[ -x {{bin}} ]]; then
            eval "$(MLFLOW_LOGIN_PROJECT=$__mll_p __MLL_HINTED=${__mll_hinted-} {{bin}} hook-env --shell zsh{{hook_args}})"
        fi
    fi
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
