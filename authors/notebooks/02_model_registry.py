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
# # 02 · The model registry
#
# Module 01 left you with runs, each holding a logged model. Which one is in production? Which
# one replaced it, who decided, and how do you go back if the new one misbehaves? A run id
# answers none of that. The **model registry** does: it gives models a **name**, numbered
# **versions**, **aliases** that say which version plays which role (`champion`, `challenger`),
# and tags and descriptions that keep the history. Serving code then loads
# `models:/<name>@champion` and never needs a run id.
#
# **You will learn to**
# - register a model from a run (`runs:/...`), from a logged model (`models:/m-...`) and at log
#   time (`registered_model_name=`); describe and tag models and versions;
# - use **aliases** as deployment targets, load `models:/<name>@champion`, promote by moving an
#   alias, and roll back by moving it back;
# - read old code that uses **stages** (deprecated), and map them to aliases and tags;
# - run an approval workflow: a challenger is promoted only when its metric meets a threshold
#   and beats the champion;
# - compare versions side by side, and search versions by name and tag;
# - set up a registry you can trust: the best model as champion, and a way back.
#
# **Prerequisites:** `01_experiment_tracking` (runs, metrics, `mlflow.sklearn.log_model`).
#
# **Time:** about 60 minutes, including the seven exercises.
#
# **Exercises 2.1 to 2.7** are functions to write in `exercises/registry.py`. Each docstring
# says what the function must leave in the registry (the names the grader reads); the sections
# here show the tools, on other examples. Bad input must change *nothing* in the registry.

# %% [markdown]
# ## Setup

# %%
# %load_ext autoreload
# %autoreload 2

import mlops_course

TRACKING_URI = mlops_course.setup()

# %%
# %matplotlib inline
import tempfile
import warnings

import cloudpickle
import matplotlib.pyplot as plt
import mlflow
import mlflow.sklearn
import pandas as pd
import sklearn
from IPython.display import display
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.tree import DecisionTreeClassifier

from mlops_course import data, naming, target

warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")

registry = target.load("registry")
client = MlflowClient()

EXPERIMENT = naming.experiment_name("registry")
MODEL_NAME = naming.model_name("iris-classifier")  # e.g. alice.iris-classifier
mlflow.set_experiment(EXPERIMENT)
print(f"Experiment: {EXPERIMENT}\nRegistered model: {MODEL_NAME}")

X, y = data.load_classification("iris")
X_train, X_test, y_train, y_test = data.split(X, y)
PIP_REQUIREMENTS = [
    f"scikit-learn=={sklearn.__version__}",
    f"cloudpickle=={cloudpickle.__version__}",
]

# %% [markdown]
# (The first time, MLflow notes in an `INFO` line that it creates the experiment
# `<you>/registry`, as in module 00.)

# %% [markdown]
# ## 1. Runs, logged models and registered models
#
# | thing | what it is | named by | example |
# |---|---|---|---|
# | **run** | one execution of training code | a run id | `3f2a...` |
# | **logged model** | a model saved by a run | a model id | `models:/m-8c1e...` |
# | **registered model** | a name for "the iris classifier", whatever its version | you | `alice.iris-classifier` |
# | **model version** | one logged model registered under that name | 1, 2, 3, ... | `models:/alice.iris-classifier/2` |
# | **alias** | a movable pointer to one version | you | `models:/alice.iris-classifier@champion` |
#
# Versions are numbered automatically and never reused. A version keeps a link to the run that
# produced it, so its parameters, metrics and data stay one click away.
#
# Three candidates to register, each logged as in module 01 (with the `WARNING` about the
# cloudpickle format that module 01 explains: we only ever load our own models):


# %%
def train_and_log(model, run_name: str, registered_model_name: str | None = None):
    """Fit, log test-set metrics and the model; returns (run_id, model_info)."""
    with mlflow.start_run(run_name=run_name) as run:
        y_pred = model.fit(X_train, y_train).predict(X_test)
        mlflow.log_metrics(
            {
                "accuracy": accuracy_score(y_test, y_pred),
                "f1_macro": f1_score(y_test, y_pred, average="macro"),
            }
        )
        mlflow.set_tag("model_type", type(model).__name__)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(X_train, model.predict(X_train)),
            input_example=X_train.head(3),
            serialization_format="cloudpickle",
            pip_requirements=PIP_REQUIREMENTS,
            registered_model_name=registered_model_name,
        )
    return run.info.run_id, info


