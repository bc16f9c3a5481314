#!/usr/bin/env python3
"""Job throughput: no-op jobs enqueued and completed per second, end to end,
with 2 workers — kinoflow on SQLite, kinoflow on PostgreSQL, and Celery 5 with
Redis (broker and result backend) doing the same, all in one run.

Run through bench/throughput (it installs what is missing and builds kinoflow)."""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

JOBS = int(os.environ.get("BENCH_JOBS", "1000"))
CLIENTS = 8


def request(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=60) as response:
        return response.read()


def start_kinoflow(kinoflow, work, database_url=None):
    data = os.path.join(work, "data")
    log = open(os.path.join(work, "server.log"), "w")
    command = [kinoflow, "serve", "--bind", "127.0.0.1:0", "--data-dir", data, "--workers", "2"]
    if database_url:
        command += ["--database-url", database_url]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log,
                               env={**os.environ, "RUST_LOG": "warn,kinoflow_server=info"})
    deadline = time.time() + 30
    while time.time() < deadline:
        text = open(log.name).read()
        match = re.search(r"listening on (http://\S+)", text)
        if match:
            return process, match.group(1)
        time.sleep(0.05)
    process.kill()
    sys.exit("kinoflow did not start:\n" + open(log.name).read())


def succeeded(base):
    metrics = request("GET", f"{base}/metrics").decode()
    match = re.search(r'kinoflow_jobs\{pipeline="sleep",state="succeeded"\} (\d+)', metrics)
    return int(match.group(1)) if match else 0


def kinoflow_rate(kinoflow, database_url=None):
    work = tempfile.mkdtemp(prefix="kinoflow-throughput-")
    process, base = start_kinoflow(kinoflow, work, database_url)
    try:
        credentials = {"email": "bench@example.com", "password": "benchmark password"}
        request("POST", f"{base}/v1/auth/register", credentials)
        token = json.loads(request("POST", f"{base}/v1/auth/token", credentials))["access_token"]
        job = {"pipeline": "sleep", "params": {"seconds": 0}}
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(lambda _: request("POST", f"{base}/v1/jobs", job, token), range(JOBS)))
        while succeeded(base) < JOBS:
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


def celery_rate():
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
        from tasks import noop  # noqa: E402
        noop.delay().get(timeout=60)  # the worker is up
        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(lambda _: noop.delay(), range(JOBS)))
        for result in results:
            result.get(timeout=120)
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
    sqlite = kinoflow_rate(kinoflow)
    postgres = kinoflow_rate(kinoflow, postgres_database())
    celery = celery_rate()
    print()
    print(f"{JOBS} no-op jobs, 2 workers, submitted by {CLIENTS} concurrent clients, end to end:")
    print()
    print("| system | jobs/s | against Celery |")
    print("|---|---|---|")
    print(f"| Celery 5 + Redis | {celery:.0f} | 1.00 x |")
    print(f"| kinoflow, SQLite | {sqlite:.0f} | {sqlite / celery:.2f} x |")
    print(f"| kinoflow, PostgreSQL | {postgres:.0f} | {postgres / celery:.2f} x |")


if __name__ == "__main__":
    main()
