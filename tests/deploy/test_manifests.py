"""Offline checks of the Kubernetes manifests (deploy/k8s) and of docker-compose.yml.

No cluster, no Docker, no network:

- The overlays are rendered by `render()` below, a small implementation of the subset of
  kustomize they use (resources, namespace, images, strategic-merge patches from files,
  ConfigMap/Secret generators with kustomize's name-suffix hash). Anything else in a
  kustomization.yaml fails the test, so the overlays stay within what is checked here. Where a
  real kustomize is on PATH (`kustomize`, or `kubectl kustomize`), its output must equal ours.
- Every rendered object of a built-in kind is validated against the Kubernetes OpenAPI schemas
  shipped by kubernetes-validate (K8S_VERSION, strict: unknown fields fail). Custom resources
  (KEDA, RabbitMQ and MongoDB operators) have no schema there: they get structural checks
  (apiVersion/kind/required fields/types/cross-references) plus schema validation of the
  Kubernetes types they embed (affinity, resources, HPA behavior...).
- Every environment variable a service's settings class reads (found by introspecting the
  pydantic-settings classes at run time) must be set for that service in docker-compose.yml and
  in every overlay, unless listed in LEFT_TO_DEFAULT with a reason.
"""

from __future__ import annotations

import ast
import base64
import copy
import functools
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import schema_contents
from pydantic import AliasChoices
from pydantic_settings import BaseSettings
from referencing import Registry, Resource

from services.delivery.config import DeliverySettings
from services.intake.config import IntakeSettings
from services.sorting.config import SortingSettings
from shared.settings import InfraSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = {"local": K8S / "overlays" / "local", "production": K8S / "overlays" / "production"}
INFRASTRUCTURE = K8S / "infrastructure"
COMPOSE = ROOT / "docker-compose.yml"
README = K8S / "README.md"

# The Kubernetes version the manifests target: a recent one that kubernetes-validate ships
# schemas for (its data has v1.25 .. v1.37). Managed clusters commonly run it.
K8S_VERSION = "1.34.0"

SERVICES: dict[str, type[BaseSettings]] = {
    "intake": IntakeSettings,
    "sorting": SortingSettings,
    "delivery": DeliverySettings,
}
IMAGE = "letters-backend"

# Variables a service's settings read that are deliberately left to the code's default, per
# target ("compose" or an overlay name), with the reason. Prefer setting everything: a default
# that silently differs between compose and Kubernetes is what this test exists to catch.
# The render pool's size follows the CPU limit each deployment gives the container.
_RENDER_PROCESSES = {"SORTING_RENDER_PROCESSES": "follows the container's CPU limit and cores (services/sorting/render_pool.py usable_cores)"}
# How old a facility's rules may be before the monitor lists them: an organiser's habit, the same everywhere.
_FACILITY_AGE = {"INTAKE_FACILITY_RULES_MAX_AGE_DAYS": "a campaign habit (180 days), not a deployment's choice"}
# The queue policies come from the broker's definitions (compose) and the Policy resources
# (Kubernetes); the management URL is for a deployment that has neither.
_MANAGEMENT_URL = {"RABBITMQ_MANAGEMENT_URL": "the policies are in the definitions / Policy resources already"}
# The sweepers' deadlines (services/*/sweeper.py): how long a letter may wait in each state before an
# operator is told, the same campaign habit everywhere; the tests set them short.
_SWEEP = {f"{service}_SWEEP_{name}": "the sweeper's deadlines are a campaign habit, not a deployment's choice"
          for service, names in {
              "INTAKE": ("INTERVAL_S", "UNPUBLISHED_AFTER_S", "UNSORTED_AFTER_S", "UNQUEUED_AFTER_S"),
              "SORTING": ("INTERVAL_S", "UNPUBLISHED_AFTER_S", "UNSORTED_AFTER_S", "UNRELEASED_AFTER_S",
                          "UNDECIDED_AFTER_DAYS", "UNTRANSLATED_AFTER_DAYS"),
              "DELIVERY": ("INTERVAL_S", "UNPUBLISHED_AFTER_S", "BUNDLE_MARGIN_S", "UNSENT_AFTER_S",
                           "UNCONFIRMED_AFTER_DAYS"),
          }.items() for name in names}
LEFT_TO_DEFAULT: dict[str, dict[str, str]] = {
    "compose": {**_RENDER_PROCESSES, **_FACILITY_AGE, **_MANAGEMENT_URL, **_SWEEP},
    "local": {**_RENDER_PROCESSES, **_FACILITY_AGE, **_MANAGEMENT_URL, **_SWEEP},
    "production": {**_RENDER_PROCESSES, **_FACILITY_AGE, **_MANAGEMENT_URL, **_SWEEP},
}


# ---------------------------------------------------------------------------------------------
# Constants of the code, read from the source (no import of the broker or web stack needed)
# ---------------------------------------------------------------------------------------------


def module_constant(relative_path: str, name: str) -> object:
    tree = ast.parse((ROOT / relative_path).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == name for target in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in {relative_path}")


GRACEFUL_TIMEOUT_S = float(module_constant("shared/broker.py", "GRACEFUL_TIMEOUT_S"))
STARTUP_DEADLINE_S = float(module_constant("shared/service.py", "STARTUP_DEADLINE_S"))


# ---------------------------------------------------------------------------------------------
# A small kustomize: the subset the overlays use
# ---------------------------------------------------------------------------------------------

KUSTOMIZATION_KEYS = {
    "apiVersion",
    "kind",
    "namespace",
    "resources",
    "images",
    "patches",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
}
GENERATOR_KEYS = {"name", "behavior", "literals", "envs", "options", "type"}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
}
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
# Strategic-merge keys of the built-in list fields the patches may touch.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
}


class UnsupportedKustomization(AssertionError):
    pass


