"""X12 benchmark: our tokenizer and reader against str.split, pyx12 and linuxforhealth-x12.

    uv run python bench/x12/run.py [--quick]

Builds large 835 and 837P files by repeating the claim loops of real samples,
times each reader in a fresh subprocess (segments/s and peak RSS; the fastest of
``REPEATS`` runs, as other work on the machine only ever slows a run down) and writes
bench/results/x12.json and bench/results/x12.md.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "libs" / "x12" / "tests" / "data"
RESULTS = ROOT / "bench" / "results"
LFH_VENV = ROOT / "bench" / ".venv-lfh"
SAMPLE_835 = DATA / "835" / "keironstoddart-edi-835-parser__test_edi_835_files_emedny_sample.txt"
SAMPLE_837 = DATA / "837P" / "LinuxForHealth-x12__837_005010X222A2_demo.example1.837"
REPEATS = 3


def build(sample: Path, claim_tag: str, end_tag: str, target: int) -> str:
    """Repeat the claim loops of ``sample`` until the set has about ``target`` segments."""
    text = sample.read_text().replace("\r", "").replace("\n", "")
    segments = [s for s in text.split("~") if s]
    first = next(i for i, s in enumerate(segments) if s.startswith(claim_tag))
    end = next(i for i, s in enumerate(segments) if s.startswith(end_tag) and i > first)
    head, claims, tail = segments[:first], segments[first:end], segments[end:]
    st = next(i for i, s in enumerate(head) if s.startswith("ST*"))
    body = list(head)
    # HL01 must stay unique: renumber each copy's HL levels (and their parents within the copy)
    next_hl = max((int(s.split("*")[1]) for s in segments if s.startswith("HL*")), default=0)
    while len(body) < target:
        renumbered: dict[str, str] = {}
        for seg in claims:
            if seg.startswith("HL*"):
                parts = seg.split("*")
                next_hl += 1
                renumbered[parts[1]] = str(next_hl)
                parts[1] = str(next_hl)
                parts[2] = renumbered.get(parts[2], parts[2])
                seg = "*".join(parts)
            body.append(seg)
    body.extend(tail)
    se = next(i for i, s in enumerate(body) if s.startswith("SE*"))
    parts = body[se].split("*")
    body[se] = f"SE*{se - st + 1}*{parts[2]}"
    # pyx12 ships maps for X222A1 only; the structure is the same
    return "~\n".join(body).replace("005010X222A2", "005010X222A1") + "~\n"


RUNNERS = {
    "split": """
text = open(PATH).read()
t = time.perf_counter()
segs = [s.split("*") for s in text.split("~")]
elapsed = time.perf_counter() - t
""",
    "ours_tokenize": """
from rcm.x12 import tokenize
text = open(PATH).read()
t = time.perf_counter()
segs = tokenize(text)
elapsed = time.perf_counter() - t
""",
    "ours_read": """
from rcm.x12 import read
text = open(PATH).read()
t = time.perf_counter()
result = read(text)
elapsed = time.perf_counter() - t
assert result.transactions
""",
    "ours_models": """
from rcm.x12.convert import read_interchange
text = open(PATH).read()
t = time.perf_counter()
interchange, delimiters = read_interchange(text)
elapsed = time.perf_counter() - t
""",
    "ours_build": """
from rcm.x12.build import build_interchange
from rcm.x12.convert import read_interchange
text = open(PATH).read()
interchange, delimiters = read_interchange(text)
t = time.perf_counter()
out = build_interchange(interchange, delimiters)
elapsed = time.perf_counter() - t
assert len(out) > len(text) // 2
""",
    "ours_stream": """
from rcm.x12 import read_claims
t = time.perf_counter()
with open(PATH, "rb") as fh:
    n = sum(1 for _ in read_claims(fh))
elapsed = time.perf_counter() - t
assert n
""",
    "pyx12": """
import io, logging
import pyx12.params, pyx12.x12n_document
logging.disable(logging.CRITICAL)
t = time.perf_counter()
pyx12.x12n_document.x12n_document(pyx12.params.params(), PATH, io.StringIO(), None)
elapsed = time.perf_counter() - t
""",
    "lfh_models": """
