#!/usr/bin/env python3
"""Render benchmark: one 30-second short of 6 scenes at 1080x1920 rendered
by MoviePy 1.0.3 and by kinoflow in the same run.

The media: six stills of people (the photos in ../shared/testdata and three
frames of its pedestrian video), a narration a scene spoken by espeak-ng
with its word timings (spread over the words by their length), music made
from ffmpeg sources. The stills are made RGB PNGs first (MoviePy 1.0.3
cannot composite a greyscale one).

MoviePy reproduces the original ShortsAI worker's layout: each scene as long
as its narration, the still centre-cropped and static, one TextClip a word
(yellow, black stroke, 70 px, top edge at y = 1500), hard cuts, music at
10 % looped under the narration, 20 fps, libx264 veryfast 2500k, AAC 128k.
It writes through the system ffmpeg, as kinoflow does.

kinoflow (`kinoflow run render spec.json`), first like for like: 20 fps,
still pictures, cuts, one caption a word, music at 10 % without ducking or
loudness normalisation, veryfast 2500k; then with everything on: Ken Burns,
crossfades, karaoke captions of up to 4 words, ducking, -14 LUFS, 30 fps.

Each run is a child process timed whole, its peak memory from wait4.
Run through bench/render (it installs what is missing and builds kinoflow)."""

import json
import os
import subprocess
import sys
import tempfile
import time
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "bench", ".cache", "render")
TESTDATA = os.path.join(os.path.dirname(ROOT), "shared", "testdata")
NARRATIONS = [
    "Every morning the astronaut checks the station before the sun comes up.",
    "On the pitch a single touch can change the whole match in a second.",
    "Under the basket he waits, smiling, for the pass that always comes.",
    "Down in the square people cross in every direction without a pause.",
    "Some walk quickly to work while others stop to talk with a friend.",
    "From above the city looks calm, and every path finds its own way.",
]

MOVIEPY = r'''
import json, sys
from moviepy.editor import (AudioFileClip, CompositeAudioClip, CompositeVideoClip,
                            ImageClip, TextClip, concatenate_videoclips)
from moviepy.audio.fx.all import audio_loop
spec = json.load(open(sys.argv[1]))
W, H = 1080, 1920
clips = []
for scene in spec["scenes"]:
    audio = AudioFileClip(scene["audio"])
    duration = audio.duration
    image = ImageClip(scene["image"])
    w, h = image.size
    if w / h > W / H:
        image = image.crop(x_center=w / 2, width=h * W / H)
    else:
        image = image.crop(y_center=h / 2, height=w * H / W)
    visual = image.resize((W, H)).set_duration(duration).set_audio(audio)
    words = []
    for timing in scene["word_timings"]:
        if timing["start"] >= duration:
            continue
        text = TextClip(timing["word"], fontsize=70, color="yellow", font="DejaVu-Sans-Bold",
                        stroke_color="black", stroke_width=3, method="caption", size=(900, None))
        words.append(text.set_start(timing["start"])
                         .set_end(min(timing["end"], duration))
                         .set_position(("center", 1500)))
    clips.append(CompositeVideoClip([visual] + words, size=(W, H)).set_duration(duration))
video = concatenate_videoclips(clips, method="compose")
music = AudioFileClip(spec["music"]).volumex(0.1)
music = audio_loop(music, duration=video.duration) if music.duration < video.duration \
    else music.subclip(0, video.duration)
video = video.set_audio(CompositeAudioClip([video.audio, music]))
video.write_videofile(spec["output"], fps=20, codec="libx264", preset="veryfast",
                      bitrate="2500k", threads=2, audio_codec="aac", audio_bitrate="128k",
                      logger=None)
'''


