#!/usr/bin/env python3
"""Writes video.json: MediaPipe's own pose landmarks on every frame of
fixtures/messi_zoompan.mp4, the reference the biomech pipeline is held to on
video. Made once with PyPI mediapipe==0.10.14 (`mediapipe.solutions.pose`,
model_complexity=1, tracking on, which uses the same BlazePose models as
models/). smooth_landmarks=False: kinoflow gives the landmark model's raw
output (it filters the joint angles afterwards), so raw is compared with raw.
Run from the repository root:
    python3 crates/vision/tests/reference/make_video_reference.py"""

import json

import cv2
import mediapipe as mp

VIDEO = "messi_zoompan.mp4"

capture = cv2.VideoCapture(f"fixtures/{VIDEO}")
frames = []
width = height = 0
with mp.solutions.pose.Pose(static_image_mode=False, model_complexity=1,
                            smooth_landmarks=False) as pose:
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        height, width = bgr.shape[:2]
        found = pose.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).pose_landmarks
        landmarks = None if found is None else [
            [round(p.x * width, 2), round(p.y * height, 2), round(p.visibility, 3)]
            for p in found.landmark]
        frames.append({"frame": len(frames), "landmarks": landmarks})
with open("crates/vision/tests/reference/video.json", "w") as out:
    json.dump({"video": VIDEO, "width": width, "height": height, "frames": frames}, out)
