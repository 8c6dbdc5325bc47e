"""MLflow Login's auth plugin for MLflow.

Every HTTP request MLflow sends gets the credentials of the MLflow Login server whose URL
is the longest prefix of the request's URL, read from the OS keychain by the
``mlflow-login`` program, with no password in any environment variable or file::

    export MLFLOW_TRACKING_AUTH=mlflow-login      # or, in Python:
    import mlflow_login; mlflow_login.activate()

A switch in the tray or ``mlflow-login use``, or a new password, applies to the next
request of a running process (a Jupyter kernel, say) without a restart. A request to a URL
no server is configured for fails with an error saying how to add it; it is never sent
unauthenticated.

Single sign-on: a request the server refuses (401) with a token that should still be valid
is sent once more with a new one (refreshed once for all threads and processes), when its
body can be sent again; otherwise the 401 is returned and the next request has the new token.

Importing this package imports neither MLflow nor ``requests``.
"""

from __future__ import annotations

import os
import sys

from . import _resolver
from ._resolver import (
    PLUGIN_NAME,
    LoginRequiredError,
    MlflowLoginError,
    NoCredentialError,
    ProgramError,
    Resolver,
    UnknownServerError,
)

__all__ = [
    "PLUGIN_NAME",
    "LoginRequiredError",
    "MlflowLoginAuth",
    "MlflowLoginError",
    "NoCredentialError",
    "ProgramError",
    "UnknownServerError",
    "activate",
    "auth",
    "plugin_status",
]

try:
    from importlib.metadata import PackageNotFoundError, version as _version

    __version__ = _version("mlflow-login-auth")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"


WORKSPACE_HEADER = "X-MLFLOW-WORKSPACE"


def _send_workspace(request, workspace: str | None) -> None:
    """Each request goes to its server's own workspace, so one process can use two servers
    in two workspaces. MLflow has already set the header from ``MLFLOW_WORKSPACE`` (which
    the shell hook exports for the active server only); a value that differs from it was
    chosen in code (``mlflow.set_workspace``) and is kept."""
    sent = request.headers.get(WORKSPACE_HEADER)
    if sent is not None and sent != os.environ.get("MLFLOW_WORKSPACE"):
        return
    if workspace:
        request.headers[WORKSPACE_HEADER] = workspace
    elif sent is not None:
        del request.headers[WORKSPACE_HEADER]


class MlflowLoginAuth:
    """A ``requests`` auth object (``requests.auth.AuthBase`` protocol): sets the
    ``Authorization`` header of each request from MLflow Login. It replaces any header
    already there, so ``MLFLOW_TRACKING_USERNAME``/``PASSWORD`` and ``~/.netrc`` never win.

    For a single sign-on token it also registers a response hook: a 401 gets one retry
    with a renewed token (as ``requests.auth.HTTPDigestAuth`` answers its challenge)."""

    def __init__(self, resolver: Resolver | None = None):
        self._resolver = resolver or Resolver()

    def __call__(self, request):
        url = request.url
        if url[:7].lower() == "http://":
            _refuse_proxied_loopback(url)
        header = self._resolver.credential_for(url)
        request.headers["Authorization"] = header.value
        _send_workspace(request, header.workspace)
        if header.fingerprint is not None:
            request.register_hook("response", self._retry_refused)
        return request

    def _retry_refused(self, r, **kwargs):
        """The response hook of a single sign-on request: on a 401, the token is renewed
        (``Resolver.renew_refused``: one refresh for all threads and processes that saw it
        refused) and the request is sent once more with it, through the same connection
        adapter and ``send`` arguments, the 401 kept in ``history``. A body that cannot be
        read twice (a file, a generator) is not sent again: the 401 is returned, and the
        next request has the new token. The retry is sent without this hook: never a loop."""
        if r.status_code != 401:
            return r
        request = r.request
        refused = request.headers.get("Authorization")
        if refused is None:
            return r
        try:
            renewed = self._resolver.renew_refused(request.url, refused)
        except UnknownServerError:
            # A redirect to a URL of no server (requests keeps the hook on redirects, and may
            # have put ~/.netrc's credentials on it): not ours to answer.
            return r
        if renewed is None or not isinstance(request.body, (type(None), bytes, str)):
            return r
        from requests.cookies import extract_cookies_to_jar

        # Read the refusal and release its connection, so the retry can reuse it.
        _ = r.content
        r.close()
        retry = request.copy()
        extract_cookies_to_jar(retry._cookies, request, r.raw)
        retry.prepare_cookies(retry._cookies)
        retry.headers["Authorization"] = renewed
        hooks = retry.hooks.get("response", [])
        retry.hooks = {**retry.hooks, "response": [h for h in hooks if h != self._retry_refused]}
        again = r.connection.send(retry, **kwargs)
        again.history.append(r)
        again.request = retry
        return again

    @property
    def resolver(self) -> Resolver:
        return self._resolver

    def __repr__(self) -> str:
        return "MlflowLoginAuth()"

    def __eq__(self, other):
        return self is other

    __hash__ = object.__hash__

    def __reduce__(self):
        # A pickled auth object (multiprocessing) starts with an empty cache.
        return (MlflowLoginAuth, ())


