#!/usr/bin/env python3
"""Frame extraction benchmark: kinoflow `frames` against decoding alone and
against the frame-by-frame OpenCV approach of the original service, on a
3-minute 1080p30 H.264 video (GOP 250), all measured in one run.

Run through bench/frames (it installs what is missing and builds kinoflow)."""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "bench", ".cache")
VIDEO = os.path.join(CACHE, "bench-1080p30-gop250-180s.mp4")


def make_video():
    if os.path.exists(VIDEO):
        return
    os.makedirs(CACHE, exist_ok=True)
    print("making the 3-minute 1080p30 test video (once; cached in bench/.cache)...", flush=True)
    part = VIDEO + ".part.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30:d=180",
         "-c:v", "libx264", "-preset", "veryfast", "-g", "250", "-keyint_min", "250",
         "-sc_threshold", "0", "-pix_fmt", "yuv420p", part],
        check=True)
    os.rename(part, VIDEO)


def tree_rss_kib(pid):
    """Memory of a process and all its descendants, in KiB: the proportional
    set size, so that shared libraries mapped by several processes (each
    ffmpeg maps the same codec libraries) are counted once, not per process."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
        stack.extend(children.get(p, []))
    return total


def timed(command, repeat=2):
    """Runs a command `repeat` times; returns the best (seconds, peak KiB of its process tree)."""
    runs = [timed_once(command) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def timed_once(command):
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss_kib(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, stderr = process.communicate()
    sampler.join()
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"{command[0]} failed:\n{stderr.decode(errors='replace')}")
    return elapsed, peak[0]


OPENCV_APPROACH = r'''
import sys, zipfile, cv2
path, interval, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
capture = cv2.VideoCapture(path)
step = max(1, round(capture.get(cv2.CAP_PROP_FPS) * interval))
index = 0
with zipfile.ZipFile(out, "w") as archive:
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            ok, jpeg = cv2.imencode(".jpg", frame)
            archive.writestr(f"frame_{index:06d}.jpg", jpeg.tobytes())
        index += 1
'''


def main():
    kinoflow = sys.argv[1]
    make_video()
    work = tempfile.mkdtemp(prefix="kinoflow-bench-")
    script = os.path.join(work, "opencv_frames.py")
    with open(script, "w") as f:
        f.write(OPENCV_APPROACH)

    def frames(*params):
        out = os.path.join(work, "out-" + "-".join(params).replace("=", ""))
        command = [kinoflow, "run", "frames", VIDEO, "--out", out]
        for param in params:
            command += ["--param", param]
        result = timed(command)
        with zipfile.ZipFile(os.path.join(out, "frames.zip")) as archive:
            count = len(archive.namelist())
        return result, count

    decode, _ = timed(["ffmpeg", "-v", "error", "-i", VIDEO, "-f", "null", "-"])
    (exact_1, mem_1), n_1 = frames("interval_s=1")
    (exact_10, mem_10), n_10 = frames("interval_s=10")
    (keys_1, mem_k), n_k = frames("interval_s=1", "mode=keyframes")
    cv_1, _ = timed([sys.executable, script, VIDEO, "1", os.path.join(work, "cv1.zip")])
    cv_10, _ = timed([sys.executable, script, VIDEO, "10", os.path.join(work, "cv10.zip")])
    shutil.rmtree(work, ignore_errors=True)

    rows = [
        ("ffmpeg -i X -f null - (decoding alone)", decode, "", ""),
        (f"kinoflow frames interval_s=1 exact ({n_1} frames)", exact_1, f"{exact_1 / decode:.2f} x decoding", f"{mem_1 / 1024:.0f} MB"),
        (f"kinoflow frames interval_s=10 exact ({n_10} frames)", exact_10, f"{exact_10 / decode:.2f} x decoding", f"{mem_10 / 1024:.0f} MB"),
        (f"kinoflow frames interval_s=1 keyframes ({n_k} frames)", keys_1, f"{exact_1 / keys_1:.1f} x faster than exact", f"{mem_k / 1024:.0f} MB"),
        ("OpenCV frame by frame, every 1 s", cv_1, f"kinoflow {cv_1 / exact_1:.2f} x faster", ""),
        ("OpenCV frame by frame, every 10 s", cv_10, f"kinoflow {cv_10 / exact_10:.2f} x faster", ""),
    ]
    print()
    print("| run | seconds | ratio | peak memory (process tree, PSS) |")
    print("|---|---|---|---|")
    for name, seconds, ratio, memory in rows:
        print(f"| {name} | {seconds:.2f} | {ratio} | {memory} |")
    print()
    print(f"targets: exact 1 s <= 1.15 x decoding: {exact_1 / decode:.2f}; "
          f">= 1.6 x OpenCV at 1 s: {cv_1 / exact_1:.2f}; >= 3 x at 10 s: {cv_10 / exact_10:.2f}; "
          f"keyframes >= 10 x exact: {exact_1 / keys_1:.1f}; memory < 200 MB: {max(mem_1, mem_10, mem_k) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
