"""The errors the plugin raises. Each message says why and what to do, and never holds a
secret."""

from __future__ import annotations


class MlflowLoginError(Exception):
    """MLflow Login could not give this request credentials. The message says why and
    what to do; it never holds a secret."""


class UnknownServerError(MlflowLoginError):
    """No configured server's URL is a prefix of the request URL."""

    def __init__(self, url: str, servers: list[tuple[str, str]]):
        from ._urls import tracking_url_guess  # _urls raises these errors: imported here, not at the top

        self.url = url
        self.tracking_url = tracking_url_guess(url)
        known = ", ".join(f"{name} ({prefix})" for prefix, name in servers) or "none"
        super().__init__(
            f"no MLflow Login server is configured for {url} (configured: {known}); "
            f"add it with: mlflow-login login NAME --url {self.tracking_url} --username USER"
        )


class NoCredentialError(MlflowLoginError):
    """The server is configured but no password (or token) is stored for it."""


class ProgramError(MlflowLoginError):
    """The ``mlflow-login`` program is missing or failed (keychain locked, config damaged)."""


class LoginRequiredError(ProgramError):
    """Single sign-on: the identity provider refused to refresh the token (the session
    ended, was revoked, or the user was disabled). Log in again with ``mlflow-login login NAME``."""