def run(command, env=None):
    """Runs a command; its wall time (s) and peak memory (MiB)."""
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    if status != 0:
        sys.exit(f"{command[0]} failed: {process.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def wav_seconds(path):
    with wave.open(path) as audio:
        return audio.getnframes() / audio.getframerate()


def timings(text, seconds):
    """Words spread over the narration by their length."""
    words = text.split()
    weights = [len(word) + 1 for word in words]
    total, at, out = sum(weights), 0.0, []
    for word, weight in zip(words, weights):
        length = seconds * 0.95 * weight / total
        out.append({"word": word, "start": round(at, 3), "end": round(at + length, 3)})
        at += length
    return out


def media():
    """The stills, narrations and music, made once."""
    os.makedirs(CACHE, exist_ok=True)
    # As RGB PNGs: MoviePy 1.0.3 cannot composite a greyscale still.
    stills = []
    for name in ("astronaut.png", "messi5.jpg", "basketball1.png"):
        still = os.path.join(CACHE, os.path.splitext(name)[0] + ".png")
        if not os.path.exists(still):
            ffmpeg("-i", os.path.join(TESTDATA, name), "-pix_fmt", "rgb24", still)
        stills.append(still)
    for second in (10, 40, 70):
        still = os.path.join(CACHE, f"walkers{second}.png")
        if not os.path.exists(still):
            ffmpeg("-ss", str(second), "-i", os.path.join(TESTDATA, "vtest.avi"), "-frames:v", "1", still)
        stills.append(still)
    scenes = []
    for index, (still, text) in enumerate(zip(stills, NARRATIONS)):
        audio = os.path.join(CACHE, f"narration{index}.wav")
        if not os.path.exists(audio):
            subprocess.run(["espeak-ng", "-s", "150", "-w", audio, text], check=True)
        scenes.append({"image": still, "audio": audio,
                       "word_timings": timings(text, wav_seconds(audio))})
    music = os.path.join(CACHE, "music.wav")
    if not os.path.exists(music):
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:duration=12:sample_rate=48000",
               "-f", "lavfi", "-i", "sine=frequency=330:duration=12:sample_rate=48000",
               "-filter_complex", "amix=inputs=2,volume=0.8", music)
    return scenes, music


def kinoflow_spec(scenes, music, everything_on):
    spec = {"width": 1080, "height": 1920, "music": music,
            "scenes": [{"image": s["image"], "audio": s["audio"], "word_timings": s["word_timings"]}
                       for s in scenes]}
    if everything_on:
        spec.update({"fps": 30, "encoding": {"preset": "veryfast", "video_kbps": 4000}})
    else:
        spec.update({"fps": 20, "transition": {"kind": "cut"}, "ducking": False,
                     "normalise_loudness": False, "music_gain": 0.1,
                     "captions": {"words_per_caption": 1, "colour": "#FFFF00", "highlight": "#FFFF00"},
                     "encoding": {"preset": "veryfast", "video_kbps": 2500}})
        for scene in spec["scenes"]:
            scene["motion"] = "none"
    return spec


def video_seconds(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                          "-of", "csv=p=0", path], capture_output=True, text=True, check=True)
    return float(out.stdout)


def main():
    kinoflow = sys.argv[1]
    scenes, music = media()
    results = []
    with tempfile.TemporaryDirectory() as work:
        spec_path = os.path.join(work, "moviepy.json")
        output = os.path.join(work, "moviepy.mp4")
        with open(spec_path, "w") as f:
            json.dump({"scenes": scenes, "music": music, "output": output}, f)
        script = os.path.join(work, "moviepy_render.py")
        with open(script, "w") as f:
            f.write(MOVIEPY)
        env = dict(os.environ, IMAGEIO_FFMPEG_EXE="/usr/bin/ffmpeg",
                   IMAGEMAGICK_BINARY="/usr/bin/convert")
        elapsed, memory = run([sys.executable, script, spec_path], env=env)
        results.append(("MoviePy 1.0.3, static, 20 fps", elapsed, memory, video_seconds(output)))
        for name, everything_on in (("kinoflow, like for like, 20 fps", False),
                                    ("kinoflow, everything on, 30 fps", True)):
            spec_path = os.path.join(work, f"kinoflow-{everything_on}.json")
            with open(spec_path, "w") as f:
                json.dump(kinoflow_spec(scenes, music, everything_on), f)
            out = os.path.join(work, f"out-{everything_on}")
            elapsed, memory = run([kinoflow, "run", "render", spec_path, "--out", out])
            results.append((name, elapsed, memory, video_seconds(os.path.join(out, "render.mp4"))))
    # Compared by seconds of video made per second, as the videos' lengths
    # differ a little (kinoflow pauses after each narration).
    baseline = results[0][3] / results[0][1]
    print("| render | video (s) | wall time (s) | video s per s | vs MoviePy | peak memory (MiB) |")
    print("|---|---|---|---|---|---|")
    for name, elapsed, memory, seconds in results:
        rate = seconds / elapsed
        print(f"| {name} | {seconds:.1f} | {elapsed:.1f} | {rate:.2f} | "
              f"{rate / baseline:.2f} x | {memory:.0f} |")


if __name__ == "__main__":
    main()