logreg_run_id, logreg_info = train_and_log(LogisticRegression(C=0.05, max_iter=300), "logreg")
tree_run_id, tree_info = train_and_log(DecisionTreeClassifier(max_depth=1, random_state=0), "stump")

# %% [markdown]
# ## 2. Three ways to register
#
# 1. **From a run**: `mlflow.register_model("runs:/<run_id>/model", name)`, "the model called
#    `model` that this run logged". The registered model is created if it does not exist.
# 2. **From a logged model**: `mlflow.register_model(model_info.model_uri, name)`, with the
#    `models:/m-...` URI that `log_model` returned.
# 3. **At log time**: `log_model(..., registered_model_name=name)` logs and registers in one call.
#
# Each call adds a version; the versions of one name can come from different runs, even from
# different experiments.

# %%
v_logreg = mlflow.register_model(f"runs:/{logreg_run_id}/model", MODEL_NAME).version
v_stump = mlflow.register_model(tree_info.model_uri, MODEL_NAME).version
forest_run_id, forest_info = train_and_log(
    RandomForestClassifier(n_estimators=30, max_depth=3, random_state=0),
    "forest",
    registered_model_name=MODEL_NAME,
)
v_forest = str(forest_info.registered_model_version)
versions = {"logreg": v_logreg, "stump": v_stump, "forest": v_forest}
print(versions)


def versions_table(name: str = MODEL_NAME, limit: int = 6) -> pd.DataFrame:
    """The newest versions of a registered model, one row each."""
    found = client.search_model_versions(
        f"name = '{name}'", order_by=["version_number DESC"], max_results=limit
    )
    return pd.DataFrame(
        [
            {
                "version": v.version,
                "run_id": v.run_id,
                "source": v.source,
                "status": v.status,
                "description": v.description,
                "tags": v.tags,
            }
            for v in found
        ]
    )


versions_table()

# %% [markdown]
# **What MLflow printed while registering.** None of it is an error:
#
# - `Successfully registered model '<you>.iris-classifier'.` the first time a name is used, and
#   `Registered model '...' already exists. Creating a new version of this model...` after that:
#   a registered model is a name that holds many versions, and each registration adds one;
# - `Waiting up to 300 seconds for model version to finish creation`, then
#   `Created version 'N'`: MLflow waits until the new version is `READY` (a registry that copies
#   the files to cloud storage can take a while; this server is ready at once);
# - `WARNING ... Run with id ... has no artifacts at artifact path 'model', registering model
#   based on models:/m-... instead`, for way 1: in MLflow 3 a logged model's files are stored
#   with the logged model (`models:/m-...`), not among the run's artifacts, so MLflow looks up
#   the model that run logged under the name `model` and registers that. It is the right model;
#   way 2 (`model_info.model_uri`) goes there directly, without the warning.
#
# The course shows each of these lines once per notebook: later registrations stay quiet.
#
# (Run this notebook again and you get new versions 4, 5, 6: version numbers only grow, and the
# history stays.)
#
# **Descriptions and tags** exist at both levels. The registered model's description says what
# the model is for; a version's says what is special about it. Tags are key/value labels you can
# search on: the dataset, the team, a validation result.

# %%
client.update_registered_model(
    MODEL_NAME, description="Predicts the iris species from four flower measurements."
)
client.set_registered_model_tag(MODEL_NAME, "task", "classification")
client.update_model_version(MODEL_NAME, v_logreg, description="Logistic regression baseline.")
for label, version in versions.items():
    client.set_model_version_tag(MODEL_NAME, version, "candidate", label)

registered = client.get_registered_model(MODEL_NAME)
print(registered.description, registered.tags)
print(client.get_model_version(MODEL_NAME, v_logreg).description)

# %% [markdown]
# **Look before you register.** `mlflow.register_model` creates the registered model *before*
# it looks for the model to register: a typo in a run id leaves an empty registered model
# behind. So look first. A run is found with `client.get_run` (an unknown id raises
# `MlflowException`), and the models a run logged with `client.search_logged_models`, which
# filters an experiment's logged models on `source_run_id` and `name`. Here, which models did
# the stump's run log, and is there a run `0000...`?

