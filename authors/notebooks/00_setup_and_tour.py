# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Setup and a tour of the course
#
# Welcome! This short notebook makes sure your machine is ready, shows you the MLflow server the
# course runs for you, logs your very first MLflow run, and explains how the exercises are graded.
#
# **You will learn to**
# - check your environment with `mlops-course doctor` and read what it tells you;
# - find the course's MLflow server, its UI, and the folder where it keeps its data;
# - log a run with plain `mlflow` and read back what the server really stored;
# - find your exercises, grade them from a notebook (`check`) or a terminal (`mlops-course grade`),
#   follow your progress and start an exercise again.
#
# **Prerequisites:** basic Python and pandas; you have run `make course` (or opened this
# notebook in the course's virtualenv). No MLflow knowledge needed.
#
# **Time:** about 15 minutes.

# %% [markdown]
# ## Setup
#
# Every notebook of the course starts with the same cell. It turns on `autoreload` (so edits to
# Python files are picked up without restarting the kernel), then `mlops_course.setup()` makes
# sure an MLflow tracking server is running, points `mlflow` at it and prints its address.
# Nothing happens behind your back: this cell is the only setup there is.

# %%
# %load_ext autoreload
# %autoreload 2

import mlops_course

TRACKING_URI = mlops_course.setup()

# %% [markdown]
# ## 1. Is my environment ready?
#
# `mlops-course doctor` checks Python, the packages the course needs, free disk space and the
# MLflow server. Each line starts with `[ OK ]` or `[FAIL]`; a failing line is followed by the
# fix (`-> ...`). You can run it in a terminal at any time; here we run it through the notebook's
# own Python (`sys.executable`), so it checks exactly the environment this kernel uses, wherever
# your `PATH` points.

# %%
import subprocess
import sys

doctor = subprocess.run(
    [sys.executable, "-m", "mlops_course.cli", "doctor"],
    capture_output=True,
    text=True,
    timeout=300,
)
print(doctor.stdout + doctor.stderr)
# A [FAIL] line is information, not a crash: this cell never fails on it.
print(
    "All checks passed." if doctor.returncode == 0 else "Some checks failed: see the fixes above."
)

# %% [markdown]
# ## 2. The MLflow server
#
# MLflow has two halves: a **client** (the `mlflow` package you call from Python) and a
# **tracking server** that stores what you log and serves the web UI. The course runs a small
# local server for you: one worker, bound to `127.0.0.1` (only your machine can reach it), on a
# free port (not always 5000, which macOS keeps for AirPlay).
#
# Everything it stores lives in the **course home**, the folder `.mlops-course/` at the root of
# the repository (or wherever `MLOPS_COURSE_HOME` points):
#
# | file or folder | what it holds |
# |---|---|
# | `mlflow.db` | the SQLite database: experiments, runs, parameters, metrics, tags, models |
# | `artifacts/` | the files you log (figures, tables, models), served by the server |
# | `server.json` | the running server's address and process id, so every notebook reuses it |
# | `server.log` | the server's own log: look here first when it misbehaves |
# | `reports/` | the JSON reports written by `mlops-course grade` |
#
# Delete the course home and you start from a clean slate (stop the server first).
#
# In a terminal (in JupyterLab, **File > New > Terminal** opens one at the root of the
# repository, with the course's `mlops-course` command on its `PATH`):
#
# ```bash
# mlops-course server status   # is it running, and where?
# mlops-course server start    # start it (notebooks do this for you through setup())
# mlops-course server stop     # stop it when you are done for the day
# ```
#
# **A shared server.** In a workshop your instructor may give you a server address. Set
# `MLFLOW_TRACKING_URI` to it before starting Jupyter and the course uses that server instead:
# your variable always wins, and no local server is started. Your experiments and models are named
# after you (see `naming` below), so a whole class can share one server without collisions.

# %%
from mlops_course import naming, paths, server

info, verdict = server.status()
if verdict == "running" and info.uri == TRACKING_URI:
    print(f"The course's local server is running at {info.uri} (PID {info.pid})")
else:
    print(f"Using the server at {TRACKING_URI}, from MLFLOW_TRACKING_URI")
    print(f"The course's local server: {verdict}")
home = paths.course_home()
print(f"Course home: {home}")
for item in sorted(home.iterdir()):
    print("  ", item.name + ("/" if item.is_dir() else ""))

print(f"\nYour namespace: {naming.student()!r}")
print(
    f"  e.g. experiment {naming.experiment_name('tour')!r}, model {naming.model_name('iris-classifier')!r}"
)