from linuxforhealth.x12.io import X12ModelReader
t = time.perf_counter()
with X12ModelReader(PATH) as r:
    n = sum(1 for _ in r.models())
elapsed = time.perf_counter() - t
""",
}


def measure(name: str, path: Path, python: str) -> dict[str, float] | str:
    """The fastest of ``REPEATS`` runs, or why the reader failed."""
    runs = [_measure_once(name, path, python) for _ in range(REPEATS)]
    timed = [run for run in runs if isinstance(run, dict)]
    if not timed:
        return runs[0]
    return min(timed, key=lambda run: run["seconds"])


def _measure_once(name: str, path: Path, python: str) -> dict[str, float] | str:
    code = (
        f"import time, resource, json\nPATH = {str(path)!r}\n"
        + RUNNERS[name]
        + "\nprint(json.dumps({'seconds': elapsed, 'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    try:
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        return "timed out"
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:200]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def lfh_python() -> str | None:
    python = LFH_VENV / "bin" / "python"
    if not python.exists():
        made = subprocess.run(
            ["uv", "venv", "--python", sys.executable, str(LFH_VENV)], capture_output=True, check=False
        )
        if made.returncode != 0:
            return None
    if (
        subprocess.run(
            [str(python), "-c", "import linuxforhealth.x12.io"], capture_output=True, check=False
        ).returncode
        != 0
    ):
        installed = subprocess.run(
            ["uv", "pip", "install", "--python", str(python), "linuxforhealth-x12", "pydantic<2"],
            capture_output=True,
            timeout=300,
            check=False,
        )
        if installed.returncode != 0:
            return None
    return str(python)


def main() -> None:
    quick = "--quick" in sys.argv
    size = 5_000 if quick else 20_000
    big = 100_000 if quick else 1_000_000
    lfh = lfh_python()
    results: dict[str, object] = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "lfh": "installed" if lfh else "could not be installed",
        "files": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            f"835 ({size // 1000}k segments)": build(SAMPLE_835, "CLP*", "SE*", size),
            f"837P ({size // 1000}k segments)": build(SAMPLE_837, "HL*3*", "SE*", size),
        }
        runs: dict[str, dict[str, object]] = {}
        for label, text in files.items():
            path = Path(tmp) / (label.split()[0] + ".x12")
            path.write_text(text)
            count = text.count("~")
            row: dict[str, object] = {"segments": count}
            for name in (
                "split",
                "ours_tokenize",
                "ours_read",
                "ours_models",
                "ours_build",
                "ours_stream",
                "pyx12",
            ):
                row[name] = measure(name, path, sys.executable)
            row["lfh_models"] = measure("lfh_models", path, lfh) if lfh else "not installed"
            runs[label] = row
        path = Path(tmp) / "big835.x12"
        path.write_text(build(SAMPLE_835, "CLP*", "SE*", big))
        count = path.read_text().count("~")
        runs[f"835 ({count // 1000}k segments, memory)"] = {
            "segments": count,
            "split": measure("split", path, sys.executable),
            "ours_stream": measure("ours_stream", path, sys.executable),
        }
        results["files"] = runs
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "x12.json").write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "x12.md").write_text(markdown(results))
    print(markdown(results))


def markdown(results: dict[str, object]) -> str:
    lines = [
        "| file | reader | segments/s | vs str.split | vs pyx12 | vs linuxforhealth | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    files = results["files"]
    assert isinstance(files, dict)
    for label, row in files.items():
        count = row["segments"]
        base = {ref: _rate(count, row.get(ref)) for ref in ("split", "pyx12", "lfh_models")}
        for name, value in row.items():
            if name == "segments":
                continue
            if isinstance(value, dict):
                rate = count / value["seconds"]
                split, pyx12, lfh = (f"{rate / r:.2f}" if r else "" for r in base.values())
                lines.append(
                    f"| {label} | {name} | {rate:,.0f} | {split} | {pyx12} | {lfh} | {value['peak_rss_mb']:.0f} |"
                )
            else:
                lines.append(f"| {label} | {name} | {value} | | | | |")
    return "\n".join(lines) + "\n"


def _rate(count: int, value: object) -> float | None:
    return count / value["seconds"] if isinstance(value, dict) else None


if __name__ == "__main__":
    main()