# %%
stump_run = client.get_run(tree_run_id)
for logged_model in client.search_logged_models(
    [stump_run.info.experiment_id], filter_string=f"source_run_id = '{tree_run_id}'"
):
    print(f"the stump's run logged {logged_model.name!r} ({logged_model.model_id})")
try:
    client.get_run("0" * 32)
except mlflow.exceptions.MlflowException as exc:
    print("no such run:", str(exc).splitlines()[0][:90])

# %% [markdown]
# ### Exercise 2.1: Register a run's model
#
# Write `register_model_version(run_id, model_name, *, description="", tags=None,
# artifact_path="model", tracking_uri=None)` in `exercises/registry.py`. It registers
# `runs:/<run_id>/<artifact_path>` with the given tags, sets the description, and returns the
# new version as a string. First it checks that the run exists and logged that model, raising a
# `ValueError` otherwise: `mlflow.register_model` would leave an empty registered model behind
# before failing. Check with `mlops_course.check("2.1")`.

# %%
registry = target.load("registry")  # re-read the file, so your latest saved edit runs
try:
    v_2_1 = registry.register_model_version(
        forest_run_id,
        MODEL_NAME,
        description="Random forest, 30 trees of depth 3.",
        tags={"candidate": "forest", "dataset": "iris"},
    )
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    mv = client.get_model_version(MODEL_NAME, v_2_1)
    print(f"version {mv.version}: {mv.description!r}, tags {mv.tags}")
    try:
        registry.register_model_version("0" * 32, MODEL_NAME)
    except ValueError as exc:
        print("Refused, as it should be:", exc)

# %% [markdown]
# ## 3. Aliases: which version plays which role
#
# An **alias** is a name for one version of a registered model, chosen by you: `champion` for
# the one in production, `challenger` for the one being evaluated. Code that serves or scores
# loads `models:/<name>@champion`; **promoting** a new version is moving the alias, and nothing
# in the serving code changes. An alias points at exactly one version at a time (setting it
# again moves it); a version may carry several aliases.

# %%
client.set_registered_model_alias(MODEL_NAME, "champion", v_logreg)

with tempfile.TemporaryDirectory() as tmp:  # load_model downloads the files: keep them tidy
    champion = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion", dst_path=tmp)
    print("champion predicts:", champion.predict(X_test.head(5)))

print("champion is version", client.get_model_version_by_alias(MODEL_NAME, "champion").version)
print("aliases:", client.get_registered_model(MODEL_NAME).aliases)

# %% [markdown]
# Moving an alias is one call. It is also all a *promotion* does, which is why it needs a
# record: who moved it, why, and where it pointed before. Without that record, "roll back to the
# previous champion" means guessing. That is exercise 2.2.
#
# ### Bad input changes nothing
#
# Every function of this module follows one pattern: **look everything up, then write**. The
# lookups raise MLflow's `MlflowException` for what does not exist; turn it into a
# `ValueError` that says what was missing (`raise ValueError(...) from exc` keeps MLflow's
# message too). Then write, in the order that fails safely: MLflow refuses some alias names
# (`latest` and `v<digits>` are reserved), so move the alias before anything that depends on
# it. On a registered model that does not exist, and on a reserved alias:


# %%
def describe_model(name: str) -> str:
    """A registered model's description, or a ValueError when there is no such model."""
    try:
        return client.get_registered_model(name).description
    except mlflow.exceptions.MlflowException as exc:
        raise ValueError(f"There is no registered model named {name!r}.") from exc


try:
    describe_model(naming.model_name("no-such-model"))
except ValueError as exc:
    print("ValueError:", exc)
try:
    client.set_registered_model_alias(MODEL_NAME, "latest", v_stump)
except mlflow.exceptions.MlflowException as exc:
    print("refused:", str(exc).splitlines()[0][:90])

# %% [markdown]
# ### Exercise 2.2: Promote a version to an alias
#
# Write `promote_to_alias(model_name, version, *, alias="champion", promoted_by=None,
# reason="", tracking_uri=None)`: move the alias to `version` and tag that version
# `promoted_by`, `promotion_reason` and `previous_version` (the version that held the alias
# before, or `"none"`). Return the previous version (or None). When the version already holds
# the alias, change nothing. Check with `mlops_course.check("2.2")`.

