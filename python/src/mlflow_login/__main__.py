"""``python -m mlflow_login [status|activate-check]``: what ``mlflow-login doctor`` runs.

``python -m mlflow_login status`` prints :func:`mlflow_login.plugin_status` as JSON and
exits 0 when the plugin is registered, MLflow is installed and the program is found, else 1.
"""

import json
import sys

from . import plugin_status


def main(argv: list[str]) -> int:
    if argv not in ([], ["status"]):
        print("usage: python -m mlflow_login [status]", file=sys.stderr)
        return 2
    status = plugin_status()
    print(json.dumps(status, indent=2))
    return 0 if status["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
