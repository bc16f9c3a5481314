#!/usr/bin/env python3
"""Pose benchmark: frames per second of kinoflow `biomech` against the Python
MediaPipe it replaces (mediapipe==0.10.14, `solutions.pose`,
model_complexity=1, tracking on), on the same 10-second 720p video of a real
person (messi5.jpg in a slow zoom and pan), all measured in one run, with
kinoflow's models run by ONNX Runtime and by tract; then each model's
milliseconds per call on both runtimes.

kinoflow's time is the whole job (decode, tracking, skeleton, angles, charts,
data files; `overlay=false`, as MediaPipe draws nothing); MediaPipe's is its
loop over the frames, decoding included, after the model has loaded.

Run through bench/biomech (it installs what is missing and builds kinoflow)."""

import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "bench", ".cache")
VIDEO = os.path.join(CACHE, "person-720p30-10s.mp4")
FRAMES = 300


def make_video():
    if os.path.exists(VIDEO):
        return
    os.makedirs(CACHE, exist_ok=True)
    print("making the 10-second 720p test video (once; cached in bench/.cache)...", flush=True)
    part = VIDEO + ".part.mp4"
    pad = "pad=trunc(iw*1.25/2)*2:trunc(ih*1.25/2)*2:(ow-iw)/2:(oh-ih)/2"
    zoom = (f"zoompan=z='1+0.2*on/{FRAMES - 1}':x='(iw-iw/zoom)*on/{FRAMES - 1}'"
            f":y='(ih-ih/zoom)*0.6':d=1:s=1280x720:fps=30")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-loop", "1", "-framerate", "30",
         "-i", os.path.join(ROOT, "fixtures", "messi5.jpg"),
         "-vf", f"{pad},scale=3840:2160,{zoom},format=yuv420p",
         "-frames:v", str(FRAMES), "-c:v", "libx264", "-crf", "20", part],
        check=True)
    os.rename(part, VIDEO)


def mediapipe_fps():
    import cv2
    import mediapipe as mp

    with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1) as pose:
        # The graph is loaded and warmed before the clock starts; kinoflow's
        # time includes loading its models, which favours MediaPipe.
        capture = cv2.VideoCapture(VIDEO)
        ok, bgr = capture.read()
        pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        capture = cv2.VideoCapture(VIDEO)
        frames, found = 0, 0
        started = time.perf_counter()
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            frames += 1
            found += pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).pose_landmarks is not None
        elapsed = time.perf_counter() - started
    return frames / elapsed, found, frames


def kinoflow_fps(kinoflow, model, runtime):
    out = tempfile.mkdtemp(prefix="kinoflow-bench-")
    command = [kinoflow, "run", "biomech", VIDEO, "--out", out,
               "--param", "overlay=false", "--param", f"model={model}"]
    env = dict(os.environ, KINOFLOW_INFERENCE=runtime)
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"kinoflow failed:\n{result.stderr.decode(errors='replace')}")
    return FRAMES / elapsed


def model_times(model_times_bin, runtime):
    """Median milliseconds per call of each model on `runtime`."""
    result = subprocess.run([model_times_bin, os.path.join(ROOT, "models"), runtime],
                            check=True, capture_output=True, text=True)
    return dict((name, float(ms)) for name, ms in
                (line.split("\t") for line in result.stdout.splitlines()))


def main():
    kinoflow, model_times_bin = sys.argv[1], sys.argv[2]
    make_video()
    mp_fps, found, frames = mediapipe_fps()
    runs = {(runtime, model): kinoflow_fps(kinoflow, model, runtime)
            for runtime in ("ort", "tract") for model in ("full", "lite")}
    print(f"\n{frames} frames of 1280x720 video of a person, {os.cpu_count()} cores "
          f"(MediaPipe found the person in {found})\n")
    print("| tool | frames/s | vs MediaPipe |")
    print("|---|---|---|")
    print(f"| MediaPipe 0.10.14 Python, model_complexity=1, tracking | {mp_fps:.1f} | 1.00 x |")
    names = {"ort": "ONNX Runtime", "tract": "tract"}
    for (runtime, model), fps in runs.items():
        print(f"| kinoflow biomech, {names[runtime]}, model={model} | {fps:.1f} | {fps / mp_fps:.2f} x |")
    times = {runtime: model_times(model_times_bin, runtime) for runtime in ("ort", "tract")}
    print("\n| model | ONNX Runtime ms | tract ms | tract / ONNX Runtime |")
    print("|---|---|---|---|")
    for name, ort_ms in times["ort"].items():
        tract_ms = times["tract"][name]
        print(f"| {name} | {ort_ms:.1f} | {tract_ms:.1f} | {tract_ms / ort_ms:.2f} x |")


if __name__ == "__main__":
    main()