# The variables that decide whether requests proxies a plain-http request.
_PROXY_VARS = ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY")
# (host:port, those variables) -> whether the request would go through a proxy to this
# machine. Per request this costs the variable reads and a dict lookup, not requests' own
# proxy resolution (~0.3 ms).
_proxied_loopback: dict = {}


def _refuse_proxied_loopback(url: str) -> None:
    """Raises when ``requests`` would send this plain-http request for a server on this
    machine through a proxy (``HTTP_PROXY``/``ALL_PROXY`` without a ``NO_PROXY`` entry for
    it): the proxy would read the password in clear, and could not reach this machine's
    loopback anyway. The CLI's verifier never uses a proxy for loopback; here the
    proxy is requests' choice, made after this hook, so the request is refused instead."""
    env = tuple(os.environ.get(v) for v in _PROXY_VARS)
    if not any(env[:4]):
        return
    netloc = url[7:].partition("/")[0].partition("?")[0].partition("#")[0]
    key = (netloc, env)
    proxied = _proxied_loopback.get(key)
    if proxied is None:
        proxied = _would_proxy_loopback(url)
        if len(_proxied_loopback) > 256:
            _proxied_loopback.clear()
        _proxied_loopback[key] = proxied
    if proxied:
        raise MlflowLoginError(
            f"{_resolver.without_userinfo(url.split('?', 1)[0])} is on this machine, but HTTP_PROXY / ALL_PROXY "
            "would send its password through a proxy in clear: add it to NO_PROXY "
            "(e.g. NO_PROXY=localhost,127.0.0.1,::1)"
        )


def _would_proxy_loopback(url: str) -> bool:
    from urllib.parse import urlsplit

    from requests.utils import get_environ_proxies

    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if not _is_loopback(host):
        return False
    proxies = get_environ_proxies(url)
    return bool(proxies.get("http") or proxies.get("all"))


def _is_loopback(host: str) -> bool:
    import ipaddress

    host = host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_default: MlflowLoginAuth | None = None


def auth() -> MlflowLoginAuth:
    """The process's auth object. MLflow asks for it on every request, so it is one
    object, holding the cache."""
    global _default
    if _default is None:
        _default = MlflowLoginAuth()
    return _default


def activate(*, set_tracking_uri: bool = True) -> str | None:
    """Makes MLflow use MLflow Login in this process (and in the processes it starts):
    sets ``MLFLOW_TRACKING_AUTH=mlflow-login`` and, when no tracking URI is set yet (neither
    ``MLFLOW_TRACKING_URI`` nor ``mlflow.set_tracking_uri``), sets ``MLFLOW_TRACKING_URI``
    to the active server's URL. Returns the tracking URI MLflow will use (``None`` when
    it was already set and is left as it is).

    Raises :class:`MlflowLoginError` when a tracking URI is needed and no server is active.
    """
    os.environ["MLFLOW_TRACKING_AUTH"] = PLUGIN_NAME
    if not set_tracking_uri or _tracking_uri_is_set():
        return None
    info = auth().resolver.describe()
    active = info.get("active")
    if not active:
        raise MlflowLoginError(
            "no MLflow Login server is active: run `mlflow-login use NAME` "
            "(or `mlflow-login login NAME --url URL --username USER`), or set the tracking URI"
        )
    url = info["servers"][active]
    os.environ["MLFLOW_TRACKING_URI"] = url
    return url


def _tracking_uri_is_set() -> bool:
    if os.environ.get("MLFLOW_TRACKING_URI"):
        return True
    utils = sys.modules.get("mlflow.tracking._tracking_service.utils")
    return bool(utils is not None and getattr(utils, "_tracking_uri", None))


def plugin_status() -> dict:
    """What ``mlflow-login doctor`` reports about this Python: whether the plugin is
    registered with MLflow, whether MLflow and the program are there. No secret is read."""
    from importlib import metadata

    from ._resolver import find_program

    eps = [e for e in metadata.entry_points(group="mlflow.request_auth_provider") if e.name == PLUGIN_NAME]
    try:
        mlflow_version = metadata.version("mlflow")
    except metadata.PackageNotFoundError:
        try:
            mlflow_version = metadata.version("mlflow-skinny")
        except metadata.PackageNotFoundError:
            mlflow_version = None
    try:
        program = find_program()
    except ProgramError as e:
        program, program_error = None, str(e)
    else:
        program_error = None
    return {
        "python": sys.executable,
        "plugin_version": __version__,
        "entry_point": eps[0].value if eps else None,
        "mlflow_version": mlflow_version,
        "program": program,
        "program_error": program_error,
        "tracking_auth": os.environ.get("MLFLOW_TRACKING_AUTH"),
        "ok": bool(eps) and mlflow_version is not None and program is not None,
    }
