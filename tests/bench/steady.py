"""Steady traffic through each candidate, as a user makes it (a page of the MLflow UI, a
training loop's log calls): one request per candidate every TICK seconds for SECONDS, over
one keep-alive connection each (opened by an untimed first request), the candidates in
turn. The order rotates each tick, so each candidate is as often the first after the
pause (a cold wake-up) as the others, and a load that comes and goes hits them alike.
Unlike wrk's back-to-back requests, this pace lets whatever a proxy does every few seconds
(a keychain read) fall on a request. A connection that breaks is an error, and reopened.

    python3 steady.py SECONDS TICK PATH NAME=URL...

Prints, per candidate: requests, p50, p90, p99, the slowest, and how many took over 1 ms
more than that candidate's own p50.
"""

import http.client
import math
import sys
import time
import urllib.parse


def main() -> None:
    seconds, tick, path = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    names, conns, paths = [], [], []
    for pair in sys.argv[4:]:
        name, url = pair.split("=", 1)
        parts = urllib.parse.urlsplit(url)
        names.append(name)
        conns.append(http.client.HTTPConnection(parts.hostname, parts.port, timeout=30))
        paths.append(parts.path.rstrip("/") + path)
    took = [[] for _ in names]
    errors = [0 for _ in names]

    def ask(i: int) -> bool:
        try:
            conns[i].request("GET", paths[i])
            answer = conns[i].getresponse()
            answer.read()
            return answer.status == 200
        except (OSError, http.client.HTTPException):
            conns[i].close()
            return False

    for i in range(len(names)):
        ask(i)
    order = list(range(len(names)))
    start = time.monotonic()
    ticks = 0
    while time.monotonic() < start + seconds:
        for i in order:
            began = time.perf_counter_ns()
            ok = ask(i)
            took[i].append((time.perf_counter_ns() - began) / 1000)
            errors[i] += not ok
        order = order[1:] + order[:1]
        ticks += 1
        time.sleep(max(0.0, start + ticks * tick - time.monotonic()))
    print(f"{'':8} {'requests':>8} {'p50 us':>8} {'p90 us':>8} {'p99 us':>8} {'max us':>8} {'> p50+1ms':>10} errors")
    for name, xs, err in zip(names, took, errors):
        xs.sort()
        at = lambda q: xs[max(0, math.ceil(q * len(xs)) - 1)]  # noqa: E731
        slow = sum(x > at(0.5) + 1000 for x in xs)
        print(f"{name:8} {len(xs):8} {at(0.5):8.0f} {at(0.9):8.0f} {at(0.99):8.0f} {xs[-1]:8.0f} {slow:10} {err}")


if __name__ == "__main__":
    main()
