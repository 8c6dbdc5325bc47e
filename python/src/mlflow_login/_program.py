"""The program protocol: finding ``mlflow-login`` and reading one answer of
``mlflow-login credential`` (the Rust type ``crates/core/src/credential.rs`` ``Answer``,
versioned; its sample answers are in ``python/tests/contract.generated.json``).
"""

from __future__ import annotations

import json
import os
import subprocess

from ._errors import LoginRequiredError, ProgramError

PLUGIN_NAME = "mlflow-login"
BIN_ENV = "MLFLOW_LOGIN_BIN"
# The answer's version (core's ``credential::VERSION``); another is refused.
FORMAT_VERSION = 1
# The program's exit code when the identity provider refused the refresh ("log in again").
EXIT_LOGIN_REQUIRED = 3
# The program bounds its own keychain wait (10 s headless, 120 s where an unlock prompt
# can appear); this only guards against a program that hangs for another reason.
PROGRAM_TIMEOUT_S = 180.0


def find_program() -> str:
    """The ``mlflow-login`` program: ``$MLFLOW_LOGIN_BIN``, else the first on ``PATH``.

    Never from the current folder: a cloned repository could hold a program of that name,
    and this one is handed passwords. ``shutil.which`` looks there first on Windows (and
    POSIX shells read an empty ``PATH`` entry as the current folder), so the search is
    done here: absolute ``PATH`` entries only, with Windows' ``PATHEXT`` endings."""
    explicit = os.environ.get(BIN_ENV)
    if explicit:
        if os.path.isfile(explicit) and os.access(explicit, os.X_OK):
            return explicit
        raise ProgramError(f"${BIN_ENV} is {explicit!r}, which is not an executable file")
    found = _on_path(PLUGIN_NAME)
    if found:
        return found
    raise ProgramError(
        "the mlflow-login program was not found on PATH: install MLflow Login, "
        f"or set {BIN_ENV} to the path of the mlflow-login program"
    )


def _on_path(name: str) -> str | None:
    """The first executable ``name`` in an absolute ``PATH`` entry (module docs)."""
    endings = [""]
    if os.name == "nt":
        endings = [e for e in os.environ.get("PATHEXT", ".COM;.EXE;.BAT;.CMD").split(os.pathsep) if e]
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        folder = folder.strip('"')
        if not folder or not os.path.isabs(folder):
            continue
        for ending in endings:
            candidate = os.path.join(folder, name + ending)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


def run(args: list[str], server: str | None = None) -> dict:
    """Runs the program with ``args`` and returns its answer (``FORMAT_VERSION``); raises
    :class:`ProgramError` (:class:`LoginRequiredError` when the identity provider refused
    the refresh of ``server``'s token)."""
    program = find_program()
    try:
        proc = subprocess.run(
            [program, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=PROGRAM_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ProgramError(f"{program} did not answer within {PROGRAM_TIMEOUT_S:.0f} s") from None
    except OSError as e:
        raise ProgramError(f"cannot run {program}: {e.strerror or e}") from None
    if proc.returncode != 0:
        # The program's stderr is its cargo-style error text, which never holds a secret.
        detail = " ".join(proc.stderr.decode("utf-8", "replace").split())
        if proc.returncode == EXIT_LOGIN_REQUIRED:
            # The program's help line names the server too; say it first, plainly.
            again = f"mlflow-login login {server}" if server else "mlflow-login login NAME"
            raise LoginRequiredError(
                f"the single sign-on session has ended (the identity provider refused to refresh "
                f"the token): log in again with `{again}` ({detail})"
            )
        what = "the keychain failed" if proc.returncode == 5 else "the mlflow-login program failed"
        raise ProgramError(f"{what} (exit code {proc.returncode}): {detail}")
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        doc = None
    del proc
    if not isinstance(doc, dict) or doc.get("version") != FORMAT_VERSION:
        raise ProgramError(
            f"{program} does not speak version {FORMAT_VERSION} of the plugin protocol: "
            "install matching versions of MLflow Login and mlflow-login-auth"
        )
    return doc
