"""Kestra flows use only task types and properties documented by Kestra, and set what stages read.

The allowed property sets are written down from Kestra's docs and plugin sources (no Kestra
runs here to validate against its schema):
- flow keys: kestra.io/docs/workflow-components;
- io.kestra.plugin.docker.Run: kestra-io/plugin-docker src/main/java/io/kestra/plugin/docker/
  Run.java + AbstractDocker.java, plus the core Task keys;
- io.kestra.plugin.core.trigger.Schedule: kestra.io/plugins/core/trigger/io.kestra.plugin.core.trigger.schedule.
"""

from __future__ import annotations

import re

import pytest
from contract_helpers import ROOT, STAGES, built_stages

FLOW_KEYS = {
    "id",
    "namespace",
    "tasks",
    "description",
    "labels",
    "inputs",
    "outputs",
    "variables",
    "triggers",
    "pluginDefaults",
    "errors",
    "finally",
    "afterExecution",
    "retry",
    "sla",
    "concurrency",
    "disabled",
    "revision",
    "deleted",
    "workerGroup",
}
TASK_CORE_KEYS = {
    "id",
    "type",
    "description",
    "retry",
    "timeout",
    "runIf",
    "allowFailure",
    "disabled",
    "logLevel",
    "logToFile",
    "workerGroup",
    "allowWarning",
}
DOCKER_RUN_KEYS = TASK_CORE_KEYS | {
    "containerImage",
    "user",
    "entryPoint",
    "extraHosts",
    "networkMode",
    "portBindings",
    "volumes",
    "pullPolicy",
    "deviceRequests",
    "cpu",
    "memory",
    "shmSize",
    "privileged",
    "env",
    "namespaceFiles",
    "inputFiles",
    "outputFiles",
    "commands",
    "wait",
    "host",
    "config",
    "credentials",
}
SCHEDULE_KEYS = {
    "id",
    "type",
    "description",
    "cron",
    "timezone",
    "inputs",
    "lateMaximumDelay",
    "recoverMissedSchedules",
    "conditions",
    "stopAfter",
    "disabled",
    "withSeconds",
    "scheduleConditions",
    "backfill",
    "logLevel",
    "workerGroup",
}
TASK_TYPES = {"io.kestra.plugin.docker.Run": DOCKER_RUN_KEYS}
TRIGGER_TYPES = {"io.kestra.plugin.core.trigger.Schedule": SCHEDULE_KEYS}
RETRY_KEYS = {
    "constant": {"type", "interval", "maxAttempts", "maxDuration", "warningOnRetry", "behavior"},
    "exponential": {
        "type",
        "interval",
        "maxInterval",
        "delayFactor",
        "maxAttempts",
        "maxDuration",
        "warningOnRetry",
        "behavior",
    },
    "random": {
        "type",
        "minInterval",
        "maxInterval",
        "maxAttempts",
        "maxDuration",
        "warningOnRetry",
        "behavior",
    },
}
INPUT_TYPES = {
    "STRING",
    "ENUM",
    "SELECT",
    "INT",
    "FLOAT",
    "BOOLEAN",
    "BOOL",
    "DATETIME",
    "DATE",
    "TIME",
    "DURATION",
    "FILE",
    "JSON",
    "URI",
    "SECRET",
    "ARRAY",
    "MULTISELECT",
    "EMAIL",
    "YAML",
}
OUTPUT_TYPES = INPUT_TYPES
DURATION_KEYS = {
    "timeout",
    "interval",
    "maxInterval",
    "minInterval",
    "maxDuration",
    "lateMaximumDelay",
}
ISO_DURATION = re.compile(
    r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
CREDENTIAL_ENV = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
SECRET_CALL = re.compile(r"^\{\{\s*secret\('([A-Z0-9_]+)'\)\s*\}\}$")


def stage_env_names() -> set[str]:
    """Every variable a stage reads: the table in docs/architecture.md, plus credentials,
    the MinIO checksum switches and the telemetry opt-outs (DESIGN.md)."""
    table = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    names = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", table, re.MULTILINE))
    assert {"LAKE_URL", "HOT_STORE", "RUN_ID"} <= names, "architecture.md's table moved"
    return (
        names
        | CREDENTIAL_ENV
        | {
            "AWS_REQUEST_CHECKSUM_CALCULATION",
            "AWS_RESPONSE_CHECKSUM_VALIDATION",
            "DO_NOT_TRACK",
            "RUNTIME__DLTHUB_TELEMETRY",
        }
    )


def all_tasks(flow: dict) -> list[dict]:
    return (
        list(flow.get("tasks") or [])
        + list(flow.get("errors") or [])
        + list(flow.get("finally") or [])
    )


def walk(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}")
            yield f"{path}.{key}", key, value
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")


def test_flow_keys(flows):
    for name, flow in flows.items():
        assert {"id", "namespace", "tasks"} <= set(flow), name
        assert set(flow) <= FLOW_KEYS, f"{name}: unknown keys {set(flow) - FLOW_KEYS}"
        assert name == f"{flow['id']}.yml", f"{name}: file name should be the flow id"


def test_tasks_known_types_and_properties(flows):
    for name, flow in flows.items():
        for task in all_tasks(flow):
            allowed = TASK_TYPES.get(task["type"])
            assert allowed, f"{name}/{task['id']}: unexpected task type {task['type']}"
            assert set(task) <= allowed, f"{name}/{task['id']}: unknown {set(task) - allowed}"
            assert "timeout" in task, f"{name}/{task['id']}: every task needs a timeout"
            if "retry" in task:
                retry = task["retry"]
                assert set(retry) <= RETRY_KEYS[retry["type"]], f"{name}/{task['id']}: {retry}"
        for default in flow.get("pluginDefaults") or []:
            allowed = TASK_TYPES.get(default["type"])
            assert allowed, f"{name}: pluginDefaults for unknown type {default['type']}"
            assert set(default) <= {"type", "values", "forced"}
            assert set(default["values"]) <= allowed, f"{name}: {set(default['values']) - allowed}"


def test_triggers_inputs_outputs(flows):
    for name, flow in flows.items():
        for trigger in flow.get("triggers") or []:
            allowed = TRIGGER_TYPES.get(trigger["type"])
            assert allowed, f"{name}: unexpected trigger type {trigger['type']}"
            assert set(trigger) <= allowed, f"{name}: unknown {set(trigger) - allowed}"
        for item in flow.get("inputs") or []:
            assert item["type"] in INPUT_TYPES, f"{name}: input type {item['type']}"
        for item in flow.get("outputs") or []:
            assert set(item) <= {"id", "type", "value", "description", "displayName", "required"}
            assert item["type"] in OUTPUT_TYPES


def test_durations_are_iso8601(flows):
    for name, flow in flows.items():
        for path, key, value in walk(flow):
            if key in DURATION_KEYS:
                assert isinstance(value, str) and ISO_DURATION.match(value), (
                    f"{name}{path}: {value!r} is not an ISO-8601 duration"
                )


def test_images_are_the_ones_just_builds(flows):
    built = set(built_stages())
    assert built == set(STAGES)
    for stage in built:
        assert (ROOT / "stages" / stage / "Dockerfile").is_file()
    for name, flow in flows.items():
        for task in all_tasks(flow):
            image = task["containerImage"]
            match = re.fullmatch(
                r"\{\{ vars\.image_prefix \}\}makerates-([a-z]+):\{\{ vars\.image_tag \}\}", image
            )
            assert match, f"{name}/{task['id']}: image {image!r} must come from the flow variables"
            assert match.group(1) in built, f"{name}/{task['id']}: nobody builds {image}"
        assert {"image_prefix", "image_tag"} <= set(flow["variables"])


def test_every_stage_env_var_is_set(flows):
    needed = stage_env_names()
    for name, flow in flows.items():
        defaults = [d for d in flow["pluginDefaults"] if d["type"] == "io.kestra.plugin.docker.Run"]
        assert len(defaults) == 1, f"{name}: shared Docker settings belong in pluginDefaults"
        env = defaults[0]["values"]["env"]
        assert needed <= set(env), f"{name}: not set: {sorted(needed - set(env))}"
        for task in all_tasks(flow):
            assert "env" not in task, f"{name}/{task['id']}: env belongs in pluginDefaults"
        assert defaults[0]["values"]["networkMode"] == "makerates-network"


def test_credentials_only_through_secret(flows):
    for name, flow in flows.items():
        env = flow["pluginDefaults"][0]["values"]["env"]
        for key in CREDENTIAL_ENV:
            assert SECRET_CALL.match(env[key]), f"{name}: {key} must be {{{{ secret('…') }}}}"
        for path, _key, value in walk(flow):
            if isinstance(value, str) and "secret(" in value:
                assert SECRET_CALL.search(value.strip()), f"{name}{path}"


def test_pipeline_shape(flows):
    for name, flow in flows.items():
        ids = [t["id"] for t in flow["tasks"]]
        assert ids == ["bronze", "silver", "gold"], f"{name}: sequential, gold after silver"
        commands = {t["id"]: t["commands"] for t in flow["tasks"]}
        assert commands["silver"] == ["run"] and commands["gold"] == ["sync"]
        bronze = flow["tasks"][0]
        assert bronze["retry"]["type"] == "exponential", f"{name}: bronze retries with backoff"
        assert bronze["retry"]["maxAttempts"] >= 2
        assert flow["concurrency"]["limit"] == 1
        errors = flow["errors"]
        assert errors and errors[0]["commands"][0] == "record-failure"
        assert "makerates-gold" in errors[0]["containerImage"]
        outputs = {o["id"]: o["value"] for o in flow["outputs"]}
        assert outputs["rows_loaded"] == "{{ outputs.bronze.vars.rows_loaded }}"
        assert outputs["rows_published"] == "{{ outputs.silver.vars.rows_published }}"
        assert outputs["items_written"] == "{{ outputs.gold.vars.items_written }}"


def test_daily_schedule(flows):
    daily = flows["makerates_daily.yml"]
    (trigger,) = daily["triggers"]
    _minute, hour, _dom, _month, weekdays = trigger["cron"].split()
    assert weekdays == "1-5" and int(hour) >= 16, "weekdays, after the ECB's 16:00 CET"
    assert trigger["timezone"] == "Europe/Berlin"
    assert trigger["recoverMissedSchedules"] == "LAST"
    assert "lateMaximumDelay" in trigger
    assert daily["tasks"][0]["commands"] == ["run"]


def test_backfill_inputs(flows):
    backfill = flows["makerates_backfill.yml"]
    inputs = {i["id"]: i["type"] for i in backfill["inputs"]}
    assert inputs == {"start_date": "DATE", "end_date": "DATE"}
    assert backfill["tasks"][0]["commands"] == [
        "backfill",
        "{{ inputs.start_date }}",
        "{{ inputs.end_date }}",
    ]
    assert not backfill.get("triggers")


@pytest.mark.parametrize("stage", STAGES)
def test_stage_commands_exist_in_pyproject(stage):
    """The flows call the images' entrypoints; those are the stage's console scripts."""
    import tomllib

    project = tomllib.loads((ROOT / "stages" / stage / "pyproject.toml").read_text())["project"]
    assert f"makerates-{stage}" in project["scripts"]
    dockerfile = (ROOT / "stages" / stage / "Dockerfile").read_text()
    assert f'ENTRYPOINT ["makerates-{stage}"]' in dockerfile
