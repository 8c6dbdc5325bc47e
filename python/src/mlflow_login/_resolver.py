"""Which credentials a request URL gets, and the cache that keeps the answer cheap.

One source of truth with the CLI: the servers, the active one and the passwords are never
read here. When the cache is empty or stale, the resolver runs the ``mlflow-login`` program
once (``mlflow-login credential --url URL``) and reads one JSON object from its stdout (a
pipe): every configured server (no secrets), the server the URL belongs to, and that
server's credential. The program does the config parsing, the URL normalisation and the
keychain read, exactly as ``mlflow-login env`` does. It is also the cheaper first request:
Python ``keyring`` costs an import plus a backend probe, several times the program's run
(numbers: ``tests/bench/plugin.sh``, and python/README.md).

Later requests are answered from memory. The cache is keyed on ``os.stat`` of two files in
the config dir: ``state`` (rewritten, by rename, on every switch, login, logout and removal,
by the CLI and the tray alike) and ``config.toml`` (every other edit). Two ``stat`` calls per
request, a few microseconds, and no process: a switch in the tray or a new password applies
to the next request of a running process.

Single sign-on: the program hands out an access token that is fresh (it refreshes it
first when it is near expiry, once across all processes) with its expiry. The cache keeps
it until it is near expiry by core's rule (``crates/core/src/oidc/tokens.rs``: 60 s, or a
tenth of the lifetime when shorter), then the next request runs the program once more;
threads waiting meanwhile share that one run. A provider that refuses the refresh raises
:class:`LoginRequiredError`, naming ``mlflow-login login NAME``.

A server that refuses a single sign-on token before its expiry (401: revoked, or clocks
that disagree): :meth:`Resolver.renew_refused` runs ``mlflow-login credential --refused FP``
once (FP: the token's fingerprint from the program's answer, not secret), shared by every
thread that saw that header refused; the program refreshes unless another process already
did. ``MlflowLoginAuth`` then sends the request once more with the new token.

Secrets: the JSON text and the password live only in locals while the program's answer is
read; the cache keeps the finished ``Authorization`` header inside :class:`_Header`, whose
``repr`` is redacted and which refuses to be pickled. No message raised here ever formats a header, a password or the program's
stdout.
"""

from __future__ import annotations

import base64
import math
import os
import sys
import threading
import time
import weakref
from pathlib import Path

from . import _program
from ._errors import (
    LoginRequiredError,
    MlflowLoginError,
    NoCredentialError,
    ProgramError,
    UnknownServerError,
)
from ._program import BIN_ENV, EXIT_LOGIN_REQUIRED, FORMAT_VERSION, PLUGIN_NAME, find_program
from ._urls import normalize, tracking_url_guess, without_userinfo

__all__ = [
    "BIN_ENV",
    "EXIT_LOGIN_REQUIRED",
    "FORMAT_VERSION",
    "PLUGIN_NAME",
    "LoginRequiredError",
    "MlflowLoginError",
    "NoCredentialError",
    "ProgramError",
    "Resolver",
    "UnknownServerError",
    "find_program",
    "normalize",
    "refresh_time",
    "tracking_url_guess",
    "without_userinfo",
]

CONFIG_DIR_ENV = "MLFLOW_LOGIN_CONFIG_DIR"

# A failed run of the program (keychain locked, program missing) is not retried for this
# long, so a training loop that logs 100 metrics a second does not start 100 processes a
# second; the error is raised again from memory meanwhile.
RETRY_AFTER_S = 2.0

# A server that refuses even the token a refusal was answered with (an audience it does not
# accept, a proxy misconfigured) must not turn every request into a refresh at the identity
# provider: after a refusal renewed a server's token, the next refusal within this long is
# answered with the 401 itself (the token still renews at its normal time).
REFUSED_RENEW_EVERY_S = 60.0


# The wall clock that token expiries are compared with (tests put a fake one here).
_now = time.time