# %%
registry = target.load("registry")
try:
    previous = registry.promote_to_alias(
        MODEL_NAME, v_forest, reason="best f1_macro on the test set"
    )
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    print(f"champion moved from v{previous} to v{v_forest}")
    print("aliases:", client.get_registered_model(MODEL_NAME).aliases)
    print("tags:   ", client.get_model_version(MODEL_NAME, v_forest).tags)

# %% [markdown]
# ## 4. Stages: the legacy you will meet in older code
#
# Before aliases (MLflow 2.3), a version had one **stage**: `None`, `Staging`, `Production` or
# `Archived`, set with `transition_model_version_stage` and loaded with
# `models:/<name>/Production`. Stages are **deprecated since MLflow 2.9**: they still work with
# a warning, but `search_model_versions` no longer filters on them, and a fixed list of four
# cannot say "the challenger for the EU shop". We run the old call once, to recognise it:

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    client.transition_model_version_stage(MODEL_NAME, v_stump, stage="Archived")
for warning in caught[:1]:
    print(f"{warning.category.__name__}: {str(warning.message).splitlines()[0][:110]}")
print("stage of the stump:", client.get_model_version(MODEL_NAME, v_stump).current_stage)

# %% [markdown]
# How to read old code with today's API:
#
# | legacy (stages) | today (aliases and tags) |
# |---|---|
# | `transition_model_version_stage(name, v, "Production")` | `set_registered_model_alias(name, "champion", v)` |
# | `transition_model_version_stage(name, v, "Staging")` | `set_registered_model_alias(name, "challenger", v)` |
# | `archive_existing_versions=True` | nothing to do: moving an alias leaves the old version without it |
# | stage `Archived` | no alias, and a tag such as `status=archived` if you want to say so |
# | `models:/name/Production` | `models:/name@champion` |
# | `get_latest_versions(name, stages=["Production"])` | `get_model_version_by_alias(name, "champion")` |
# | `search_model_versions("current_stage='Production'")` | refused now; search on `tags.` instead |

# %% [markdown]
# ## 5. An approval workflow
#
# In a team, nobody moves `champion` by hand on a Friday evening. A safer routine:
#
# 1. a new candidate is registered and gets the alias `challenger`;
# 2. it is validated (here, the metrics of its run; in module 04, a fresh validation set), and
#    the result is recorded as **version tags**, so the decision can be audited later;
# 3. it is promoted to `champion` only when its metric meets a **threshold** *and* beats the
#    current champion;
# 4. the previous champion is recorded, so a rollback is one command.
#
# Steps 1 and 2 by hand, for a better-tuned logistic regression:

# %%
tuned_run_id, _ = train_and_log(LogisticRegression(C=1.0, max_iter=300), "logreg-tuned")
v_tuned = mlflow.register_model(f"runs:/{tuned_run_id}/model", MODEL_NAME).version
client.set_registered_model_alias(MODEL_NAME, "challenger", v_tuned)

challenger_metrics = client.get_run(tuned_run_id).data.metrics
client.set_model_version_tag(
    MODEL_NAME, v_tuned, "validation_accuracy", f"{challenger_metrics['accuracy']:.4f}"
)
client.set_model_version_tag(MODEL_NAME, v_tuned, "validation_status", "pending")
print(f"challenger v{v_tuned}:", challenger_metrics)
print("aliases:", client.get_registered_model(MODEL_NAME).aliases)

# %% [markdown]
# ### Exercise 2.3: Promote automatically when a metric is good enough
#
# Write `auto_promote(model_name, version, *, metric, threshold, alias="champion",
# greater_is_better=True, promoted_by=None, tracking_uri=None)`. It reads `metric` from the
# version's run, and promotes (as in 2.2, with a reason naming the metric) only when the value
# meets the threshold and strictly beats the current holder of the alias; it returns whether it
# promoted. A metric the run did not log is a `ValueError`, and nothing changes. With
# `greater_is_better=False` (for errors such as `rmse`) both comparisons flip. Check with
# `mlops_course.check("2.3")`.