class Item:
    """One object during a build; generated ConfigMaps/Secrets keep their name until the end."""

    def __init__(self, obj: dict, *, generated_name: str | None = None, hashed: bool = False) -> None:
        self.obj = obj
        self.generated_name = generated_name
        self.hashed = hashed

    @property
    def name(self) -> str:
        return self.generated_name or self.obj["metadata"]["name"]


def load_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def is_builtin(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def build(directory: Path) -> list[Item]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - KUSTOMIZATION_KEYS
    if unknown:
        raise UnsupportedKustomization(
            f"{directory}: {sorted(unknown)} not supported by the test's renderer (tests/deploy)"
        )
    items: list[Item] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        items += build(path) if path.is_dir() else [Item(doc) for doc in load_documents(path)]
    options = kustomization.get("generatorOptions", {})
    for kind, key in (("ConfigMap", "configMapGenerator"), ("Secret", "secretGenerator")):
        for generator in kustomization.get(key, []):
            generate(items, kind, generator, directory, options)
    for patch in kustomization.get("patches", []):
        if set(patch) != {"path"}:
            raise UnsupportedKustomization(f"{directory}: only `patches: - path: FILE` is supported")
        for document in load_documents(directory / patch["path"]):
            apply_patch(items, document)
    for image in kustomization.get("images", []):
        for item in items:
            set_image(item.obj, image)
    if namespace := kustomization.get("namespace"):
        for item in items:
            if item.obj["kind"] not in CLUSTER_SCOPED:
                item.obj["metadata"]["namespace"] = namespace
    return items


def read_env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path}: not KEY=VALUE: {line!r}"
            pairs[key.strip()] = value
    return pairs


def generate(items: list[Item], kind: str, generator: dict, directory: Path, options: dict) -> None:
    unknown = set(generator) - GENERATOR_KEYS
    if unknown:
        raise UnsupportedKustomization(f"{directory}: generator fields {sorted(unknown)} not supported")
    data: dict[str, str] = {}
    for literal in generator.get("literals", []):
        key, sep, value = literal.partition("=")
        assert sep, f"{directory}: literal without '=': {literal!r}"
        if value[:1] in ("'", '"'):
            raise UnsupportedKustomization(f"{directory}: quoted literal {literal!r}: leave values unquoted")
        data[key] = value
    for env_file in generator.get("envs", []):
        data.update(read_env_file(directory / env_file))
    if kind == "Secret":
        data = {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}
    name = generator["name"]
    behavior = generator.get("behavior", "create")
    if behavior == "create":
        obj: dict = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}, "data": data}
        if kind == "Secret":
            obj["type"] = generator.get("type", "Opaque")
        disabled = options.get("disableNameSuffixHash") or generator.get("options", {}).get(
            "disableNameSuffixHash"
        )
        items.append(Item(obj, generated_name=name, hashed=not disabled))
        return
    targets = [item for item in items if item.obj["kind"] == kind and item.name == name]
    assert len(targets) == 1, f"{directory}: {behavior} of {kind} {name}: no single base object to {behavior}"
    target = targets[0].obj
    if behavior == "merge":
        target.setdefault("data", {}).update(data)
    elif behavior == "replace":
        target["data"] = data
    else:
        raise UnsupportedKustomization(f"{directory}: generator behavior {behavior!r}")


def apply_patch(items: list[Item], patch: dict) -> None:
    kind, name = patch["kind"], patch["metadata"]["name"]
    targets = [item for item in items if item.obj["kind"] == kind and item.name == name]
    assert len(targets) == 1, f"patch of {kind} {name}: {len(targets)} targets"
    target = targets[0]
    if patch.get("$patch") == "delete":
        items.remove(target)
        return
    merge(target.obj, patch, builtin=is_builtin(target.obj["apiVersion"]))


def merge(target: dict, patch: dict, *, builtin: bool) -> None:
    for key, value in patch.items():
        if key.startswith("$"):
            raise UnsupportedKustomization(f"patch directive {key} not supported")
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value, builtin=builtin)
        elif builtin and isinstance(value, list) and isinstance(target.get(key), list) and key in MERGE_KEYS:
            merge_key = MERGE_KEYS[key]
            added = []
            for element in value:
                match = next((t for t in target[key] if t.get(merge_key) == element.get(merge_key)), None)
                if match is None:
                    added.append(copy.deepcopy(element))
                else:
                    merge(match, element, builtin=builtin)
            # As kustomize does: elements the patch adds come before the ones it found.
            target[key][:0] = added
        else:
            # Lists of custom resources (no schema) and lists without a merge key are replaced.
            target[key] = copy.deepcopy(value)


def image_name(reference: str) -> str:
    reference = reference.split("@", 1)[0]
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    return reference[:colon] if colon > slash else reference


def set_image(node: object, image: dict) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                for container in value:
                    if (
                        isinstance(container, dict)
                        and image_name(container.get("image", "")) == image["name"]
                    ):
                        old = container["image"]
                        new = image.get("newName", image["name"])
                        if "digest" in image:
                            new += "@" + image["digest"]
                        elif "newTag" in image:
                            new += ":" + str(image["newTag"])
                        elif old != image_name(old):
                            new += old[len(image_name(old)) :]
                        container["image"] = new
            set_image(value, image)
    elif isinstance(node, list):
        for element in node:
            set_image(element, image)


