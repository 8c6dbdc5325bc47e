# MLflow Login: set-up for POSIX sh (dash, ash, busybox sh).
# Set up by `{{init_line}}` in {{rc_file}} or $ENV.
#
# POSIX sh has no prompt hook: this exports the active server's variables when the shell
# starts, and does not follow later switches. Run `mlflow_login_refresh` to catch up.
# Without --export-password it exports no password: display managers read ~/.profile into
# the whole desktop session (see `mlflow-login init --help`).

mlflow_login_refresh() {
    if [ -x {{bin}} ]; then
        eval "$({{bin}} hook-env --shell posix{{hook_args}})"
    fi
}