# %%
registry = target.load("registry")
try:
    promoted = registry.auto_promote(MODEL_NAME, v_tuned, metric="accuracy", threshold=0.9)
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    status = "approved" if promoted else "rejected"
    client.set_model_version_tag(MODEL_NAME, v_tuned, "validation_status", status)
    print(f"v{v_tuned} {status}; aliases: {client.get_registered_model(MODEL_NAME).aliases}")
    if promoted:
        print("reason:", client.get_model_version(MODEL_NAME, v_tuned).tags["promotion_reason"])

# %% [markdown]
# Did the tuned model win? If it only *ties* the champion on this small test set, the gate says
# no: a tie is not evidence of an improvement, and every promotion carries a risk. Its
# `validation_status` tag records the decision either way, so `find_versions` (exercise 2.6)
# can list the rejected challengers later.

# %% [markdown]
# ## 6. Comparing versions side by side
#
# A version's metrics live in its run: `client.get_run(version.run_id).data.metrics`. Put two
# versions in one table, one column each, and the difference shows at a glance:

# %%
champion_version = client.get_model_version_by_alias(MODEL_NAME, "champion").version
pair = [v_logreg, champion_version] if champion_version != v_logreg else [v_logreg, v_forest]
side_by_side = pd.DataFrame(
    {
        f"v{v}": client.get_run(client.get_model_version(MODEL_NAME, v).run_id).data.metrics
        for v in pair
    }
)
side_by_side

# %% [markdown]
# ### Exercise 2.4: Compare versions side by side
#
# Write `compare_versions(model_name, versions, *, metrics=None, tracking_uri=None)`: a
# DataFrame with one column per version (labelled `"1"`, `"2"`, in the given order) and one row
# per metric (index named `metric`; all metrics, sorted, when `metrics` is None), NaN where a
# run did not log a metric; `ValueError` for an unknown version, or a metric no run logged. The
# cell draws it as a bar plot. Check with `mlops_course.check("2.4")`.

# %%
registry = target.load("registry")
try:
    table = registry.compare_versions(MODEL_NAME, [v_logreg, v_stump, v_forest, v_tuned])
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    display(table.round(3))
    ax = table.plot.bar(figsize=(7, 3.5), rot=0)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("on the test set")
    ax.set_title(f"{MODEL_NAME}: versions compared")
    ax.legend(title="version", loc="lower right")
    plt.show()

# %% [markdown]
# The stump (one split) is far behind: it can only separate one species from the other two.
# The others are close; on 38 test flowers, one flower is 2.6 points of accuracy.

# %% [markdown]
# ## 7. Rolling back
#
# The new champion misbehaves in production (a data pipeline feeds it centimetres instead of
# millimetres, say). The fastest fix is not a new model: it is to point `champion` back at the
# version that worked. Since every promotion recorded `previous_version`, a rollback knows where
# to go, and serving code that loads `models:/<name>@champion` picks it up on its next load.

# %% [markdown]
# ### Exercise 2.5: Roll back to the previous champion
#
# Write `rollback(model_name, *, alias="champion", to_version=None, rolled_back_by=None,
# reason="", tracking_uri=None)`: move the alias to `to_version`, or to the current holder's
# `previous_version` tag, tag the demoted version `rolled_back_by` and `rollback_reason`, and
# return the version now holding the alias. No previous version, or one that was deleted, is a
# `ValueError`, and nothing changes. Check with `mlops_course.check("2.5")`.

# %%
registry = target.load("registry")
try:
    before = client.get_registered_model(MODEL_NAME).aliases.get("champion")
    now = registry.rollback(MODEL_NAME, reason="drill: practise the rollback")
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
except ValueError as exc:
    print(f"Nothing to roll back to: {exc}")
else:
    print(f"champion: v{before} -> v{now}")
    print("demoted version's tags:", client.get_model_version(MODEL_NAME, before).tags)

# %% [markdown]
# ## 8. Searching the registry
#
# `search_model_versions` filters on `name`, `run_id`, `version_number`, `source_path` and
# `tags.<key>`, joined with `AND` (no `OR`); `search_registered_models` filters on `name`
# (`LIKE` works: your namespace is `'<you>.%'`) and `tags.<key>`. Both return pages: pass
# `max_results` and then `page_token=page.token` for the next page, rather than fetching
# versions one by one.