def go_json(value: object) -> str:
    """json.Marshal's output: sorted keys, no spaces, UTF-8, HTML characters escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def name_suffix_hash(obj: dict) -> str:
    # kustomize api/hasher: kind, data (and type for Secrets); the name it looks up is empty.
    encoded: dict = {"kind": obj["kind"], "name": "", "data": obj.get("data", {})}
    if obj["kind"] == "Secret":
        encoded["type"] = obj["type"]
    digest = hashlib.sha256(go_json(encoded).encode()).hexdigest()[:10]
    return digest.translate(str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"}))


def rewrite_references(node: object, renames: dict[tuple[str, str], str]) -> None:
    if isinstance(node, dict):
        refs = {
            "configMapRef": ("ConfigMap", "name"),
            "configMapKeyRef": ("ConfigMap", "name"),
            "configMap": ("ConfigMap", "name"),
            "secretRef": ("Secret", "name"),
            "secretKeyRef": ("Secret", "name"),
            "secret": ("Secret", "secretName"),
        }
        for key, value in node.items():
            if key in refs and isinstance(value, dict):
                kind, field = refs[key]
                if (kind, value.get(field)) in renames:
                    value[field] = renames[(kind, value[field])]
            elif key == "imagePullSecrets" and isinstance(value, list):
                for ref in value:
                    if ("Secret", ref.get("name")) in renames:
                        ref["name"] = renames[("Secret", ref["name"])]
            rewrite_references(value, renames)
    elif isinstance(node, list):
        for element in node:
            rewrite_references(element, renames)


def render(directory: Path) -> list[dict]:
    items = build(directory)
    renames = {}
    for item in items:
        if item.hashed:
            new_name = f"{item.generated_name}-{name_suffix_hash(item.obj)}"
            renames[(item.obj["kind"], item.generated_name)] = new_name
            item.obj["metadata"]["name"] = new_name
    for item in items:
        if item.obj["kind"] in WORKLOAD_KINDS:
            rewrite_references(item.obj, renames)
    return [item.obj for item in items]


@functools.cache
def _rendered(directory: Path) -> tuple[dict, ...]:
    return tuple(render(directory))


def rendered(directory: Path) -> list[dict]:
    return copy.deepcopy(list(_rendered(directory)))


# ---------------------------------------------------------------------------------------------
# Helpers over rendered objects
# ---------------------------------------------------------------------------------------------


def find(objs: list[dict], kind: str, name: str) -> dict | None:
    matches = [obj for obj in objs if obj["kind"] == kind and obj["metadata"]["name"] == name]
    assert len(matches) <= 1, f"{len(matches)} objects {kind}/{name}"
    return matches[0] if matches else None


def generated(objs: list[dict], kind: str, base_name: str) -> dict | None:
    """A generated object by its name before the hash suffix."""
    for obj in objs:
        name = obj["metadata"]["name"]
        if obj["kind"] == kind and (
            name == base_name or re.fullmatch(rf"{re.escape(base_name)}-[a-z0-9]{{10}}", name)
        ):
            return obj
    return None


def of_kind(objs: list[dict], *kinds: str) -> list[dict]:
    return [obj for obj in objs if obj["kind"] in kinds]


def workload_pods(objs: list[dict]) -> Iterator[tuple[dict, dict]]:
    for obj in of_kind(objs, "Deployment", "StatefulSet"):
        yield obj, obj["spec"]["template"]


def service_container(objs: list[dict], service: str) -> tuple[dict, dict]:
    deployment = find(objs, "Deployment", service)
    assert deployment is not None, f"no Deployment {service}"
    containers = {c["name"]: c for c in deployment["spec"]["template"]["spec"]["containers"]}
    assert service in containers, f"Deployment {service} has no container {service}"
    return deployment, containers[service]


def secret_keys(objs: list[dict], overlay_dir: Path, name: str) -> dict[str, str | None]:
    """Keys of a Secret: rendered, or (created outside kustomize) documented in NAME.env.example."""
    secret = find(objs, "Secret", name)
    if secret is not None:
        data = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
        return data | dict(secret.get("stringData", {}))
    template = overlay_dir / f"{name}.env.example"
    assert template.exists(), (
        f"Secret {name} is referenced but neither rendered nor documented in {template.relative_to(ROOT)}"
    )
    return {key: None for key in read_env_file(template)}


def container_env(objs: list[dict], overlay_dir: Path, container: dict) -> dict[str, str | None]:
    """What a container's environment will hold: name -> literal value (None for secret values)."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            config_map = find(objs, "ConfigMap", source["configMapRef"]["name"])
            assert config_map is not None, f"ConfigMap {source['configMapRef']['name']} not rendered"
            keys: dict[str, str | None] = dict(config_map.get("data", {}))
        else:
            keys = secret_keys(objs, overlay_dir, source["secretRef"]["name"])
        env.update({prefix + key: value for key, value in keys.items()})
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = str(entry["value"])
        else:
            ref = entry["valueFrom"].get("secretKeyRef") or entry["valueFrom"].get("configMapKeyRef")
            assert ref is not None, f"{entry['name']}: only secretKeyRef/configMapKeyRef are checked"
            if "secretKeyRef" in entry["valueFrom"]:
                keys = secret_keys(objs, overlay_dir, ref["name"])
            else:
                config_map = find(objs, "ConfigMap", ref["name"])
                assert config_map is not None, f"ConfigMap {ref['name']} not rendered"
                keys = dict(config_map.get("data", {}))
            assert ref["key"] in keys, f"{entry['name']}: key {ref['key']} not in {ref['name']}"
            env[entry["name"]] = keys[ref["key"]]
    return env


# ---------------------------------------------------------------------------------------------
# What the settings classes read
# ---------------------------------------------------------------------------------------------


def settings_variables(cls: type[BaseSettings]) -> dict[str, tuple[str, ...]]:
    """Field -> the environment variable names that set it (any one of them)."""
    prefix = cls.model_config.get("env_prefix", "")
    assert not cls.model_config.get("case_sensitive"), "variables are compared upper-case"
    variables: dict[str, tuple[str, ...]] = {}
    for name, field in cls.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            # A nested settings object (IntakeSettings.infra) reads its own variables with its
            # own prefix when its default factory runs.
            variables |= settings_variables(annotation)
            continue
        alias = field.validation_alias or field.alias
        if isinstance(alias, str):
            names: tuple[str, ...] = (alias,)
        elif isinstance(alias, AliasChoices):
            names = tuple(choice for choice in alias.choices if isinstance(choice, str))
        else:
            names = (prefix + name,)
        # (A nested plain BaseModel, unlike nested settings, is one variable holding JSON.)
        variables[f"{cls.__name__}.{name}"] = tuple(n.upper() for n in names)
    return variables


