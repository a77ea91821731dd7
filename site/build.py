"""Build the course's static website: ``make site`` (or ``python site/build.py --help``).

Every notebook of ``notebooks/`` is executed (the ``solutions`` target, against a local MLflow
server in a throw-away course home, never the learner's) and rendered with its outputs; the
README is the home page. Sphinx + myst-nb do the work (configuration: ``site/conf.py``).

Exit code: 0 built, 1 the build failed (a notebook cell raised, a cell timed out, Sphinx
failed), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
# Outputs depend on the course's code too, not only on the notebook's cells (what jupyter-cache
# keys on): a change to any of these re-executes every notebook.
CODE_GLOBS = ("mlops_course/**/*.py", "solutions/*.py", "pyproject.toml", "site/*.py")

# How myst-nb names a notebook whose execution failed (a cell raised or timed out), and the
# last line of the cell's traceback ("ValueError: …", "CellTimeoutError: …") before it.
FAILED_NOTEBOOK = re.compile(r"ExecutionError: (\S+\.ipynb)")
ERROR_LINE = re.compile(
    r"^(?!nbclient\.exceptions\.CellExecutionError)[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\w*: "
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the kernel colours its tracebacks

TOC = """

```{{toctree}}
:caption: Modules
:maxdepth: 1
:glob:

{folder}/*
```
"""


def code_digest(root: Path = ROOT) -> str:
    """A short digest of the course code the notebooks' outputs depend on."""
    digest = hashlib.sha256()
    for pattern in CODE_GLOBS:
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def assemble(source: Path, notebooks: list[Path], readme: Path) -> None:
    """Lay out the Sphinx source folder: the README as ``index.md`` (with the table of
    contents of the modules), the notebooks in ``notebooks/``."""
    shutil.rmtree(source, ignore_errors=True)
    (source / "notebooks").mkdir(parents=True)
    for notebook in notebooks:
        shutil.copy2(notebook, source / "notebooks" / notebook.name)
    text = readme.read_text(encoding="utf-8").rstrip()
    (source / "index.md").write_text(text + TOC.format(folder="notebooks"), encoding="utf-8")


def build_env(home: Path) -> dict[str, str]:
    """The environment of Sphinx and of the notebooks' kernels (they inherit it)."""
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)  # the build's own server, never a workshop's
    env["MLOPS_COURSE_HOME"] = str(home)
    env["MLOPS_COURSE_TARGET"] = "solutions"  # the graded cells pass, as under `make test`
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("MPLBACKEND", "agg")
    # A progress bar is noise on a static page (and a widget would need JavaScript from a CDN).
    env["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    env["TQDM_DISABLE"] = "1"
    return env


def run_sphinx(
    source: Path, html: Path, doctrees: Path, cache: Path, env: dict[str, str]
) -> tuple[int, list[str]]:
    """Run sphinx-build, its output shown as it comes; returns (exit code, failed notebooks).

    Always in myst-nb's "cache" mode: it prints a failing cell's traceback (its "force" mode
    hides it in a file), and an empty cache executes everything anyway."""
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-c", str(SITE)]
    command += ["-d", str(doctrees), "-D", "nb_execution_mode=cache"]
    command += ["-D", f"nb_execution_cache_path={cache}", str(source), str(html)]
    failed: list[str] = []
    error = ""
    with subprocess.Popen(
        command, env=env, cwd=source, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            plain = ANSI.sub("", line).strip()
            if match := FAILED_NOTEBOOK.search(plain):
                failed.append(f"{Path(match.group(1)).name} ({error or 'see above'})")
            elif ERROR_LINE.match(plain):
                error = plain
    return proc.returncode, failed


def build(
    notebooks_dir: Path, readme: Path, out: Path, cache_root: Path, fresh: bool = False
) -> tuple[int, str]:
    """Build the site into ``out/html``; returns (exit code, a one-line summary)."""
    from mlops_course import server

    notebooks = sorted(notebooks_dir.glob("*.ipynb"))
    if not notebooks:
        return 2, f"no notebooks (*.ipynb) in {notebooks_dir}"
    out.mkdir(parents=True, exist_ok=True)
    source, html = out / "src", out / "html"
    assemble(source, notebooks, readme)
    cache = cache_root / code_digest()
    for old in cache_root.glob("*"):  # outputs of older course code are of no use
        if (fresh or old != cache) and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    home = Path(tempfile.mkdtemp(prefix="mlops-course-site-"))
    try:
        # Started here, tied to this process, and stopped below: the kernels' setup() reuses it.
        info = server.ensure_server(home, use_env=False, tied=True)
        print(f"site: MLflow server {info.uri} (course home {home})", flush=True)
        shutil.rmtree(html, ignore_errors=True)
        code, failed = run_sphinx(source, html, out / "doctrees", cache, build_env(home))
    finally:
        print(f"site: {server.stop(home)}", flush=True)
        shutil.rmtree(home, ignore_errors=True)
    if failed:
        return 1, f"notebook {'; '.join(failed)} failed to execute (its traceback is above)"
    if code != 0:
        return 1, (
            f"sphinx-build exited {code}: a notebook cell raised or timed out, or Sphinx failed "
            "(the error is above)"
        )
    return 0, f"{len(notebooks)} notebooks; open {html / 'index.html'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks", metavar="DIR")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md", metavar="FILE")
    parser.add_argument(
        "--out", type=Path, default=SITE / "_build", metavar="DIR", help="the site is DIR/html"
    )
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="execution cache (default OUT/.jupyter_cache): unchanged notebooks are not rerun",
    )
    cache.add_argument(
        "--no-cache", action="store_true", help="empty the cache first: execute every notebook"
    )
    args = parser.parse_args(argv)
    if not args.readme.is_file():
        parser.error(f"no such README: {args.readme}")
    if not args.notebooks.is_dir():
        parser.error(f"no such notebooks folder: {args.notebooks}")
    out = args.out.resolve()
    cache_root = (args.cache or out / ".jupyter_cache").resolve()
    started = time.monotonic()
    code, summary = build(
        args.notebooks.resolve(), args.readme.resolve(), out, cache_root, fresh=args.no_cache
    )
    verdict = "built" if code == 0 else "FAILED"
    print(f"site {verdict} in {time.monotonic() - started:.0f} s: {summary}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