# %%
forests = client.search_model_versions(
    f"name = '{MODEL_NAME}' AND tags.candidate = 'forest'", order_by=["version_number ASC"]
)
print("forest versions:", [v.version for v in forests])

# check() makes a model per test in your namespace (`<you>.grading-...`): show the newest few.
mine = client.search_registered_models(
    filter_string=f"name LIKE '{naming.student()}.%'",
    order_by=["last_updated_timestamp DESC"],
    max_results=5,
)
print("my most recently updated models:", [m.name for m in mine])

page = client.search_model_versions(
    f"name = '{MODEL_NAME}'", order_by=["version_number DESC"], max_results=2
)
print("first page:", [v.version for v in page], "next page token:", bool(page.token))

# %% [markdown]
# **Quotes in filter strings.** A tag key with a dot needs backquotes: ``tags.`data.source` ``.
# A value goes between quotes, and MLflow's filter strings have *no escape character*:
# `'O''Brien'` and `'O\'Brien'` find nothing. A value that contains `'` goes between double
# quotes instead, one that contains `"` between single quotes; one with both cannot be written
# at all, so search on the other conditions and compare the tags of what comes back. On the
# registered model's tags (exercise 2.6 searches versions):

# %%
client.set_registered_model_tag(MODEL_NAME, "owner", "Anne O'Neil")
for filter_string in (
    f"name = '{MODEL_NAME}' AND tags.owner = 'Anne O''Neil'",
    f"name = '{MODEL_NAME}' AND tags.owner = \"Anne O'Neil\"",
):
    found = client.search_registered_models(filter_string=filter_string)
    print(f"{filter_string.split(' AND ')[1]:<30} finds {[m.name for m in found]}")

# %% [markdown]
# ### Exercise 2.6: Find versions by tag
#
# Write `find_versions(model_name, *, tags=None, tracking_uri=None)`: the versions of the model
# whose tags include every `key: value` of `tags`, found by the server's search (not by reading
# every version), as strings in numeric order (`"2"` comes before `"10"`). Keys may contain
# dots, values quotes. Check with `mlops_course.check("2.6")`.

# %%
registry = target.load("registry")
try:
    promoted_by_me = registry.find_versions(MODEL_NAME, tags={"promoted_by": naming.student()})
    rejected = registry.find_versions(MODEL_NAME, tags={"validation_status": "rejected"})
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    print("versions you promoted:", promoted_by_me)
    print("rejected challengers: ", rejected)

# %% [markdown]
# **In the UI:** open the UI address printed by the setup cell and click **Models** (top of the
# page). Each registered model is one row, with its latest version and its aliases. Click
# `<you>.iris-classifier`: the description, the tags, and the versions table with an
# **Aliases** column (`@champion`, `@challenger`). Click a version: its source run (one click to
# its parameters and metrics), its description and tags, and the aliases you can add or move by
# hand.
#
# **In a terminal:** the course's reference tool does the same with the solutions:
# `mlops-course registry list`, `details`, `compare`, and `promote`, `auto-promote`, `rollback`
# (they ask for confirmation unless `--yes`; `--json` prints for scripts;
# `mlops-course registry --help` lists them all). With your model's name filled in, ready to
# paste into a terminal at the root of the repository:

# %%
for command in (
    "mlops-course registry list",
    f"mlops-course registry details {MODEL_NAME}",
    f"mlops-course registry compare {MODEL_NAME} {v_logreg} {v_forest}",
):
    print(command)

# %% [markdown]
# ## 9. Putting it together: a champion you can trust
#
# Everything so far, in one routine: train a few candidates, register them, judge them all on
# the same held-out data (never on the data they were trained on, and including the versions
# already there), put `champion` on the best, and make sure a rollback has somewhere to go.
# Section 6 compared versions by the metrics their runs logged; a metric logged by someone else
# may describe other data, so to judge fairly, score every version yourself. Loading a version
# and scoring it, here the stump on the iris test set:

# %%
with tempfile.TemporaryDirectory() as tmp:
    stump = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{v_stump}", dst_path=tmp)
print(f"v{v_stump} (stump): held-out accuracy {accuracy_score(y_test, stump.predict(X_test)):.3f}")