def default_config_dir() -> Path:
    """Where the CLI keeps ``config.toml`` and ``state``: ``$MLFLOW_LOGIN_CONFIG_DIR``, else
    the platform config dir (the Rust ``directories`` crate's choice)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "mlflow-login"
    if os.name == "nt":
        appdata = os.environ.get("APPDATA") or str(home / "AppData" / "Roaming")
        return Path(appdata) / "mlflow-login" / "config"
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".config"
    return base / "mlflow-login"


def _watch_key(paths: tuple[str, str]):
    """What ``stat`` says about the watched files. Writers replace them by rename, so the
    inode changes on every write, whatever the file system's timestamp granularity.
    Unrolled: this runs on every request."""
    state, config = paths
    try:
        st = os.stat(state)
        a = (st.st_ino, st.st_mtime_ns, st.st_size)
    except FileNotFoundError:
        a = None
    try:
        st = os.stat(config)
        b = (st.st_ino, st.st_mtime_ns, st.st_size)
    except FileNotFoundError:
        b = None
    return (a, b)


def _watched(config_dir: Path) -> tuple[str, str]:
    return (os.path.join(config_dir, "state"), os.path.join(config_dir, "config.toml"))


def _request_base(url: str) -> str:
    """The request URL as the resolver keys, shows and passes it: no query or fragment
    (they can hold anything), no userinfo. Runs per request: the common case is two
    ``partition`` calls and an ``in``."""
    url = url.partition("?")[0]
    if "#" in url:
        url = url.partition("#")[0]
    return without_userinfo(url) if "@" in url else url


class _Header:
    """An ``Authorization`` header value, for server ``server``, usable until the wall-clock
    time ``refresh_at`` (``inf`` for a password or a token without a known expiry). Its
    ``repr`` never shows it."""

    __slots__ = ("value", "server", "refresh_at", "expires_at", "fingerprint", "workspace")

    def __init__(
        self,
        value: str,
        server: str | None = None,
        refresh_at: float = math.inf,
        expires_at=None,
        fingerprint: str | None = None,
    ):
        self.value = value
        self.server = server
        self.refresh_at = refresh_at
        self.expires_at = expires_at
        # Single sign-on only: names the token for `credential --refused` (None: a password
        # or a fixed token, which nothing can refresh).
        self.fingerprint = fingerprint
        # The server's MLflow workspace (None: it has none), sent as X-MLFLOW-WORKSPACE.
        self.workspace: str | None = None

    def __repr__(self) -> str:
        return "<Authorization header: REDACTED>"

    __str__ = __repr__

    def __reduce__(self):
        raise TypeError("an MLflow Login credential cannot be pickled")


def refresh_time(credential: dict, now: float) -> float:
    """When a credential must be asked for again (wall-clock seconds): never for a password
    or a token without an expiry; else at the program's ``refresh_at``, core's refresh time
    (``TokenSet::refresh_due_at``), which every answer with an ``expires_at`` carries. The
    margin before expiry is core's alone: the plugin never computes one. An answer without
    it (none of this version) is used until its expiry."""
    expires_at = credential.get("expires_at")
    if not isinstance(expires_at, (int, float)):
        return math.inf
    due = credential.get("refresh_at")
    if not isinstance(due, (int, float)):
        due = expires_at
    # A token handed out already due (clocks disagree): not again for a moment, so a
    # request loop cannot start a process per request.
    return max(due, now + RETRY_AFTER_S / 2)


def _header_for(credential: dict, server: str | None = None, now: float | None = None) -> _Header:
    header = _auth_header_for(credential, server, now)
    workspace = credential.get("workspace")
    header.workspace = workspace if isinstance(workspace, str) and workspace else None
    return header


def _auth_header_for(credential: dict, server: str | None, now: float | None) -> _Header:
    scheme = credential.get("scheme")
    secret = credential.get("secret")
    if not isinstance(secret, str):
        raise ProgramError("the mlflow-login program returned a credential without a secret")
    if scheme == "bearer":
        now = _now() if now is None else now
        expires_at = credential.get("expires_at")
        fingerprint = credential.get("fingerprint")
        if not isinstance(fingerprint, str):
            fingerprint = None
        return _Header("Bearer " + secret, server, refresh_time(credential, now), expires_at, fingerprint)
    if scheme == "basic":
        token = base64.b64encode(f"{credential.get('username') or ''}:{secret}".encode()).decode("ascii")
        return _Header("Basic " + token, server)
    raise ProgramError(f"the mlflow-login program returned an unknown auth scheme {scheme!r}")


class _Snapshot:
    """What one run of the program said, valid while the watched files are unchanged."""

    __slots__ = ("key", "config_dir", "watched", "active", "servers", "headers", "by_url")

    # Request URLs seen (without query) -> header or error, so a warm request costs a dict
    # lookup instead of a normalisation and a prefix scan. MLflow's endpoints are few;
    # the bound only guards against a client that puts ids in paths.
    MAX_URLS = 1024

    def __init__(self, key, config_dir: Path, active, servers):
        self.key = key
        self.config_dir = config_dir
        self.watched = _watched(config_dir)
        self.active = active
        # (normalised url, name): the first prefix that matches wins. The order is the
        # program's choice (crates/cli/src/cmd/credential.rs): longest URL first; on the
        # same URL (two accounts on one server) the active server, then by name.
        self.servers = sorted(servers, key=lambda s: (-len(s[0]), s[1] != active, s[1]))
        # name -> the header, or the error to raise for it (no password stored).
        self.headers: dict[str, _Header | MlflowLoginError] = {}
        self.by_url: dict[str, _Header | MlflowLoginError] = {}

    def current(self) -> bool:
        return self.key is not None and self.key == _watch_key(self.watched)

    def lookup(self, base: str):
        """The header (or error) for a URL without query; ``None`` when the server's
        credential was not fetched yet."""
        found = self.by_url.get(base)
        if found is not None:
            return found
        normalized = normalize(base)
        for prefix, name in self.servers:
            if normalized.startswith(prefix) and (len(normalized) == len(prefix) or normalized[len(prefix)] == "/"):
                found = self.headers.get(name)
                break
        else:
            found = UnknownServerError(base, self.servers)
        if found is not None and len(self.by_url) < self.MAX_URLS:
            self.by_url[base] = found
        return found

    def __repr__(self) -> str:
        return f"<snapshot of {len(self.servers)} server(s), {len(self.headers)} credential(s) cached>"


class _FailedSnapshot(_Snapshot):
    """A failed run of the program: every URL gets its error, from memory, until
    RETRY_AFTER_S has passed or the watched files change (a new login, say); then the next
    request runs the program again."""

    __slots__ = ("error", "until")

    def __init__(self, error: MlflowLoginError, config_dir: Path, key=None):
        super().__init__(key, config_dir, None, [])
        self.error = error
        self.until = time.monotonic() + RETRY_AFTER_S

    def current(self) -> bool:
        return time.monotonic() < self.until and (self.key is None or self.key == _watch_key(self.watched))

    def lookup(self, base: str):
        return self.error

    def __repr__(self) -> str:
        return f"<failed snapshot: {self.error}>"


class Resolver:
    """Maps request URLs to ``Authorization`` headers. Thread-safe; one per process."""

    def __init__(self, config_dir: Path | None = None):
        self._config_dir = config_dir
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()
        self.program_runs = 0  # how often the program was started (tests, benchmark)
        self._refusal_renewed_at: dict[str, float] = {}  # server -> when a refusal last renewed it
        if hasattr(os, "register_at_fork"):
            # A child forked while another thread held the lock would wait forever.
            ref = weakref.ref(self)
            os.register_at_fork(after_in_child=lambda: (r := ref()) is not None and r._after_fork())

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<mlflow_login.Resolver {self._snapshot!r}>"

    # -- the per-request path: two stats and a dict lookup -------------------------------

    def header_for(self, url: str) -> str:
        """The ``Authorization`` value for ``url``; raises :class:`MlflowLoginError`."""
        return self.credential_for(url).value

    def credential_for(self, url: str) -> _Header:
        """The header for ``url`` (its ``value`` is the ``Authorization`` value, its
        ``fingerprint`` set when a refusal can be answered by a refresh); raises
        :class:`MlflowLoginError`."""
        base = _request_base(url)
        snap = self._snapshot
        if snap is None or not snap.current():
            snap = self._refresh(snap, base)
        found = snap.lookup(base)
        if found is None:
            # A server this snapshot lists but has no credential for yet (the first
            # request to a second server): one more run of the program.
            found = self._fetch(snap, base).lookup(base)
            if found is None:
                raise ProgramError(f"the mlflow-login program returned no credential for {tracking_url_guess(base)}")
        if isinstance(found, MlflowLoginError):
            # The same error object is raised again on later requests: drop the old
            # traceback so it does not grow (and keeps no old frames alive).
            raise found.with_traceback(None)
        if found.refresh_at <= _now():  # inf for passwords: one float compare
            renewed = self._renew(snap, base, found)
            if renewed is None:
                return self.credential_for(url)  # the config changed meanwhile: start over
            if isinstance(renewed, MlflowLoginError):
                raise renewed.with_traceback(None)
            found = renewed
        return found

    def renew_refused(self, url: str, refused: str) -> str | None:
        """The server answered 401 to a request for ``url`` sent with the ``Authorization``
        value ``refused``: the value to send instead, or ``None`` when there is none (a
        password or a fixed token: nothing to refresh; or the same token again).

        Single sign-on: one run of ``mlflow-login credential --refused FP`` for every thread
        that saw this value refused (the first runs it, the others take its answer); the
        program refreshes unless another process already replaced the token. Raises
        :class:`MlflowLoginError` when that run fails (:class:`LoginRequiredError`: the
        provider ended the session)."""
        base = _request_base(url)
        for _ in range(2):
            found = self.credential_for(url)
            if found.value != refused:
                return found.value  # renewed meanwhile (another thread, a new login)
            if found.fingerprint is None:
                return None
            now = _now()
            last = self._refusal_renewed_at.get(found.server or "")
            if last is not None and now - last < REFUSED_RENEW_EVERY_S:
                return None  # the token a refusal brought was refused too: not again yet
            renewed = self._renew(self._snapshot, base, found, refused=True)
            if isinstance(renewed, MlflowLoginError):
                raise renewed.with_traceback(None)
            if renewed is not None:
                self._refusal_renewed_at[found.server or ""] = now
                return renewed.value if renewed.value != refused else None
            # The config changed meanwhile: look again.
        return None

    # -- the slow path: run the program, under the lock ----------------------------------

    def _refresh(self, stale: _Snapshot | None, base: str) -> _Snapshot:
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap is not stale and snap.current():
                return snap  # another thread refreshed it meanwhile
            config_dir = snap.config_dir if snap is not None else (self._config_dir or default_config_dir())
            self._snapshot = snap = self._load(base, config_dir)
            return snap

    def _fetch(self, snap: _Snapshot, base: str) -> _Snapshot:
        with self._lock:
            if self._snapshot is not snap:
                return self._snapshot or snap
            fresh = self._load(base, snap.config_dir)
            if isinstance(fresh, _FailedSnapshot) or fresh.key != snap.key or fresh.servers != snap.servers:
                self._snapshot = fresh  # the config changed meanwhile, or the run failed
                return fresh
            snap.headers.update(fresh.headers)
            return snap

    def _renew(self, snap: _Snapshot | None, base: str, stale: _Header, refused: bool = False):
        """A single sign-on token near expiry (or, ``refused``, refused by the server): one
        run of the program for every thread that finds it so (the first runs it, the others
        wait and take its answer). Returns the new header, an error to raise, or ``None``
        when the snapshot was replaced meanwhile (the caller starts over)."""
        with self._lock:
            if snap is None or self._snapshot is not snap or not snap.current():
                return None
            current = snap.headers.get(stale.server)
            now = _now()
            if current is not stale or (not refused and stale.refresh_at > now):
                return current  # another thread renewed it while this one waited
            fresh = self._load(base, snap.config_dir, server=stale.server, refused=stale.fingerprint if refused else None)
            if isinstance(fresh, _FailedSnapshot):
                error = fresh.error
                if (
                    not refused  # a refused token is worth nothing, however long it lasts
                    and not isinstance(error, LoginRequiredError)
                    and isinstance(stale.expires_at, (int, float))
                    and now + 1 < stale.expires_at
                ):
                    # The provider or the keychain did not answer, but the token still
                    # works: keep sending it, and ask again shortly.
                    stale.refresh_at = now + RETRY_AFTER_S
                    return stale
                self._snapshot = fresh
                return error
            if fresh.key != snap.key or fresh.servers != snap.servers:
                self._snapshot = fresh
                return None
            snap.headers.update(fresh.headers)
            # by_url holds header objects: the URLs of this server must find the new one.
            snap.by_url.clear()
            return snap.headers.get(stale.server)

    def _load(self, base: str, config_dir: Path, server: str | None = None, refused: str | None = None) -> _Snapshot:
        key = _watch_key(_watched(config_dir))  # before the run: a change during it shows next time
        # Before the run too: a token refreshed during it was obtained no earlier, so the
        # lifetime left from here is not less than core's (see refresh_time).
        started = _now()
        try:
            args = ["credential", "--url", base]
            if refused is not None:
                args += ["--refused", refused]
            doc = self._run(args, server=server)
            reported_dir = Path(doc.get("config_dir") or config_dir)
            if reported_dir != config_dir:
                key = None  # we watched the wrong folder: ask again next time, then watch this one
            try:
                servers = [(normalize(s["url"]), s["name"]) for s in doc["servers"]]
            except (KeyError, TypeError):
                raise ProgramError("the mlflow-login program printed servers this plugin does not understand") from None
            snap = _Snapshot(key, reported_dir, doc.get("active"), servers)
            picked = doc.get("server")
            if picked:
                credential = doc.get("credential")
                snap.headers[picked] = (
                    self._no_credential(picked) if credential is None else _header_for(credential, picked, started)
                )
            return snap
        except MlflowLoginError as e:
            return _FailedSnapshot(e, config_dir, key)

    @staticmethod
    def _no_credential(name: str) -> NoCredentialError:
        return NoCredentialError(
            f'no password is stored for the MLflow Login server "{name}": run `mlflow-login login {name}`'
        )

    def _run(self, args: list[str], server: str | None = None) -> dict:
        self.program_runs += 1
        return _program.run(args, server=server)

    # -- for activate() and doctor --------------------------------------------------------

    def describe(self) -> dict:
        """The servers and the active one, without reading any secret."""
        doc = self._run(["credential", "--no-secret"])
        return {
            "config_dir": doc.get("config_dir"),
            "active": doc.get("active"),
            "servers": {s["name"]: s["url"] for s in doc.get("servers", [])},
        }

    def invalidate(self) -> None:
        """Forgets everything cached (the next request runs the program again)."""
        with self._lock:
            self._snapshot = None
