#!/usr/bin/env bash
# Concurrent CLI processes (use, login, rename, remove) changing one config, with random
# SIGKILLs, in a private world (tests/faults/lib.sh); the checks are in stress.py.
#
#   STRESS_CYCLES=N tests/faults/stress.sh      (tests/faults/run.sh: 15; make stress: 400)
#
# The tray is not in the mix: it changes the config through the same core functions and
# the same lock, and a tray killed with SIGKILL is a CLI killed with SIGKILL to the file.
set -euo pipefail
# shellcheck source=tests/faults/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_tools
world_up stress
keyring_up
/usr/bin/python3 "$faults_dir/stress.py" "$BIN"