# %% [markdown]
# Open the UI address printed by the setup cell in your browser now: keep that tab open, we will
# look at it after every step.

# %% [markdown]
# ## 3. Your first run
#
# Two words to know:
#
# - an **experiment** groups the runs that answer one question ("which model for iris?");
# - a **run** is one execution of your code: it records **parameters** (the inputs you chose),
#   **metrics** (numbers you measured, optionally at each step) and **tags** (free-form labels).
#
# `mlflow.set_experiment` selects an experiment (creating it the first time) and
# `mlflow.start_run` opens a run; the `with` block ends it, marking it `FINISHED`, or `FAILED`
# if the block raises. We name the experiment with `naming.experiment_name(...)` so it is yours.

# %%
import mlflow

experiment = mlflow.set_experiment(naming.experiment_name("tour"))
print(f"Experiment {experiment.name!r} has id {experiment.experiment_id}")

with mlflow.start_run(run_name="hello-mlflow") as run:
    mlflow.log_param("learning_rate", 0.1)
    mlflow.log_param("optimizer", "sgd")
    for step, loss in enumerate([0.9, 0.5, 0.3, 0.25]):
        mlflow.log_metric("loss", loss, step=step)
    mlflow.set_tag("purpose", "tour")

run_id = run.info.run_id
print(f"Logged run {run_id}")
print(f"See it in the UI: {TRACKING_URI}/#/experiments/{experiment.experiment_id}/runs/{run_id}")

# %% [markdown]
# **Messages from MLflow.** The first time an experiment name is used, MLflow says so on stderr:
# `INFO mlflow.tracking.fluent: Experiment with name '<you>/tour' does not exist. Creating a new
# experiment.` That is news, not a problem (run this notebook again and the line is gone: the
# experiment exists). MLflow would also print a "View run ... at:" link, and one for the
# experiment, each time a run ends; dozens of runs per notebook would bury the output in links,
# so `setup()` turns them off (with the environment variable
# `MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT=true`) and a cell prints a link itself when one helps,
# as above. More generally, `setup()` lets each of MLflow's routine messages through **once**
# per notebook, where the text explains it, and hides its repeats: whatever else a cell prints
# on stderr is worth reading.

# %% [markdown]
# The `with` block returned as soon as the server had stored everything. Let's not trust our own
# code, though: ask the server what it really holds, through `MlflowClient`, the lower-level API
# that the graders use too.

# %%
from mlflow import MlflowClient

client = MlflowClient()
stored = client.get_run(run_id)

print("status:     ", stored.info.status)
print("params:     ", stored.data.params)
print("metrics:    ", stored.data.metrics)
print("loss history:", [(m.step, m.value) for m in client.get_metric_history(run_id, "loss")])
print("our tags:   ", {k: v for k, v in stored.data.tags.items() if not k.startswith("mlflow.")})
print("artifacts:  ", stored.info.artifact_uri)

# %% [markdown]
# Three things worth noticing:
#
# - **Parameters come back as strings** (`'0.1'`, not `0.1`): MLflow stores them as text. Convert
#   them yourself when you read them.
# - **`metrics` holds only the latest value** of each metric; the whole curve is in
#   `get_metric_history`.
# - MLflow added its own tags (`mlflow.user`, `mlflow.source.name`, `mlflow.runName`, ...); we
#   filtered them out above.
#
# **In the UI:** click **Experiments**, then your experiment (`<you>/tour`). The **Runs** table
# lists `hello-mlflow`; click it to open the run. The **Overview** tab shows its parameters,
# metrics and tags, and the **Model metrics** tab draws the `loss` curve over the steps.

# %% [markdown]
# ## 4. How the course works
#
# Each module has one Python file of **graded functions**, in two versions:
#
# | folder | what it is | who edits it |
# |---|---|---|
# | `exercises/` | your copy: the functions are stubs raising `NotImplementedError("Exercise 1.1: ...")` | **you** |
# | `solutions/` | the reference implementation | nobody: peek only when stuck |
#
# Notebooks never import either folder directly. They ask the **target switch** for the module:
# `target.load("tracking")` imports `exercises/tracking.py` (the default) or `solutions/tracking.py`
# when the environment variable `MLOPS_COURSE_TARGET=solutions` is set (that is what CI uses to
# run every notebook against the reference). Each call re-reads the file, so your latest saved
# edit is what runs.
#
# **Where you work:** in JupyterLab's file browser (the folder icon at the top of the left
# sidebar), which opens on `notebooks/`, click the folder icon of the path above the file list to
# go up to the root of the repository, then open the folder `exercises/` and double-click
# `tracking.py`. It opens in an editor tab beside this notebook (drag the tab to the right half
# of the window to see both at once). Replace a stub's body, save (Ctrl+S), and re-run the
# notebook cell that calls it. Your own editor works too: the file is `exercises/tracking.py`
# at the root of the repository.

