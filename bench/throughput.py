#!/usr/bin/env python3
"""Job throughput: no-op jobs enqueued and completed per second, end to end,
with 2 workers — kinoflow on SQLite, kinoflow on PostgreSQL, and Celery 5 with
Redis (broker and result backend) doing the same, all in one run. Each system
is measured submitting one job per call and submitting in batches of 100
(kinoflow's `POST /v1/jobs/batch`, Celery's `group`).

Run through bench/throughput (it installs what is missing and builds kinoflow)."""

import concurrent.futures
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

JOBS = int(os.environ.get("BENCH_JOBS", "2000"))
# Each figure is the best of this many runs: the machine is shared and noisy.
RUNS = 3
BATCH = 100
CLIENTS = 8
NOOP = {"pipeline": "sleep", "params": {"seconds": 0}}


class Api:
    """One keep-alive HTTP connection per client thread, as a real client keeps."""

    def __init__(self, base):
        self.host = urlsplit(base).netloc
        self.local = threading.local()
        self.token = None

    def request(self, method, path, body=None):
        if not hasattr(self.local, "connection"):
            self.local.connection = http.client.HTTPConnection(self.host, timeout=60)
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        data = json.dumps(body) if body is not None else None
        self.local.connection.request(method, path, data, headers)
        response = self.local.connection.getresponse()
        payload = response.read()
        if response.status >= 400:
            sys.exit(f"{method} {path} answered {response.status}: {payload[:200]!r}")
        return payload


def start_kinoflow(kinoflow, work, database_url=None):
    data = os.path.join(work, "data")
    log = open(os.path.join(work, "server.log"), "w")
    command = [kinoflow, "serve", "--bind", "127.0.0.1:0", "--data-dir", data, "--workers", "2"]
    if database_url:
        command += ["--database-url", database_url]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log,
                               env={**os.environ, "RUST_LOG": "warn,kinoflow_server=info",
                                    "KINOFLOW_TEST_PIPELINES": "true"})
    deadline = time.time() + 30
    while time.time() < deadline:
        text = open(log.name).read()
        match = re.search(r"listening on (http://\S+)", text)
        if match:
            return process, match.group(1)
        time.sleep(0.05)
    process.kill()
    sys.exit("kinoflow did not start:\n" + open(log.name).read())


def succeeded(api):
    metrics = api.request("GET", "/metrics").decode()
    match = re.search(r'kinoflow_jobs\{pipeline="sleep",state="succeeded"\} (\d+)', metrics)
    return int(match.group(1)) if match else 0


def kinoflow_rate(kinoflow, batch, database_url=None):
    work = tempfile.mkdtemp(prefix="kinoflow-throughput-")
    process, base = start_kinoflow(kinoflow, work, database_url)
    try:
        api = Api(base)
        credentials = {"email": "bench@example.com", "password": "benchmark password"}
        api.request("POST", "/v1/auth/register", credentials)
        api.token = json.loads(api.request("POST", "/v1/auth/token", credentials))["access_token"]
        if batch:
            calls = JOBS // BATCH
            submit = lambda _: api.request("POST", "/v1/jobs/batch", {"jobs": [NOOP] * BATCH})
        else:
            calls = JOBS
            submit = lambda _: api.request("POST", "/v1/jobs", NOOP)
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(submit, range(calls)))
        while succeeded(api) < JOBS:
            time.sleep(0.05)
        return JOBS / (time.perf_counter() - started)
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(work, ignore_errors=True)


CELERY_TASKS = '''
from celery import Celery
app = Celery("tasks", broker="redis://127.0.0.1:6379/14", backend="redis://127.0.0.1:6379/15")
app.conf.worker_prefetch_multiplier = 4

@app.task
def noop():
    return None
'''


def celery_rate(batch):
    work = tempfile.mkdtemp(prefix="celery-throughput-")
    with open(os.path.join(work, "tasks.py"), "w") as f:
        f.write(CELERY_TASKS)
    subprocess.run(["redis-cli", "-n", "14", "flushdb"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["redis-cli", "-n", "15", "flushdb"], check=True, stdout=subprocess.DEVNULL)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "worker", "--concurrency", "2",
         "--loglevel", "warning", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        sys.path.insert(0, work)
        from celery import group  # noqa: E402
        from tasks import noop  # noqa: E402
        noop.delay().get(timeout=60)  # the worker is up
        started = time.perf_counter()
        if batch:
            # Celery's Redis result backend hangs when groups are sent from
            # several threads at once: one thread sends them.
            results = [group(noop.s() for _ in range(BATCH)).apply_async()
                       for _ in range(JOBS // BATCH)]
        else:
            with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
                results = list(pool.map(lambda _: noop.delay(), range(JOBS)))
        for result in results:
            result.get(timeout=300)
        return JOBS / (time.perf_counter() - started)
    finally:
        worker.terminate()
        worker.wait()
        shutil.rmtree(work, ignore_errors=True)


def postgres_database():
    name = "kinoflow_throughput"
    admin = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"]
    subprocess.run(admin + [f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=True)
    subprocess.run(admin + [f"CREATE DATABASE {name}"], check=True)
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def main():
    kinoflow = sys.argv[1]
    rows = []
    for batch in (False, True):
        how = f"batches of {BATCH}" if batch else "one per call"
        celery = max(celery_rate(batch) for _ in range(RUNS))
        sqlite = max(kinoflow_rate(kinoflow, batch) for _ in range(RUNS))
        postgres = max(kinoflow_rate(kinoflow, batch, postgres_database()) for _ in range(RUNS))
        rows += [
            (f"Celery 5 + Redis, {how}", celery, celery),
            (f"kinoflow, SQLite, {how}", sqlite, celery),
            (f"kinoflow, PostgreSQL, {how}", postgres, celery),
        ]
    print()
    print(f"{JOBS} no-op jobs, 2 workers, submitted by {CLIENTS} concurrent clients, end to end,")
    print(f"best of {RUNS} runs:")
    print()
    print("| system, submission | jobs/s | against Celery submitting the same way |")
    print("|---|---|---|")
    for name, rate, celery in rows:
        print(f"| {name} | {rate:.0f} | {rate / celery:.2f} x |")


if __name__ == "__main__":
    main()
