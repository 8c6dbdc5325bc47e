"""The process tree below a pid, for the tray tests, the tray benchmark and the e2e test."""

import subprocess


def descendants(pid):
    """(pid, comm) of every process below `pid` (comm is cut to 15 characters by Linux)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid=,comm="], capture_output=True, text=True).stdout
    children = {}
    for line in out.splitlines():
        p, pp, comm = line.split(None, 2)
        children.setdefault(int(pp), []).append((int(p), comm))
    found, todo = [], [pid]
    while todo:
        for p, comm in children.get(todo.pop(), []):
            todo.append(p)
            found.append((p, comm))
    return found


def app_processes(pid):
    """The mlflow-login-tray processes below `pid` (comm is cut to "mlflow-login-tr")."""
    return [p for p, comm in descendants(pid) if comm == "mlflow-login-tr"]