def required_variables(service: str) -> dict[str, tuple[str, ...]]:
    return settings_variables(SERVICES[service])


def known_variables() -> set[str]:
    names = set()
    for cls in (InfraSettings, *SERVICES.values()):
        for choices in settings_variables(cls).values():
            names.update(choices)
    return names


def missing_variables(target: str, service: str, provided: set[str]) -> list[str]:
    provided = {name.upper() for name in provided}
    allowed = LEFT_TO_DEFAULT[target]
    return sorted(
        f"{field} ({' or '.join(names)})"
        for field, names in required_variables(service).items()
        if not provided.intersection(names) and not allowed.keys() & set(names)
    )


def test_settings_introspection_sees_every_class() -> None:
    # Guards the introspection itself: the shared variables and each service's own ones.
    for service, cls in SERVICES.items():
        variables = {n for names in required_variables(service).values() for n in names}
        assert {"AMQP_URL", "MONGODB_URL", "S3_BUCKET"} <= variables
        prefix = cls.model_config["env_prefix"]
        assert f"{prefix}PORT" in variables and f"{prefix}DB" in variables
        assert f"{prefix}INFRA" not in variables, "the nested infra field is not a variable"


# ---------------------------------------------------------------------------------------------
# docker-compose.yml
# ---------------------------------------------------------------------------------------------


@functools.cache
def compose() -> dict:
    # safe_load resolves the anchors and the `<<:` merge keys (x-service, x-service-env).
    return yaml.safe_load(COMPOSE.read_text())


def compose_environment(service: str) -> dict[str, str | None]:
    environment = compose()["services"][service].get("environment", {})
    if isinstance(environment, list):
        return {key: (value if sep else None) for key, sep, value in (e.partition("=") for e in environment)}
    return {key: None if value is None else str(value) for key, value in environment.items()}


@pytest.mark.parametrize("service", SERVICES)
def test_compose_sets_every_variable_the_settings_read(service: str) -> None:
    missing = missing_variables("compose", service, set(compose_environment(service)))
    assert not missing, (
        f"docker-compose.yml, service {service}: environment lacks {missing}. Set them (or list them "
        "in LEFT_TO_DEFAULT['compose'] with the reason)."
    )


@pytest.mark.parametrize("service", SERVICES)
def test_compose_sets_no_unknown_variable(service: str) -> None:
    unknown = sorted(set(compose_environment(service)) - known_variables())
    assert not unknown, f"docker-compose.yml, service {service}: no settings field reads {unknown}"


def test_compose_sorting_has_no_fixed_host_port() -> None:
    # Several sorting replicas (`--scale sorting=3`) cannot share one host port.
    for port in compose()["services"]["sorting"].get("ports", []):
        if isinstance(port, dict):
            assert not port.get("published"), f"sorting publishes a fixed host port: {port}"
            continue
        spec = str(port).split("/")[0]
        parts = spec.rsplit(":", 2) if spec.count(":") >= 2 else spec.split(":")
        host_port = parts[-2] if len(parts) >= 2 else ""
        assert host_port == "", f"sorting publishes a fixed host port: {port!r}"


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------

ALL_TREES = {"base": BASE, **OVERLAYS, "infrastructure": INFRASTRUCTURE}


@functools.cache
def real_kustomize() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        probe = subprocess.run(
            ["kubectl", "kustomize", "--help"], capture_output=True, text=True, timeout=30, check=False
        )
        if probe.returncode == 0:
            return ["kubectl", "kustomize"]
    return None


