"""URL helpers: the request URL's normalisation and server guess, and removing user info.

``normalize`` repeats core's rule (``crates/core/src/credential.rs`` ``request_url``) because
the plugin answers later requests from its cache without the program; the cases in
``python/tests/contract.generated.json``, generated from core, keep the two equal.
"""

from __future__ import annotations

from ._errors import MlflowLoginError

_API_MARKERS = ("/api/2.0/", "/api/3.0/", "/ajax-api/", "/get-artifact", "/model-versions/")


def tracking_url_guess(url: str) -> str:
    """The tracking URL a request URL most likely belongs to: the part before MLflow's API
    path (``https://h/mlflow/api/2.0/mlflow/runs/get?x`` -> ``https://h/mlflow``)."""
    base = url.split("?", 1)[0].split("#", 1)[0]
    for marker in _API_MARKERS:
        i = base.find(marker)
        if i > 0:
            return base[:i]
    return base.rstrip("/") or base


def normalize(url: str) -> str:
    """Normalises a URL like the Rust side's ``normalize_url``: lower-case scheme and host,
    no default port, no user info, no query or fragment, no trailing slash."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise MlflowLoginError(f"not an absolute URL: {without_userinfo(url.split('?', 1)[0])!r}")
    scheme = scheme.lower()
    for stop in "?#":
        rest = rest.split(stop, 1)[0]
    slash = rest.find("/")
    netloc, path = (rest, "") if slash < 0 else (rest[:slash], rest[slash:])
    netloc = netloc.rpartition("@")[2].lower()
    default = {"http": ":80", "https": ":443"}.get(scheme)
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return f"{scheme}://{netloc}{path.rstrip('/')}"


def without_userinfo(url: str) -> str:
    """``url`` without the ``user:password@`` part of its authority, for anything shown or
    passed on (the program's argv, error text): a request URL can carry credentials."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    end = len(rest)
    for stop in "/?#":
        i = rest.find(stop)
        if 0 <= i < end:
            end = i
    at = rest.rfind("@", 0, end)
    if at < 0:
        return url
    return f"{scheme}{sep}{rest[at + 1 :]}"