# %% [markdown]
# ### Exercise 2.7: Set up a champion you can trust, and a way back
#
# An open exercise: write `set_up_flowers_champion(model_name=None, *, experiment_name=None,
# tracking_uri=None)` any way you like (your functions 2.1 to 2.5 may help). When it returns,
# `models:/<you>.flowers@champion` must serve the version with the best accuracy on the test
# part of `data.split(X, y)` among all the versions of the model (at least two, not all
# alike), and the champion's `previous_version` must name another version, so that a rollback
# would succeed. The grader checks only that outcome. Check with `mlops_course.check("2.7")`.

# %%
registry = target.load("registry")
try:
    flowers = registry.set_up_flowers_champion()
except NotImplementedError as exc:
    print(f"Not started yet: {exc}")
else:
    champion_mv = client.get_model_version_by_alias(flowers, "champion")
    print(f"{flowers}@champion is v{champion_mv.version}; tags: {champion_mv.tags}")

# %% [markdown]
# ## Grade all of module 02
#
# One cell grades the seven exercises, in a separate process, against what your code really
# does to the registry (grade one with, e.g., `mlops_course.check("2.3")` or
# `mlops-course grade 2.3`).

# %%
mlops_course.check("2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7")

# %% [markdown]
# ## Recap
#
# - A **registered model** names a model; each registration adds a **version** (1, 2, 3, ...)
#   linked to its run. Register from `runs:/<run_id>/model`, from `models:/m-...`, or at log
#   time with `registered_model_name=`.
# - **Descriptions** and **tags** exist on models and versions; tags are searchable.
# - **Aliases** (`champion`, `challenger`) are movable pointers: load `models:/<name>@champion`,
#   promote by moving the alias, roll back by moving it back. Record who, why and the previous
#   version as tags, so a rollback is one step.
# - **Stages** are the deprecated way: read `Production` as `@champion`, `Staging` as
#   `@challenger`.
# - An approval gate promotes only when a metric meets a threshold *and* beats the champion;
#   anything invalid changes nothing.
# - `search_model_versions` / `search_registered_models` filter on names and tags, and page with
#   `max_results` and `page_token`; filter strings have no escape character, so a value with
#   `'` goes between double quotes.
# - A champion you can trust is judged on held-out data against every version, and always
#   has a recorded way back.
#
# **Next:** `03_serving`: serve `models:/<name>@champion` over HTTP.

# %% [markdown]
# ## Self-check quiz
#
# Put the letter of your answer in `answers` and run the two cells. Each answer, right or wrong,
# comes with a sentence on why, and a wrong one names the section to re-read. (The key is in
# `authors/quizzes/02.toml`, out of sight here: answer first.)
#
# **q1.** Your serving code should always use the production model. Which URI does it load?
# (a) `runs:/<run_id>/model` (b) `models:/<name>@champion` (c) `models:/<name>/3`
# (d) `models:/<name>/Production`
#
# **q2.** You call `set_registered_model_alias(name, "champion", "4")` while version 2 holds
# `champion`. Afterwards:
# (a) versions 2 and 4 both hold `champion` (b) MLflow refuses: remove the alias first
# (c) only version 4 holds `champion` (d) version 2 is deleted
#
# **q3.** `mlflow.register_model("runs:/<id>/model", name)` with a run id that does not exist:
# (a) fails, but leaves an empty registered model `name` behind (b) fails and changes nothing
# (c) registers an empty version (d) creates the run
#
# **q4.** An old tutorial calls `transition_model_version_stage(name, v, "Staging")`. Today you
# would write:
# (a) `update_model_version(name, v, description="Staging")` (b) `delete_model_version(name, v)`
# (c) `search_model_versions("current_stage='Staging'")`
# (d) `set_registered_model_alias(name, "challenger", v)`
#
# **q5.** The gate is "accuracy ≥ 0.9 and better than the champion". The champion has 0.93, the
# candidate 0.92. What happens?
# (a) promoted: it meets the threshold (b) not promoted, nothing changes
# (c) promoted as `champion2` (d) the champion is demoted and no version holds the alias

# %%
answers = {
    "q1": None,  # e.g. "a"
    "q2": None,
    "q3": None,
    "q4": None,
    "q5": None,
}

# %%
from mlops_course.quiz import check_quiz

check_quiz("02", answers)