# %%
import inspect

from mlops_course import target

print(f"Target: {target.current()}  ->  {target.resolve()}")
tracking = target.load("tracking")
for name, function in inspect.getmembers(tracking, inspect.isfunction):
    if function.__module__ == tracking.__name__ and not name.startswith("_"):
        summary = (inspect.getdoc(function) or "").splitlines()[0:1]
        print(f"  {name}(): {summary[0] if summary else ''}")

# %% [markdown]
# ### Grading from the notebook
#
# `mlops_course.check("1.1")` grades exercise 1.1 and shows a scoreboard right here. It runs the
# tests in a separate process, against **the file saved on disk** (not what is in this notebook's
# memory), and it never raises: a failing exercise is a result, not an error.
#
# The tests do not just look at what your function returns; they ask the MLflow server what was
# really logged. If you have not touched exercise 1.1 yet, expect the status **not started**.
# (In CI, where the target is `solutions`, it passes.)

# %%
mlops_course.check("1.1")

# %% [markdown]
# ### Grading, progress and starting over, from a terminal
#
# ```bash
# mlops-course grade            # grade everything, print a scoreboard, save a JSON report
# mlops-course grade 1.1 1.2    # grade only these exercises
# mlops-course progress         # where am I? (built from the reports that `grade` saved)
# mlops-course reset 1.1        # put the stub of exercise 1.1 back; your file is backed up first
# ```
#
# Each row of the scoreboard has a status: *passed*, *failed* (with a hint), *not started* (the
# stub still raises `NotImplementedError`), *timeout*, *crashed*, *error* (your file does not
# import) or *MLflow unavailable* (the server is down: that is never silently scored 0).
#
# `mlops-course reset` never loses work: your current file is kept as a backup next to it (its
# name ends in `.bak-` and a timestamp), so you can copy pieces back.

# %% [markdown]
# ## Recap
#
# - `mlops-course doctor` tells you what is missing and how to fix it.
# - `mlops_course.setup()` starts (or reuses) the course's local MLflow server and prints the UI
#   address; `MLFLOW_TRACKING_URI` overrides it for a shared server. The server's data lives in
#   `.mlops-course/`.
# - An experiment groups runs; a run records parameters (stored as strings), metrics (with a
#   history over steps) and tags. `MlflowClient` reads back what the server stored.
# - You edit `exercises/<module>.py`; notebooks load it through `target.load()`. Grade with
#   `mlops_course.check("1.1")` or `mlops-course grade`, follow along with `mlops-course progress`,
#   and start over with `mlops-course reset 1.1`.
#
# **Next:** `01_experiment_tracking`, where you log models, datasets, figures and whole
# hyperparameter searches.

# %% [markdown]
# ## Self-check quiz
#
# Put the letter of your answer in `answers` and run the two cells. Each answer, right or wrong,
# comes with a sentence on why, and a wrong one names the section to re-read. (The key is in
# `authors/quizzes/00.toml`, out of sight here: answer first.)
#
# **q1.** Where do you write your solution to exercise 1.1?
# (a) `solutions/tracking.py` (b) `exercises/tracking.py` (c) in this notebook (d) `mlops_course/`
#
# **q2.** You logged `mlflow.log_param("learning_rate", 0.1)`. What does
# `client.get_run(run_id).data.params["learning_rate"]` return?
# (a) the float `0.1` (b) a list of every value logged (c) the string `'0.1'` (d) `None`
#
# **q3.** Your instructor gives you a server address and you set `MLFLOW_TRACKING_URI` to it.
# What does `mlops_course.setup()` do?
# (a) uses your server and starts nothing (b) starts the local server anyway
# (c) refuses, because two servers conflict (d) copies your runs to both
#
# **q4.** What happens to your file when you run `mlops-course reset 1.1`?
# (a) it is deleted (b) it is replaced by the solution
# (c) nothing, it only prints a diff (d) it is backed up, then exercise 1.1 becomes a stub again

# %%
answers = {
    "q1": None,  # e.g. "b"
    "q2": None,
    "q3": None,
    "q4": None,
}

# %%
from mlops_course.quiz import check_quiz

check_quiz("00", answers)
