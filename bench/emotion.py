#!/usr/bin/env python3
"""Emotion benchmark: kinoflow `emotion` against PyPI `fer` 25.10.3 (its
OpenCV Haar face detector, MTCNN off, and its Keras FER-2013 classifier), on
the same videos of real faces, in one run:

- one person: `fixtures/astronaut.png` (a smiling woman) under a slow zoom
  and pan, 640x480, 300 frames;
- two people: the astronaut and the footballer of `fixtures/messi5.jpg`
  (head and shoulders) side by side, drifting, 640x360.

For each: frames per second (every frame analysed by both: kinoflow with
`sample_fps=0`, `overlay=false`, its whole job timed from start to end,
model loading included; fer's loop over the frames with OpenCV decoding,
after its model has loaded), faces found per frame, the share of frames with
exactly the right number of faces, and how often kinoflow's label (raw, not
smoothed) is fer's classifier's top label on the faces both find (boxes
overlapping by more than 0.3).

Run through bench/emotion (it installs what is missing and builds kinoflow)."""

import csv
import os
import subprocess
import sys
import tempfile
import time

import cv2
from fer.fer import FER

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "bench", ".cache")
PHOTO = os.path.join(ROOT, "fixtures", "astronaut.png")
FRAMES = 300
ONE = os.path.join(CACHE, "astronaut-640x480-300.mp4")
TWO = os.path.join(CACHE, "two-people-640x360-300.mp4")


def ffmpeg(inputs, graph, out):
    if os.path.exists(out):
        return
    os.makedirs(CACHE, exist_ok=True)
    part = out + ".part.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph,
                    "-frames:v", str(FRAMES), "-c:v", "libx264", "-crf", "20", part], check=True)
    os.rename(part, out)


def make_videos():
    last = FRAMES - 1
    still = lambda path: ["-loop", "1", "-framerate", "25", "-i", path]
    ffmpeg(still(PHOTO),
           f"[0]scale=2048:2048,zoompan=z='1+0.3*on/{last}':x='(iw-iw/zoom)*0.5*on/{last}'"
           f":y='(ih-ih/zoom)*0.3':d=1:s=640x480:fps=25,format=yuv420p", ONE)
    ffmpeg([*still(PHOTO), *still(os.path.join(ROOT, "fixtures", "messi5.jpg")),
            "-f", "lavfi", "-i", "color=c=gray:s=640x360:r=25"],
           "[0]scale=300:300[a];[1]crop=200:200:140:13,scale=300:300[b];"
           "[2][a]overlay=x='10+10*sin(t)':y=30[l];[l][b]overlay=x='330-10*sin(t)':y=30,"
           "format=yuv420p", TWO)


def kinoflow(binary, video):
    """Frames per second and, per frame, the faces: (box, label)."""
    out = tempfile.mkdtemp(prefix="kinoflow-bench-")
    command = [binary, "run", "emotion", video, "--out", out,
               "--param", "overlay=false", "--param", "sample_fps=0"]
    env = dict(os.environ, KINOFLOW_INFERENCE="ort")
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"kinoflow failed:\n{result.stderr.decode(errors='replace')}")
    faces = {}
    with open(os.path.join(out, "emotions.csv")) as f:
        for row in csv.DictReader(f):
            box = tuple(float(row[k]) for k in ("x", "y", "w", "h"))
            faces.setdefault(int(row["frame"]), []).append((box, row["label"]))
    return FRAMES / elapsed, faces


def fer(video):
    detector = FER(mtcnn=False)
    capture = cv2.VideoCapture(video)
    ok, bgr = capture.read()
    detector.detect_emotions(bgr)  # loads and warms the model before the clock starts
    capture = cv2.VideoCapture(video)
    faces, frame = {}, 0
    started = time.perf_counter()
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        found = detector.detect_emotions(bgr)
        faces[frame] = [(tuple(float(v) for v in face["box"]),
                         max(face["emotions"], key=face["emotions"].get)) for face in found]
        frame += 1
    return frame / (time.perf_counter() - started), faces


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def agreement(ours, theirs):
    """Faces both found (matched by overlap) and how many share a label."""
    both = same = 0
    for frame, their_faces in theirs.items():
        for box, label in their_faces:
            match = max(ours.get(frame, []), key=lambda f: iou(f[0], box), default=None)
            if match is not None and iou(match[0], box) > 0.3:
                both += 1
                same += match[1] == label
    return both, same


def faces_per_frame(faces):
    return sum(len(f) for f in faces.values()) / FRAMES


def right_count(faces, people):
    return sum(1 for frame in range(FRAMES) if len(faces.get(frame, [])) == people) / FRAMES


def main():
    binary = sys.argv[1]
    make_videos()
    print(f"\n{FRAMES} frames each, {os.cpu_count()} cores\n")
    print("| video | tool | frames/s | vs fer | faces per frame | frames with the right count |")
    print("|---|---|---|---|---|---|")
    labels = []
    for name, video, people in (("one person", ONE, 1), ("two people", TWO, 2)):
        fer_fps, fer_faces = fer(video)
        k_fps, k_faces = kinoflow(binary, video)
        print(f"| {name} | fer 25.10.3 | {fer_fps:.1f} | 1.00 x | "
              f"{faces_per_frame(fer_faces):.2f} | {100 * right_count(fer_faces, people):.1f} % |")
        print(f"| {name} | kinoflow emotion | {k_fps:.1f} | {k_fps / fer_fps:.2f} x | "
              f"{faces_per_frame(k_faces):.2f} | {100 * right_count(k_faces, people):.1f} % |")
        labels.append((name, *agreement(k_faces, fer_faces)))
    print("\n| video | faces both found | same top label as fer |")
    print("|---|---|---|")
    for name, both, same in labels:
        share = 100 * same / both if both else 0.0
        print(f"| {name} | {both} | {same} ({share:.1f} %) |")


if __name__ == "__main__":
    main()
