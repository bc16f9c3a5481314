#!/usr/bin/env python3
"""Writes photos.json: MediaPipe's own pose landmarks on the test photos, the
reference the Rust pose tracker is held to. Made once with PyPI
mediapipe==0.10.14 (`mediapipe.solutions.pose`, model_complexity=1, which
uses the same BlazePose models as models/); run from the repository root:
    python3 crates/vision/tests/reference/make_reference.py"""

import json

import cv2
import mediapipe as mp

PHOTOS = ["messi5.jpg", "basketball1.png"]

reference = {}
for name in PHOTOS:
    image = cv2.cvtColor(cv2.imread(f"fixtures/{name}"), cv2.COLOR_BGR2RGB)
    height, width = image.shape[:2]
    with mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
        found = pose.process(image).pose_landmarks
    reference[name] = {
        "width": width,
        "height": height,
        "landmarks": [[round(p.x * width, 2), round(p.y * height, 2), round(p.visibility, 3)]
                      for p in found.landmark],
    }
with open("crates/vision/tests/reference/photos.json", "w") as out:
    json.dump(reference, out, indent=1)
