#!/usr/bin/env bash
# Build the mlflow-login CLI of a reference commit (release) and print the binary's path
# (tests/bench/ref-build.sh says how).
#
#   tests/bench/ref-cli.sh [COMMIT]     # default: $MLL_BENCH_REF, else 4d0889e
#
# 4d0889e is the end of the shell work, whose hook figures the prompt must stay within
# 10 % of.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/ref-build.sh" mlflow-login "${1:-${MLL_BENCH_REF:-4d0889e}}"