def keyed(objs: list[dict]) -> dict[tuple[str, str, str], dict]:
    out = {}
    for obj in objs:
        key = (obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        assert key not in out, f"duplicate object {key}"
        out[key] = obj
    return out


@pytest.mark.parametrize("tree", ALL_TREES)
def test_renders(tree: str) -> None:
    objs = rendered(ALL_TREES[tree])
    assert objs
    keyed(objs)  # no duplicates
    if tree in OVERLAYS:
        namespaces = {obj["metadata"].get("namespace") for obj in objs if obj["kind"] != "Namespace"}
        assert len(namespaces) == 1 and None not in namespaces, namespaces
        assert [ns["metadata"]["name"] for ns in of_kind(objs, "Namespace")] == list(namespaces)


@functools.cache
def real_kustomize_outputs() -> dict[str, subprocess.CompletedProcess]:
    """Every tree rendered by the real kustomize, the processes run side by side."""
    command = real_kustomize()
    assert command is not None
    processes = {
        tree: subprocess.Popen(
            [*command, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for tree, path in ALL_TREES.items()
    }
    results = {}
    for tree, process in processes.items():
        stdout, stderr = process.communicate(timeout=60)
        results[tree] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return results


@pytest.mark.parametrize("tree", ALL_TREES)
def test_renderer_matches_real_kustomize(tree: str) -> None:
    command = real_kustomize()
    if command is None:
        pytest.skip("no kustomize or kubectl on PATH: the test's renderer alone is used")
    result = real_kustomize_outputs()[tree]
    assert result.returncode == 0, f"{' '.join(command)} {tree} failed:\n{result.stderr}"
    theirs = keyed([doc for doc in yaml.safe_load_all(result.stdout) if doc])
    ours = keyed(rendered(ALL_TREES[tree]))
    assert sorted(ours) == sorted(theirs)
    for key in ours:
        assert ours[key] == theirs[key], f"{tree}: {key} differs from {' '.join(command)}"


def test_renderer_rejects_what_it_does_not_implement(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: []\ncommonLabels: {a: b}\n")
    with pytest.raises(UnsupportedKustomization):
        render(tmp_path)


# ---------------------------------------------------------------------------------------------
# Schema validation (built-in kinds) and structural checks (custom resources)
# ---------------------------------------------------------------------------------------------


# kubernetes-validate's strict schemas (additionalProperties: false), for K8S_VERSION.
SCHEMA_DIRECTORY = (
    f"kubernetes-json-schema/v{kubernetes_validate.utils.major_minor(K8S_VERSION)}.0-local-strict"
)


@functools.cache
def definitions_registry() -> tuple[Registry, str]:
    definitions = schema_contents(f"{SCHEMA_DIRECTORY}/_definitions.json", K8S_VERSION)
    return Resource.from_contents(definitions) @ Registry(), definitions["$id"]


@functools.cache
def kind_validator(api_version: str, kind: str) -> jsonschema.Draft202012Validator | None:
    """What kubernetes_validate.validate(obj, K8S_VERSION, strict=True) does, with the 1.5 MB of
    definitions loaded once instead of once per object. None: no schema (not a built-in kind)."""
    # rbac.authorization.k8s.io/v1 -> rbac-v1, apps/v1 -> apps-v1, v1 -> v1 (the library's naming)
    short = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = schema_contents(f"{SCHEMA_DIRECTORY}/{kind.lower()}-{short}.json", K8S_VERSION)
    except FileNotFoundError:
        return None
    registry, _ = definitions_registry()
    return jsonschema.Draft202012Validator(schema, registry=Resource.from_contents(schema) @ registry)


def validate_fragment(fragment: object, definition: str, where: str) -> None:
    """Validate a Kubernetes type embedded in a custom resource (e.g. io.k8s.api.core.v1.Affinity)."""
    registry, definitions_id = definitions_registry()
    schema = {"$ref": f"{definitions_id}#/$defs/{definition}"}
    try:
        jsonschema.Draft202012Validator(schema, registry=registry).validate(fragment)
    except jsonschema.ValidationError as error:
        path = ".".join(str(p) for p in error.absolute_path)
        raise AssertionError(f"{where}: {definition} at {path or '.'}: {error.message}") from None


def require(obj: dict, path: str, kind: type | tuple[type, ...]) -> object:
    node: object = obj
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, (
            f"{obj['kind']}/{obj['metadata']['name']}: {path} missing"
        )
        node = node[part]
    assert isinstance(node, kind), f"{obj['kind']}/{obj['metadata']['name']}: {path} is {type(node).__name__}"
    return node


def check_scaled_object(obj: dict, objs: list[dict], overlay_dir: Path | None) -> None:
    where = f"ScaledObject/{obj['metadata']['name']}"
    target = require(obj, "spec.scaleTargetRef.name", str)
    assert obj["spec"]["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
    assert find(objs, "Deployment", target) is not None, f"{where}: no Deployment {target}"
    low = require(obj, "spec.minReplicaCount", int)
    high = require(obj, "spec.maxReplicaCount", int)
    assert 0 <= low <= high, f"{where}: {low}..{high}"
    require(obj, "spec.pollingInterval", int)
    behavior = obj["spec"].get("advanced", {}).get("horizontalPodAutoscalerConfig", {}).get("behavior")
    if behavior is not None:
        validate_fragment(behavior, "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerBehavior", where)
    triggers = require(obj, "spec.triggers", list)
    assert triggers, f"{where}: no trigger"
    for trigger in triggers:
        assert trigger["type"] == "rabbitmq", trigger
        metadata = trigger["metadata"]
        # KEDA's trigger metadata is map[string]string: a number or a boolean is rejected.
        assert all(isinstance(v, str) for v in metadata.values()), f"{where}: metadata values must be strings"
        assert set(metadata) <= {"protocol", "queueName", "mode", "value", "activationValue", "vhostName"}
        assert metadata["protocol"] in ("amqp", "http", "auto")
        assert metadata["mode"] in ("QueueLength", "MessageRate")
        assert float(metadata["value"]) > 0
        auth = trigger["authenticationRef"]["name"]
        assert find(objs, "TriggerAuthentication", auth) is not None, (
            f"{where}: no TriggerAuthentication {auth}"
        )


def check_trigger_authentication(obj: dict, objs: list[dict], overlay_dir: Path | None) -> None:
    refs = require(obj, "spec.secretTargetRef", list)
    for ref in refs:
        assert {"parameter", "name", "key"} <= set(ref) and all(isinstance(v, str) for v in ref.values())
        if overlay_dir is not None:
            keys = secret_keys(objs, overlay_dir, ref["name"])
            assert ref["key"] in keys, f"TriggerAuthentication: key {ref['key']} not in Secret {ref['name']}"
            if keys[ref["key"]] is not None and ref["parameter"] == "host":
                assert keys[ref["key"]].startswith("amqp://") and keys[ref["key"]].endswith("/")


def check_rabbitmq_cluster(obj: dict, objs: list[dict], overlay_dir: Path | None) -> None:
    where = f"RabbitmqCluster/{obj['metadata']['name']}"
    known = {
        "replicas", "image", "imagePullSecrets", "service", "persistence", "resources", "affinity",
        "tolerations", "rabbitmq", "tls", "override", "skipPostDeploySteps",
        "terminationGracePeriodSeconds", "delayStartSeconds", "secretBackend", "autoEnableAllFeatureFlags",
    }  # fmt: skip
    assert set(obj["spec"]) <= known, f"{where}: unknown spec fields {set(obj['spec']) - known}"
    replicas = require(obj, "spec.replicas", int)
    assert replicas >= 3 and replicas % 2 == 1, f"{where}: quorum queues need an odd count >= 3"
    validate_fragment(obj["spec"]["resources"], "io.k8s.api.core.v1.ResourceRequirements", where)
    validate_fragment(obj["spec"]["affinity"], "io.k8s.api.core.v1.Affinity", where)
    require(obj, "spec.persistence.storage", str)
    config = require(obj, "spec.rabbitmq.additionalConfig", str)
    for line in config.splitlines():
        if line.strip() and not line.strip().startswith("#"):
            assert re.fullmatch(r"\s*[a-z_.0-9]+\s*=\s*\S.*", line), f"{where}: not `key = value`: {line!r}"
    pod_spec = (
        obj["spec"]
        .get("override", {})
        .get("statefulSet", {})
        .get("spec", {})
        .get("template", {})
        .get("spec", {})
    )
    for constraint in pod_spec.get("topologySpreadConstraints", []):
        validate_fragment(constraint, "io.k8s.api.core.v1.TopologySpreadConstraint", where)


def check_mongodb_community(obj: dict, objs: list[dict], overlay_dir: Path | None) -> None:
    where = f"MongoDBCommunity/{obj['metadata']['name']}"
    assert require(obj, "spec.type", str) == "ReplicaSet"
    members = require(obj, "spec.members", int)
    assert members >= 3 and members % 2 == 1, f"{where}: a replica set needs an odd count >= 3"
    assert re.fullmatch(r"\d+\.\d+\.\d+", require(obj, "spec.version", str))
    modes = require(obj, "spec.security.authentication.modes", list)
    assert set(modes) <= {"SCRAM", "SCRAM-SHA-1", "SCRAM-SHA-256", "X509"}
    databases = {cls.model_fields["db"].default for cls in SERVICES.values()}
    for user in require(obj, "spec.users", list):
        for field in ("name", "db", "scramCredentialsSecretName"):
            assert isinstance(user.get(field), str), f"{where}: user.{field}"
        assert isinstance(user["passwordSecretRef"]["name"], str)
        granted = {role["db"] for role in user["roles"] if role["name"] in ("readWrite", "dbOwner")}
        assert databases <= granted, f"{where}: user {user['name']} cannot write {databases - granted}"
    pod_spec = require(obj, "spec.statefulSet.spec.template.spec", dict)
    for container in pod_spec.get("containers", []):
        assert container["name"] in ("mongod", "mongodb-agent"), container["name"]
        validate_fragment(container["resources"], "io.k8s.api.core.v1.ResourceRequirements", where)
    validate_fragment(pod_spec["affinity"], "io.k8s.api.core.v1.Affinity", where)
    for constraint in pod_spec.get("topologySpreadConstraints", []):
        validate_fragment(constraint, "io.k8s.api.core.v1.TopologySpreadConstraint", where)
    for claim in obj["spec"]["statefulSet"]["spec"].get("volumeClaimTemplates", []):
        assert claim["metadata"]["name"] in ("data-volume", "logs-volume"), claim["metadata"]["name"]
        validate_fragment(claim["spec"], "io.k8s.api.core.v1.PersistentVolumeClaimSpec", where)


def check_rabbitmq_access(obj: dict, objs: list[dict], overlay_dir: Path | None) -> None:
    """User, Permission and TopicPermission of the messaging topology operator (deploy/broker_users.py)."""
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    clusters = {o["metadata"]["name"] for o in objs if o["kind"] == "RabbitmqCluster"}
    assert require(obj, "spec.rabbitmqClusterReference.name", str) in clusters, f"{where}: no such cluster"
    if obj["kind"] == "User":
        assert set(obj["spec"]) <= {"rabbitmqClusterReference", "tags", "importCredentialsSecret"}, where
        require(obj, "spec.importCredentialsSecret.name", str)
        return
    users = {o["metadata"]["name"] for o in objs if o["kind"] == "User"}
    assert require(obj, "spec.userReference.name", str) in users, f"{where}: no such User"
    require(obj, "spec.vhost", str)
    fields = {"configure", "write", "read"} if obj["kind"] == "Permission" else {"exchange", "write", "read"}
    assert set(require(obj, "spec.permissions", dict)) == fields, f"{where}: permissions {fields}"
    for name in fields - {"exchange"}:
        re.compile(obj["spec"]["permissions"][name])


def check_rabbitmq_policy(obj: dict, objs: list[dict], overlay_dir: Path | None) -> None:
    """A queue policy of the messaging topology operator (deploy/broker_users.py, shared/topology.py)."""
    where = f"{obj['kind']}/{obj['metadata']['name']}"
    clusters = {o["metadata"]["name"] for o in objs if o["kind"] == "RabbitmqCluster"}
    assert require(obj, "spec.rabbitmqClusterReference.name", str) in clusters, f"{where}: no such cluster"
    assert set(obj["spec"]) <= {"name", "vhost", "pattern", "applyTo", "priority", "definition",
                                "rabbitmqClusterReference"}, where
    re.compile(require(obj, "spec.pattern", str))
    assert require(obj, "spec.applyTo", str) in ("queues", "exchanges", "all", "quorum_queues", "classic_queues",
                                                 "streams"), where
    assert isinstance(require(obj, "spec.definition", dict).get("delivery-limit"), int), where


CUSTOM_RESOURCES: dict[tuple[str, str], Callable[[dict, list[dict], Path | None], None]] = {
    ("rabbitmq.com/v1beta1", "Policy"): check_rabbitmq_policy,
    ("rabbitmq.com/v1beta1", "User"): check_rabbitmq_access,
    ("rabbitmq.com/v1beta1", "Permission"): check_rabbitmq_access,
    ("rabbitmq.com/v1beta1", "TopicPermission"): check_rabbitmq_access,
    ("keda.sh/v1alpha1", "ScaledObject"): check_scaled_object,
    ("keda.sh/v1alpha1", "TriggerAuthentication"): check_trigger_authentication,
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): check_rabbitmq_cluster,
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"): check_mongodb_community,
}


def validate_object(obj: dict, objs: list[dict], overlay_dir: Path | None) -> str:
    key = (obj["apiVersion"], obj["kind"])
    name = f"{obj['kind']}/{obj['metadata']['name']}"
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", obj["metadata"]["name"]), name
    if key in CUSTOM_RESOURCES:
        assert not is_builtin(obj["apiVersion"])
        CUSTOM_RESOURCES[key](obj, objs, overlay_dir)
        return "structural"
    validator = kind_validator(obj["apiVersion"], obj["kind"])
    if validator is None:
        raise AssertionError(
            f"no Kubernetes {K8S_VERSION} schema for {obj['apiVersion']} {obj['kind']}: "
            "a custom resource needs a structural check in CUSTOM_RESOURCES"
        )
    error = jsonschema.exceptions.best_match(validator.iter_errors(obj))
    if error is not None:
        path = ".".join(str(p) for p in error.absolute_path)
        raise AssertionError(f"{name} against Kubernetes {K8S_VERSION}: {path}: {error.message}")
    return "schema"


@pytest.mark.parametrize("tree", ALL_TREES)
def test_manifests_validate(tree: str) -> None:
    objs = rendered(ALL_TREES[tree])
    overlay_dir = ALL_TREES[tree] if tree in OVERLAYS else None
    how = {f"{o['kind']}/{o['metadata']['name']}": validate_object(o, objs, overlay_dir) for o in objs}
    assert "schema" in how.values()


def test_cached_validation_agrees_with_kubernetes_validate() -> None:
    objs = rendered(OVERLAYS["production"])
    for obj in (find(objs, "Deployment", "intake"), find(objs, "PodDisruptionBudget", "sorting")):
        assert kubernetes_validate.validate(obj, K8S_VERSION, strict=True) == "1.34"
    broken = copy.deepcopy(find(objs, "Deployment", "intake"))
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)
    with pytest.raises(AssertionError, match="replicas"):
        validate_object(broken, [], None)


def test_schema_validation_is_strict() -> None:
    # A misspelt field must fail, not be ignored.
    deployment = copy.deepcopy(find(rendered(OVERLAYS["production"]), "Deployment", "intake"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(AssertionError, match="readinesProbe"):
        validate_object(deployment, [], None)
    with pytest.raises(AssertionError, match="Affinity"):
        validate_fragment({"podAntiAfinity": {}}, "io.k8s.api.core.v1.Affinity", "test")


def test_readme_manifests_validate() -> None:
    # The README's YAML examples (the intake HPA) must be valid too.
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.DOTALL)
    objs = [
        doc
        for block in blocks
        for doc in yaml.safe_load_all(block)
        if isinstance(doc, dict) and "kind" in doc
    ]
    assert any(obj["kind"] == "HorizontalPodAutoscaler" for obj in objs), "README: no HPA example"
    production = rendered(OVERLAYS["production"])
    for obj in objs:
        validate_object(obj, production, OVERLAYS["production"])
        if obj["kind"] == "HorizontalPodAutoscaler":
            target = obj["spec"]["scaleTargetRef"]
            assert find(production, target["kind"], target["name"]) is not None


def test_minio_tenant_values() -> None:
    # Helm values, not a resource: check the keys the tenant chart needs.
    values = yaml.safe_load((INFRASTRUCTURE / "minio-tenant-values.yaml").read_text())
    tenant = values["tenant"]
    assert isinstance(tenant["name"], str) and isinstance(tenant["configuration"]["name"], str)
    for pool in tenant["pools"]:
        # Distributed erasure coding needs 4 servers or more.
        assert pool["servers"] >= 4 and pool["volumesPerServer"] >= 1
        assert re.fullmatch(r"\d+[KMGT]i", pool["size"])
        validate_fragment(pool["resources"], "io.k8s.api.core.v1.ResourceRequirements", "minio pool")
        validate_fragment(pool["affinity"], "io.k8s.api.core.v1.Affinity", "minio pool")
    config = generated(rendered(OVERLAYS["production"]), "ConfigMap", "letters-config")
    assert config["data"]["S3_BUCKET"] in {bucket["name"] for bucket in tenant["buckets"]}


# ---------------------------------------------------------------------------------------------
# The services in each overlay
# ---------------------------------------------------------------------------------------------

CASES = [(overlay, service) for overlay in OVERLAYS for service in SERVICES]


@pytest.mark.parametrize(("overlay", "service"), CASES)
def test_manifests_set_every_variable_the_settings_read(overlay: str, service: str) -> None:
    objs = rendered(OVERLAYS[overlay])
    _, container = service_container(objs, service)
    provided = container_env(objs, OVERLAYS[overlay], container)
    missing = missing_variables(overlay, service, set(provided))
    assert not missing, (
        f"overlay {overlay}, service {service}: nothing sets {missing}. Add them to the ConfigMap "
        "letters-config, a Secret or the container's env (or to LEFT_TO_DEFAULT with the reason)."
    )


@pytest.mark.parametrize(("overlay", "service"), CASES)
def test_manifests_set_no_unknown_variable(overlay: str, service: str) -> None:
    objs = rendered(OVERLAYS[overlay])
    _, container = service_container(objs, service)
    unknown = sorted(set(container_env(objs, OVERLAYS[overlay], container)) - known_variables())
    assert not unknown, f"overlay {overlay}, service {service}: no settings field reads {unknown}"


def port_number(container: dict, port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
    assert port in named, f"container {container['name']} has no port named {port}"
    return named[port]


@pytest.mark.parametrize(("overlay", "service"), CASES)
def test_probes_and_ports(overlay: str, service: str) -> None:
    objs = rendered(OVERLAYS[overlay])
    _, container = service_container(objs, service)
    env = container_env(objs, OVERLAYS[overlay], container)
    prefix = SERVICES[service].model_config["env_prefix"]
    own_port = int(env[f"{prefix}PORT"])
    assert own_port == int(compose_environment(service)[f"{prefix}PORT"]), "compose and Kubernetes differ"
    assert env["HOST"] == "0.0.0.0", "the server must listen on the pod's address"
    assert [p["containerPort"] for p in container["ports"]] == [own_port]
    expected = {"startupProbe": "/healthz", "livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for probe, path in expected.items():
        assert probe in container, f"{service}: no {probe}"
        http = container[probe]["httpGet"]
        assert http["path"] == path, f"{service} {probe}: {http['path']}"
        assert port_number(container, http["port"]) == own_port, f"{service} {probe} on another port"
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] > STARTUP_DEADLINE_S, (
        "the startup probe must outlast the services' wait for the infrastructure"
    )
    service_obj = find(objs, "Service", service)
    assert service_obj is not None and service_obj["spec"].get("type", "ClusterIP") == "ClusterIP"
    for port in service_obj["spec"]["ports"]:
        assert port_number(container, port["targetPort"]) == own_port


@pytest.mark.parametrize(("overlay", "service"), CASES)
def test_pod_security_and_shutdown(overlay: str, service: str) -> None:
    objs = rendered(OVERLAYS[overlay])
    deployment, container = service_container(objs, service)
    pod = deployment["spec"]["template"]["spec"]
    pre_stop = (
        container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", ["sleep", "0"])
    )
    assert pre_stop[0] == "sleep"
    # SIGTERM (after the preStop hook) -> stop consuming -> up to GRACEFUL_TIMEOUT_S for handlers.
    needed = max(25.0, int(pre_stop[1]) + GRACEFUL_TIMEOUT_S + 5)
    assert pod["terminationGracePeriodSeconds"] >= needed, f"{service}: SIGKILL before the drain ends"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001, "the image's user (deploy/Dockerfile)"
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]], "a writable /tmp on a read-only root"
    assert pod["enableServiceLinks"] is False, f"Service links would set {service.upper()}_PORT=tcp://..."
    assert pod["automountServiceAccountToken"] is False
    resources = container["resources"]
    for field in ("cpu", "memory"):
        assert field in resources["requests"] and field in resources["limits"]
    name = image_name(container["image"])
    assert name.rsplit("/", 1)[-1] == IMAGE, container["image"]
    tag = container["image"][len(name) + 1 :]
    assert tag and tag != "latest", f"{service}: the image needs a fixed tag (kustomize images:)"


def selects(selector: dict, labels: dict) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels selectors are checked"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


@pytest.mark.parametrize("tree", [*OVERLAYS, "infrastructure"])
def test_every_workload_has_a_disruption_budget(tree: str) -> None:
    objs = rendered(ALL_TREES[tree])
    budgets = of_kind(objs, "PodDisruptionBudget")
    for budget in budgets:
        spec = budget["spec"]
        assert ("minAvailable" in spec) != ("maxUnavailable" in spec), budget["metadata"]["name"]
    for workload, template in workload_pods(objs):
        labels = template["metadata"]["labels"]
        assert selects(workload["spec"]["selector"], labels)
        matching = [b for b in budgets if selects(b["spec"]["selector"], labels)]
        assert len(matching) == 1, f"{workload['kind']}/{workload['metadata']['name']}: {len(matching)} PDBs"
    # The operators' pods are selected by the labels the operators set.
    if tree == "infrastructure":
        selectors = [b["spec"]["selector"]["matchLabels"] for b in budgets]
        assert {"app.kubernetes.io/name": "letters-rabbitmq"} in selectors
        assert {"app": "letters-mongo-svc"} in selectors


def consumed_queue(service: str, namespace: str) -> str:
    """The queue of a service's letters, from the catalogue (shared/topology.py) every subscriber is
    built from. The letters' own queue is the service's first entry; a side queue (sorting's
    withdrawals, the staff tokens) is small and never worth a replica of its own."""
    from shared.topology import service_queues

    queues = service_queues(service, namespace)
    assert queues, f"{service}: no queue in the catalogue"
    return queues[0].full_name


def test_keda_watches_the_queues_the_services_consume() -> None:
    objs = rendered(OVERLAYS["production"])
    namespace = generated(objs, "ConfigMap", "letters-config")["data"]["NAMESPACE"]
    expected = {service: consumed_queue(service, namespace) for service in ("sorting", "delivery")}
    if not namespace:
        assert expected == {"sorting": "sorting.letter-received", "delivery": "delivery.letter-ready"}
    for service, queue in expected.items():
        scaled = find(objs, "ScaledObject", service)
        assert scaled is not None, f"no ScaledObject for {service}"
        assert scaled["spec"]["scaleTargetRef"]["name"] == service
        assert [t["metadata"]["queueName"] for t in scaled["spec"]["triggers"]] == [queue]
        # KEDA's HPA owns the replica count: a fixed one in the Deployment would fight it.
        assert "replicas" not in find(objs, "Deployment", service)["spec"]


def test_replica_counts() -> None:
    production = rendered(OVERLAYS["production"])
    assert find(production, "Deployment", "intake")["spec"]["replicas"] == 3
    scaling = {
        name: (spec["minReplicaCount"], spec["maxReplicaCount"])
        for name in ("sorting", "delivery")
        for spec in [find(production, "ScaledObject", name)["spec"]]
    }
    assert scaling["sorting"] == (2, 10)
    assert scaling["delivery"][0] == 2
    local = rendered(OVERLAYS["local"])
    assert not of_kind(local, "ScaledObject", "TriggerAuthentication"), "local runs without KEDA"
    for service in SERVICES:
        assert find(local, "Deployment", service)["spec"]["replicas"] == 1


def test_production_secrets_stay_out_of_git() -> None:
    # Production Secrets are created outside kustomize from the templates; the templates hold
    # placeholders only, and the filled-in copies are ignored by git.
    objs = rendered(OVERLAYS["production"])
    assert not of_kind(objs, "Secret"), "production renders no Secret"
    templates = sorted(OVERLAYS["production"].glob("*.env.example"))
    assert templates
    for template in templates:
        for key, value in read_env_file(template).items():
            assert "CHANGE_ME" in value, f"{template.name}: {key} must be a placeholder"
    ignored = (OVERLAYS["production"] / ".gitignore").read_text().split()
    assert "*.env" in ignored
    mongo_url = read_env_file(OVERLAYS["production"] / "letters-secrets.env.example")["MONGODB_URL"]
    for option in ("replicaSet=letters-mongo", "w=majority", "retryWrites=true"):
        assert option in mongo_url
