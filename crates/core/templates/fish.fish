# MLflow Login: shell integration for fish.
# Set up by `{{init_line}}` in {{rc_file}}.
#
# At each prompt __mll_hook compares the one-line state file and $PWD with what it saw, using
# builtins only, so an unchanged prompt starts no process. When $PWD changed, it looks for
# the project file (.mlflow-login.toml) in it and the folders above, up to $HOME, with
# `test -f` (a builtin). Only when the state file or the project file in force changed (a
# switch, login or logout anywhere; entering or leaving a project), or the exported single
# sign-on token needs refreshing ($__mll_due), does it run mlflow-login, once. fish has no
# clock builtin. While a token is due, and where there is a /proc/uptime, the prompt reads
# that file with `read` (a builtin) and compares some of its characters with $__mll_when, a
# block of seconds before the refresh time that mlflow-login computed ($__mll_up is the
# refresh time in those seconds): in the same `test` as the state. Elsewhere `path mtime`
# (fish 3.5) gives a file's mtime and its age, whose sum is now; an older fish has no
# `path`: its token is refreshed when anything else runs the hook.

contains -- path (builtin --names); and set -g __mll_clock 1; or set -g __mll_clock 0

# The prompt's function, one of two: each builtin costs fish more than its work, so the
# prompt without a token due reads no clock. mlflow-login sets $__mll_up last.
function __mll_arm --on-variable __mll_up
    if test -n "$__mll_up"
        function __mll_hook --on-event fish_prompt
            # One `test`: the characters $__mll_i of /proc/uptime, the state line and the
            # folder against the clock's block, the state and the folder as they were (a
            # state line holds no `/`, and $PWD starts with one). Globals: cheaper than `-l`.
            read -g __mll_s 2>/dev/null <{{state_file}}
            read -g -a -d '' __mll_c </proc/uptime
            test "$__mll_c[$__mll_i]$__mll_s$PWD" = "$__mll_when$__mll_state$__mll_pwd"; or __mll_changed "$__mll_s"
        end
    else
        function __mll_hook --on-event fish_prompt
            # One `test` for the unchanged prompt: the state line and the folder as they were
            # (a state line holds no `/`, and $PWD starts with one), and no token due (a
            # non-empty $__mll_due makes the strings differ, so __mll_changed asks the clock).
            # `2>/dev/null` before `<`: fish then keeps quiet about a missing state file, and
            # this costs less than a `test -f` first.
            read -g __mll_s 2>/dev/null <{{state_file}}
            test "$__mll_s$PWD$__mll_due" = "$__mll_state$__mll_pwd"; or __mll_changed "$__mll_s"
        end
    end
end
__mll_arm

# Something may have changed: the state file ($argv[1]), the folder, or the clock.
function __mll_changed
    set -l __mll_s $argv[1]
    set -l __mll_p "$MLFLOW_LOGIN_PROJECT"
    if test "$PWD" != "$__mll_pwd"
        set -g __mll_pwd $PWD
        set __mll_p ''
        # The folders from $PWD up, built with `set` alone after one `string split`: a
        # command substitution per level cost fish about 50 µs each.
        set -l __mll_a ''
        set -l __mll_ds
        for __mll_x in (string split / -- $PWD)
            test -n "$__mll_x"; or continue
            set __mll_a "$__mll_a/$__mll_x"
            set -p __mll_ds $__mll_a
        end
        for __mll_d in $__mll_ds
            if test -f "$__mll_d/"{{project_file}}
                set __mll_p "$__mll_d/"{{project_file}}
                break
            end
            test "$__mll_d" = "$HOME"; and break
        end
    end
    set -l __mll_late 0
    if test -n "$__mll_up"
        # The prompt's clock: past the refresh time, else on to the block that holds now.
        read -l -d . __mll_u __mll_x </proc/uptime
        if test "$__mll_u" -ge "$__mll_up"
            set __mll_late 1
        else
            set -l __mll_now "$__mll_c[$__mll_i]"
            contains -- $__mll_now $__mll_whens; and set -g __mll_when $__mll_now
        end
    else if test -n "$__mll_due"; and test $__mll_clock = 1
        # Builtins only: `path` and `math` in a command substitution start no process.
        set -l __mll_now (math (path mtime /) + (path mtime --relative /) 2>/dev/null)
        test -n "$__mll_now"; and test "$__mll_now" -ge "$__mll_due"; and set __mll_late 1
    end
    if test "$__mll_s" != "$__mll_state"; or test "$__mll_p" != "$MLFLOW_LOGIN_PROJECT"; or test $__mll_late = 1
        set -g __mll_state $__mll_s
        if test -x {{bin}}
            MLFLOW_LOGIN_PROJECT=$__mll_p __MLL_HINTED="$__mll_hinted" {{bin}} hook-env --shell fish{{hook_args}} | source
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
