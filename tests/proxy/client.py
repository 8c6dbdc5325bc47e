"""MLflow's own Python client through an MLflow Login proxy, with MLFLOW_TRACKING_URI only.

    python client.py run FILE           log a run with FILE as an artifact, read it back,
                                        print {"run_id", "sha256_sent", "sha256_read"}
    python client.py loop SECONDS N     N threads log a metric each until SECONDS passed;
                                        print {"ok": n, "errors": [...]}

No credential variable and no auth plugin may be set: the proxy adds the credential.
"""

import hashlib
import json
import os
import sys
import tempfile
import threading
import time

for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_AUTH"):
    if os.environ.get(var):
        sys.exit(f"{var} is set: this client must have MLFLOW_TRACKING_URI only")

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def run(path):
    mlflow.set_experiment(f"proxy-{os.getpid()}-{time.time_ns()}")
    with mlflow.start_run() as r:
        mlflow.log_param("through", "proxy")
        mlflow.log_metric("m", 1.0)
        mlflow.log_artifact(path)
    with tempfile.TemporaryDirectory() as d:
        local = mlflow.artifacts.download_artifacts(run_id=r.info.run_id, artifact_path=os.path.basename(path), dst_path=d)
        read = sha256(local)
    got = MlflowClient().get_run(r.info.run_id)
    assert got.data.params == {"through": "proxy"}, got.data.params
    print(json.dumps({"run_id": r.info.run_id, "sha256_sent": sha256(path), "sha256_read": read}))


def loop(seconds, threads):
    client = MlflowClient()
    exp = client.create_experiment(f"proxy-loop-{os.getpid()}-{time.time_ns()}")
    run_id = client.create_run(exp).info.run_id
    ok, errors, lock = [0], [], threading.Lock()
    end = time.monotonic() + seconds

    def work(i):
        step = 0
        while time.monotonic() < end:
            try:
                client.log_metric(run_id, f"t{i}", float(step), step=step)
                with lock:
                    ok[0] += 1
            except Exception as e:  # noqa: BLE001 - every failure is reported
                with lock:
                    errors.append(str(e)[:300])
            step += 1
            time.sleep(0.25)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps({"ok": ok[0], "errors": errors}))


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2])
    else:
        loop(float(sys.argv[2]), int(sys.argv[3]))
