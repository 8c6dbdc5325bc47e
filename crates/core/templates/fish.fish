# MLflow Login: shell integration for fish.
# Set up by `{{init_line}}` in {{rc_file}}.
#
# At each prompt __mll_hook compares the one-line state file with $__mll_state using
# builtins only, so an unchanged prompt starts no process. When the file changed (a
# switch, login or logout anywhere), it runs mlflow-login once for the new exports.

function __mll_hook --on-event fish_prompt
    set -l __mll_s ''
    # `test` first: fish warns about a missing file even with 2>/dev/null.
    test -f {{state_file}}; and read -l __mll_s <{{state_file}}
    if test "$__mll_s" != "$__mll_state"
        set -g __mll_state $__mll_s
        if test -x {{bin}}
            {{bin}} hook-env --shell fish{{hook_args}} | source
        end
    end
end

# `use NAME --here` and `use --unpin` change this shell, so they go through a function;
# every other command runs the program as it is.
function mlflow-login --description 'Log in to MLflow tracking servers'
    if not test -x {{bin}}
        printf '%s\n' "mlflow-login: "{{bin}}" is gone: reinstall it, or remove the init line from {{rc_file}}" >&2
        return 127
    end
    if test "$argv[1]" = use; and begin; contains -- --here $argv; or contains -- --unpin $argv; end
        MLFLOW_LOGIN_SHELL="fish{{hook_args}}" {{bin}} $argv | source
        return $pipestatus[1]
    end
    MLFLOW_LOGIN_SHELL="fish{{hook_args}}" {{bin}} $argv
end
