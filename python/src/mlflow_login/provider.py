"""The provider MLflow finds on the ``mlflow.request_auth_provider`` entry point.

MLflow calls ``get_auth()`` once per request (``mlflow.utils.rest_utils.http_request``
-> ``fetch_auth``), so it returns the one process-wide auth object and its cache.
"""

from mlflow.tracking.request_auth.abstract_request_auth_provider import RequestAuthProvider

from . import PLUGIN_NAME, auth


class MlflowLoginAuthProvider(RequestAuthProvider):
    """Selected with ``MLFLOW_TRACKING_AUTH=mlflow-login``."""

    def get_name(self) -> str:
        return PLUGIN_NAME

    def get_auth(self):
        return auth()
