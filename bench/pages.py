"""Benchmark of the page pipeline (`hamletbox scan`) on generated photos of Vietnamese forms.

For each photo of a corpus made by appliance.samples.documents (text-only pages and pages with a
red seal; different tilts, shadows and type sizes), prints the pipeline's time per page, the bytes
of the page it makes, and the character error rate (CER) of Debian's Tesseract (`tesseract-ocr-vie`)
on it against the text printed on the page. Next to them, the same for two baselines: the raw
photo as the camera saved it, and the photo shrunk to 1600 px and saved as JPEG quality 75.
Tesseract reads our page's image data as the PDF embeds it (img2pdf copies it without re-encoding).

CER = edit distance / length of the true text, both with whitespace runs made one space.
Target: text pages at most 50 KB each, with a CER no worse than the raw photo's.

Run with `make bench` or `.venv/bin/python bench/pages.py [--count N] [--frame 4056x3040]`.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass

from appliance.capture.images import MB, downscale, encode_jpeg, load_upload
from appliance.capture.pages import process_page
from appliance.samples.documents import DocumentPhoto, make_photo

TEXT_PAGE_LIMIT = 50 * 1024
SMALL_SIDE, SMALL_QUALITY = 1600, 75


@dataclass
class Result:
    name: str
    seal: bool
    mode: str
    decode_s: float  # JPEG decode (load_upload), the same for any pipeline
    seconds: float  # find, flatten, choose, encode
    sizes: dict[str, int]  # variant -> bytes
    cers: dict[str, float]  # variant -> character error rate


def tesseract_ready() -> str | None:
    """None when Tesseract with Vietnamese is installed, else what to install."""
    if shutil.which("tesseract") is None:
        return "tesseract is not installed: apt-get install tesseract-ocr tesseract-ocr-vie"
    langs = subprocess.run(
        ["tesseract", "--list-langs"], capture_output=True, text=True, check=False
    ).stdout.split()
    if "vie" not in langs:
        return "Tesseract has no Vietnamese model: apt-get install tesseract-ocr-vie"
    return None


def ocr(image: bytes) -> str:
    done = subprocess.run(
        ["tesseract", "-", "-", "-l", "vie", "--psm", "4"],
        input=image,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode("utf-8", "replace")


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one row at a time."""
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1]


def cer(truth: str, read: str) -> float:
    truth, read = normalise(truth), normalise(read)
    return edit_distance(truth, read) / max(1, len(truth))


def corpus(count: int, frame: tuple[int, int]) -> list[tuple[str, DocumentPhoto]]:
    """Every third photo has a seal; tilt, shadow and type size vary across the corpus."""
    photos = []
    for seed in range(count):
        tilt = (0.1, 0.2, 0.3)[seed % 3]
        shadow = (0.2, 0.45, 0.3, 0.55)[seed % 4]
        body_pt = (13.0, 11.0, 12.0, 10.5)[seed % 4]
        seal = seed % 3 == 2
        photo = make_photo(seed, seal, frame, tilt, shadow, body_pt=body_pt)
        name = f"{seed:02d} {'seal' if seal else 'text'} t{tilt:.1f} sh{shadow:.2f} {body_pt:g}pt"
        photos.append((name, photo))
    return photos


def measure(name: str, photo: DocumentPhoto) -> Result:
    start = time.perf_counter()
    image = load_upload(photo.jpeg, 50 * MB)
    decoded = time.perf_counter()
    page = process_page(image)
    seconds = time.perf_counter() - decoded
    small = encode_jpeg(downscale(photo.image, SMALL_SIDE), SMALL_QUALITY)
    variants = {"ours": page.data, "raw": photo.jpeg, "1600q75": small}
    sizes = {key: len(data) for key, data in variants.items()}
    cers = {key: cer(photo.text, ocr(data)) for key, data in variants.items()}
    return Result(name, photo.seal, page.mode, decoded - start, seconds, sizes, cers)


def print_table(results: list[Result]) -> None:
    """A row per photo, then per kind of page the median time and size and the mean CER."""
    print(
        f"{'photo':30} {'mode':5} {'dec ms':>6} {'ms':>5} | {'ours KB':>8} {'CER':>6} | "
        f"{'raw KB':>8} {'CER':>6} | {'1600 KB':>8} {'CER':>6}"
    )
    for r in results:
        cells = " | ".join(f"{r.sizes[k] / 1024:8.1f} {r.cers[k]:6.2%}" for k in r.sizes)
        times = f"{r.decode_s * 1000:6.0f} {r.seconds * 1000:5.0f}"
        print(f"{r.name:30} {r.mode:5} {times} | {cells}")
    for label, seal in (("text", False), ("seal", True)):
        group = [r for r in results if r.seal == seal]
        if not group:
            continue
        cells = " | ".join(
            f"{statistics.median(r.sizes[k] for r in group) / 1024:8.1f} "
            f"{statistics.mean(r.cers[k] for r in group):6.2%}"
            for k in group[0].sizes
        )
        times = (
            f"{statistics.median(r.decode_s for r in group) * 1000:6.0f} "
            f"{statistics.median(r.seconds for r in group) * 1000:5.0f}"
        )
        print(f"{label + ': median ms, KB; mean CER':30} {'':5} {times} | {cells}")


def target_met(results: list[Result]) -> bool:
    text = [r for r in results if not r.seal]
    failures = {
        "text pages over 50 KB": [r.name for r in text if r.sizes["ours"] > TEXT_PAGE_LIMIT],
        "text pages with a CER worse than the raw photo's": [
            r.name for r in text if r.cers["ours"] > r.cers["raw"]
        ],
        "text pages not kept as text": [r.name for r in text if r.mode != "text"],
        "seal pages not kept in colour": [r.name for r in results if r.seal and r.mode != "color"],
    }
    for label, names in failures.items():
        print(f"{label}: {', '.join(names) if names else 'none'}")
    ok = not any(failures.values())
    print(f"target (text pages ≤ 50 KB, CER ≤ raw photo's): {'MET' if ok else 'NOT MET'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=12)
    parser.add_argument("--frame", default="4056x3040", help="photo size, WIDTHxHEIGHT")
    args = parser.parse_args()
    missing = tesseract_ready()
    if missing is not None:
        print(f"bench/pages.py: {missing}", file=sys.stderr)
        return 2
    width, height = (int(v) for v in args.frame.lower().split("x"))
    results = []
    for name, photo in corpus(args.count, (width, height)):
        results.append(measure(name, photo))
        print(f"  measured {name}", file=sys.stderr, flush=True)
    print_table(results)
    return 0 if target_met(results) else 1


if __name__ == "__main__":
    sys.exit(main())
