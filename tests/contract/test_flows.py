"""Kestra flows use only task types and properties documented by Kestra, and set what stages read.

The allowed property sets are written down from Kestra's docs and plugin sources (no Kestra
runs here to validate against its schema):
- flow keys: kestra.io/docs/workflow-components;
- io.kestra.plugin.docker.Run: kestra-io/plugin-docker src/main/java/io/kestra/plugin/docker/cli/
  Run.java (`io.kestra.plugin.docker.Run` is its alias) + AbstractDocker.java, plus the core
  Task keys;
- io.kestra.plugin.dbt.cli.DbtCLI: kestra-io/plugin-dbt src/main/java/io/kestra/plugin/dbt/cli/
  DbtCLI.java and the AbstractExecScript it extends (kestra-io/kestra script/); its
  taskRunner io.kestra.plugin.scripts.runner.docker.Docker: kestra-io/kestra script/src/main/
  java/io/kestra/plugin/scripts/runner/docker/Docker.java;
- io.kestra.plugin.core.flow.Subflow: kestra-io/kestra core/src/main/java/io/kestra/plugin/core/
  flow/Subflow.java;
- io.kestra.plugin.core.trigger.Schedule: kestra.io/plugins/core/trigger/io.kestra.plugin.core.trigger.schedule.

The flows' shape: makerates_pipeline is the one flow body (the stage tasks, their defaults, the
errors branch); makerates_daily and makerates_backfill are a trigger or inputs and one Subflow
call to it.
"""

from __future__ import annotations

import dataclasses
import re
import shlex

import pytest
from contract_helpers import ROOT, STAGES, built_stages

PIPELINE = "makerates_pipeline.yml"
CALLERS = ("makerates_daily.yml", "makerates_backfill.yml")

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
# The container options the Docker plugin's docker.Run task and its Docker task runner share.
DOCKER_CONTAINER_KEYS = {
    "host",
    "config",
    "credentials",
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
    "wait",
}
DOCKER_RUN_KEYS = (
    TASK_CORE_KEYS
    | DOCKER_CONTAINER_KEYS
    | {
        "containerImage",
        "env",
        "namespaceFiles",
        "inputFiles",
        "outputFiles",
        "commands",
    }
)
# DbtCLI's own properties, then AbstractExecScript's (the deprecated runner, docker,
# outputDirectory and warningOnStdErr left out on purpose).
DBT_CLI_KEYS = TASK_CORE_KEYS | {
    "commands",
    "profiles",
    "projectDir",
    "parseRunResults",
    "taskRunner",
    "containerImage",
    "storeManifest",
    "loadManifest",
    "logFormat",
    "engine",
    "beforeCommands",
    "env",
    "interpreter",
    "failFast",
    "namespaceFiles",
    "inputFiles",
    "outputFiles",
    "targetOS",
}
DOCKER_TASK_RUNNER = "io.kestra.plugin.scripts.runner.docker.Docker"
DOCKER_TASK_RUNNER_KEYS = DOCKER_CONTAINER_KEYS | {
    "type",
    "fileHandlingStrategy",
    "delete",
    "killGracePeriod",
    "resume",
}
SUBFLOW_KEYS = TASK_CORE_KEYS | {
    "namespace",
    "flowId",
    "revision",
    "inputs",
    "labels",
    "wait",
    "transmitFailed",
    "inheritLabels",
    "scheduleDate",
    "restartBehavior",
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
DOCKER_RUN = "io.kestra.plugin.docker.Run"
DBT_CLI = "io.kestra.plugin.dbt.cli.DbtCLI"
SUBFLOW = "io.kestra.plugin.core.flow.Subflow"
TASK_TYPES = {DOCKER_RUN: DOCKER_RUN_KEYS, DBT_CLI: DBT_CLI_KEYS, SUBFLOW: SUBFLOW_KEYS}
CONTAINER_TYPES = {DOCKER_RUN, DBT_CLI}
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
INPUT_KEYS = {
    "id",
    "type",
    "description",
    "displayName",
    "required",
    "defaults",
    "itemType",
    "values",
    "allowCustomValue",
    "dependsOn",
    "validator",
    "min",
    "max",
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
INPUT_REF = re.compile(r"^\{\{ inputs\.([a-z_]+) \}\}$")
CREDENTIAL_ENV = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
SECRET_CALL = re.compile(r"\{\{\s*secret\('([A-Z0-9_]+)'\)\s*\}\}")
VAR_REF = re.compile(r"^\{\{ vars\.([a-z_]+) \}\}$")
IMAGE = re.compile(r"\{\{ vars\.image_prefix \}\}makerates-([a-z]+):\{\{ vars\.image_tag \}\}")
# Names a stage reads besides docs/architecture.md's table: the boto3 checksum switches MinIO
# needs, HOME (silver's, after it drops from root) and silver's work folder.
EXTRA_ENV = {
    "AWS_REQUEST_CHECKSUM_CALCULATION",
    "AWS_RESPONSE_CHECKSUM_VALIDATION",
    "HOME",
    "MAKERATES_SILVER_WORK_DIR",
}
# Baked into the runtime image (ops/image/base.Containerfile): never restated by a flow.
IMAGE_ENV = {"DO_NOT_TRACK", "RUNTIME__DLTHUB_TELEMETRY", "PYTHONUNBUFFERED", "PATH"}
STAGE_UID = "10001"


def architecture_env_names() -> set[str]:
    table = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    names = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", table, re.MULTILINE))
    assert {"LAKE_URL", "HOT_STORE", "RUN_ID"} <= names, "architecture.md's table moved"
    return names


def settings_defaults() -> dict[str, str]:
    """What each setting is when nothing sets it (makerates_core.settings), as env text."""
    from makerates_core import providers
    from makerates_core.settings import KNOWN_SOURCES, Settings

    fields = {f.name: f.default for f in dataclasses.fields(Settings)}
    defaults = {
        "LAKE_URL": fields["lake_url"],
        "HOT_STORE": fields["hot_store"],
        "TABLE_PREFIX": fields["table_prefix"],
        "AWS_REGION": fields["aws_region"],
        "SOURCES": ",".join(KNOWN_SOURCES),
        "INITIAL_LOOKBACK_DAYS": str(fields["initial_lookback_days"]),
    }
    for name in ("http_timeout_seconds", "http_deadline_seconds"):
        value = fields[name]
        defaults[name.upper()] = str(int(value)) if float(value).is_integer() else str(value)
    for name in ("http_max_download_bytes", "http_max_document_bytes"):
        defaults[name.upper()] = str(fields[name])
    for p in providers.registry():
        defaults[p.base_url_setting] = p.default_base_url.rstrip("/")
    return defaults


def all_tasks(flow: dict) -> list[dict]:
    return (
        list(flow.get("tasks") or [])
        + list(flow.get("errors") or [])
        + list(flow.get("finally") or [])
    )


def container_tasks(flow: dict) -> list[dict]:
    return [t for t in all_tasks(flow) if t["type"] in CONTAINER_TYPES]


def stage_of(task: dict) -> str:
    match = IMAGE.fullmatch(task["containerImage"])
    assert match, f"{task['id']}: image {task['containerImage']!r} must come from the variables"
    return match.group(1)


def walk(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}")
            yield f"{path}.{key}", key, value
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")


def defaults_of(flow: dict, task_type: str) -> dict:
    found = [d for d in flow.get("pluginDefaults") or [] if d["type"] == task_type]
    assert len(found) <= 1, f"two pluginDefaults for {task_type}"
    return found[0]["values"] if found else {}


def env_of(flow: dict, task: dict) -> dict[str, str]:
    """The environment Kestra gives the task's container: its type's defaults, then its own
    (Kestra merges maps key by key)."""
    return {**defaults_of(flow, task["type"]).get("env", {}), **task.get("env", {})}


def resolve(flow: dict, value: str) -> str:
    """A `{{ vars.x }}` value as the variable holds it; anything else as written."""
    match = VAR_REF.match(str(value))
    return str(flow["variables"][match.group(1)]) if match else str(value)


@pytest.fixture(scope="module")
def pipeline(flows) -> dict:
    return flows[PIPELINE]


# -- every flow: keys, types, properties -----------------------------------------------------


def test_the_flows_are_the_body_and_its_callers(flows):
    assert set(flows) == {PIPELINE, *CALLERS}


def test_flow_keys(flows):
    for name, flow in flows.items():
        assert {"id", "namespace", "tasks"} <= set(flow), name
        assert set(flow) <= FLOW_KEYS, f"{name}: unknown keys {set(flow) - FLOW_KEYS}"
        assert name == f"{flow['id']}.yml", f"{name}: file name should be the flow id"
        assert flow["namespace"] == "makerates", name


def test_tasks_known_types_and_properties(flows):
    for name, flow in flows.items():
        for task in all_tasks(flow):
            allowed = TASK_TYPES.get(task["type"])
            assert allowed, f"{name}/{task['id']}: unexpected task type {task['type']}"
            assert set(task) <= allowed, f"{name}/{task['id']}: unknown {set(task) - allowed}"
            if task["type"] != SUBFLOW:
                assert "timeout" in task, f"{name}/{task['id']}: every task needs a timeout"
            if "retry" in task:
                retry = task["retry"]
                assert set(retry) <= RETRY_KEYS[retry["type"]], f"{name}/{task['id']}: {retry}"
            if "taskRunner" in task:
                runner = task["taskRunner"]
                assert runner["type"] == DOCKER_TASK_RUNNER, f"{name}/{task['id']}"
                assert set(runner) <= DOCKER_TASK_RUNNER_KEYS, set(runner) - DOCKER_TASK_RUNNER_KEYS
        for default in flow.get("pluginDefaults") or []:
            allowed = TASK_TYPES.get(default["type"])
            assert allowed, f"{name}: pluginDefaults for unknown type {default['type']}"
            assert set(default) <= {"type", "values", "forced"}
            assert set(default["values"]) <= allowed, f"{name}: {set(default['values']) - allowed}"
            # Kestra appends a default list to the task's own: commands would run twice.
            assert not any(isinstance(v, list) for v in default["values"].values()), name


def test_triggers_inputs_outputs(flows):
    for name, flow in flows.items():
        for trigger in flow.get("triggers") or []:
            allowed = TRIGGER_TYPES.get(trigger["type"])
            assert allowed, f"{name}: unexpected trigger type {trigger['type']}"
            assert set(trigger) <= allowed, f"{name}: unknown {set(trigger) - allowed}"
        for item in flow.get("inputs") or []:
            assert item["type"] in INPUT_TYPES, f"{name}: input type {item['type']}"
            assert set(item) <= INPUT_KEYS, f"{name}: {set(item) - INPUT_KEYS}"
            if item["type"] == "ARRAY":
                assert item.get("itemType") in INPUT_TYPES, f"{name}: an ARRAY needs its itemType"
        for item in flow.get("outputs") or []:
            assert set(item) <= {"id", "type", "value", "description", "displayName", "required"}
            assert item["type"] in OUTPUT_TYPES


def test_durations_are_iso8601(flows):
    for name, flow in flows.items():
        inputs = {i["id"]: i for i in flow.get("inputs") or []}
        for path, key, value in walk(flow):
            if key not in DURATION_KEYS and not (key == "bronze_timeout" and ".inputs" in path):
                continue
            if isinstance(value, str) and (match := INPUT_REF.match(value)):
                declared = inputs.get(match.group(1))
                assert declared and declared["type"] == "DURATION", f"{name}{path}: {value}"
                value = declared["defaults"]
            assert isinstance(value, str) and ISO_DURATION.match(value), (
                f"{name}{path}: {value!r} is not an ISO-8601 duration"
            )


def test_credentials_only_through_secret(flows):
    for name, flow in flows.items():
        for path, key, value in walk(flow):
            if key in CREDENTIAL_ENV:
                assert SECRET_CALL.fullmatch(str(value).strip()), f"{name}{path}: use secret()"
            if isinstance(value, str) and "secret(" in value:
                assert SECRET_CALL.fullmatch(value.strip()), f"{name}{path}"


# -- one flow body ---------------------------------------------------------------------------


def test_callers_are_one_subflow_call_each(flows, pipeline):
    declared = {i["id"] for i in pipeline["inputs"]}
    outputs = {o["id"] for o in pipeline["outputs"]}
    for name in CALLERS:
        flow = flows[name]
        (call,) = flow["tasks"]
        assert call["type"] == SUBFLOW, f"{name}: the body lives in {PIPELINE}"
        assert (call["namespace"], call["flowId"]) == (pipeline["namespace"], pipeline["id"])
        assert call["wait"] is True and call["transmitFailed"] is True, name
        assert set(call["inputs"]) <= declared, f"{name}: {set(call['inputs']) - declared}"
        for forbidden in ("pluginDefaults", "errors", "variables", "concurrency"):
            assert forbidden not in flow, f"{name}: {forbidden} belongs to {PIPELINE}"
        for output in flow.get("outputs") or []:
            match = re.fullmatch(
                r"\{\{ outputs\.pipeline\.outputs\.([a-z_]+) \}\}", output["value"]
            )
            assert match and call["id"] == "pipeline", f"{name}: {output}"
            assert match.group(1) in outputs, f"{name}: the subflow has no output {match.group(1)}"


def test_the_body_is_deployed_before_its_callers():
    script = (ROOT / "ops" / "kestra-deploy.sh").read_text()
    assert f"flows=(kestra/flows/{PIPELINE})" in script


def test_no_stage_task_is_written_twice(flows):
    seen: dict[str, str] = {}
    for name, flow in flows.items():
        for task in container_tasks(flow):
            assert name == PIPELINE, f"{name}/{task['id']}: stage tasks live in {PIPELINE}"
            assert task["id"] not in seen, f"{task['id']} defined twice"
            seen[task["id"]] = name
    assert set(seen) == {"bronze", "silver", "gold", "record_failure"}


def test_the_shared_environment_is_one_environment(pipeline):
    """Two task types, one environment: each type's defaults carry the same map (the one
    repetition left, since a default names one type and Kestra ignores YAML anchors)."""
    docker = defaults_of(pipeline, DOCKER_RUN)
    dbt = defaults_of(pipeline, DBT_CLI)
    assert docker["env"] == dbt["env"]
    assert docker["networkMode"] == "makerates-network"
    for task in container_tasks(pipeline):
        assert not set(task.get("env", {})) & set(docker["env"]), f"{task['id']} restates env"


def test_every_env_name_is_read_by_a_stage_and_no_default_is_restated(pipeline):
    known = architecture_env_names() | CREDENTIAL_ENV | EXTRA_ENV
    defaults = settings_defaults()
    for task in container_tasks(pipeline):
        env = env_of(pipeline, task)
        assert {"RUN_ID", "LAKE_URL"} <= set(env), task["id"]
        hot = {"HOT_STORE", "DYNAMODB_ENDPOINT_URL"}
        if stage_of(task) == "gold":
            assert hot <= set(env) and env["HOT_STORE"] == "dynamodb", task["id"]
        else:
            assert not hot & set(env), f"{task['id']} never talks to the hot tier"
        assert env["RUN_ID"] == "{{ execution.id }}"
        assert set(env) <= known, f"{task['id']}: nobody reads {sorted(set(env) - known)}"
        assert not set(env) & IMAGE_ENV, f"{task['id']}: the image sets {set(env) & IMAGE_ENV}"
        for key, value in env.items():
            if key in defaults:
                assert resolve(pipeline, value).rstrip("/") != defaults[key], (
                    f"{task['id']}: {key}={value} restates the default of settings.py"
                )


def test_settings_defaults_are_read_from_settings():
    defaults = settings_defaults()
    assert defaults["TABLE_PREFIX"] == "makerates_" and defaults["AWS_REGION"] == "us-east-1"
    assert defaults["ECB_BASE_URL"].startswith("https://")


# -- per-stage credentials -------------------------------------------------------------------


def test_each_stage_container_gets_its_own_secrets(pipeline):
    """bronze, silver and gold each run with the key pair of their own identity (the one
    iam/<stage>.json is attached to); record_failure is gold (its image, its policy)."""
    for default in pipeline["pluginDefaults"]:
        assert not SECRET_CALL.search(str(default)), "no credential in defaults: none inherited"
    for task in container_tasks(pipeline):
        stage = stage_of(task)
        assert (ROOT / "iam" / f"{stage}.json").is_file(), stage
        env = task["env"]
        assert SECRET_CALL.fullmatch(env["AWS_ACCESS_KEY_ID"]).group(1) == (
            f"{stage.upper()}_AWS_ACCESS_KEY_ID"
        ), task["id"]
        assert SECRET_CALL.fullmatch(env["AWS_SECRET_ACCESS_KEY"]).group(1) == (
            f"{stage.upper()}_AWS_SECRET_ACCESS_KEY"
        ), task["id"]
        names = set(SECRET_CALL.findall(str(task)))
        assert all(n.startswith(f"{stage.upper()}_") for n in names), f"{task['id']}: {names}"


def stage_secret_names() -> set[str]:
    return {f"{s.upper()}_AWS_{k}" for s in STAGES for k in ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY")}


def test_every_stage_secret_is_provided_locally(flows):
    """The names the flows ask for are in .env.example, and `just up` turns each into Kestra's
    SECRET_<NAME> (ops.just), so the compose stack has every one."""
    used = {n for flow in flows.values() for n in SECRET_CALL.findall(str(flow))}
    assert used == stage_secret_names()
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    recipes = (ROOT / "ops.just").read_text(encoding="utf-8")
    up = recipes[recipes.index("\nup:") : recipes.index("\ndown ")]
    for name in used:
        assert re.search(rf"^{name}=$", example, re.MULTILINE), f".env.example lacks {name}="
        assert name in up, f"`just up` does not write SECRET_{name}"


# -- the stages and their commands -----------------------------------------------------------


def test_images_are_the_ones_just_builds(flows):
    built = set(built_stages())
    assert built == set(STAGES)
    for stage in built:
        assert (ROOT / "stages" / stage / "Dockerfile").is_file()
    for flow in flows.values():
        for task in container_tasks(flow):
            assert stage_of(task) in built, f"{task['id']}: nobody builds {task['containerImage']}"
    assert {"image_prefix", "image_tag"} <= set(flows[PIPELINE]["variables"])


def test_pipeline_shape(pipeline):
    ids = [t["id"] for t in pipeline["tasks"]]
    assert ids == ["bronze", "silver", "gold"], "sequential, gold after silver"
    tasks = {t["id"]: t for t in pipeline["tasks"]}
    assert [stage_of(tasks[i]) for i in ids] == ids
    assert tasks["gold"]["commands"] == ["sync"]
    bronze = tasks["bronze"]
    assert bronze["retry"]["type"] == "exponential", "bronze retries with backoff"
    assert bronze["retry"]["maxAttempts"] >= 2
    assert pipeline["concurrency"] == {"limit": 1, "behavior": "QUEUE"}
    (errors,) = pipeline["errors"]
    assert errors["commands"][0] == "record-failure"
    assert stage_of(errors) == "gold"
    outputs = {o["id"]: o["value"] for o in pipeline["outputs"]}
    assert outputs["rows_loaded"] == "{{ outputs.bronze.vars.rows_loaded }}"
    assert outputs["rows_published"] == "{{ outputs.silver.vars.rows_published }}"
    assert outputs["items_written"] == "{{ outputs.gold.vars.items_written }}"


def sample(command: list[str]) -> list[str]:
    """A caller's command with its Pebble expressions replaced by sample values."""
    return [re.sub(r"\{\{ inputs\.(start|end)_date \}\}", "2024-01-02", c) for c in command]


def test_bronze_runs_what_each_caller_asks(flows, pipeline):
    from makerates_bronze.cli import parser

    bronze = pipeline["tasks"][0]
    assert bronze["commands"] == "{{ inputs.bronze_command | toJson }}"
    (declared,) = [i for i in pipeline["inputs"] if i["id"] == "bronze_command"]
    assert declared["type"] == "ARRAY" and declared["itemType"] == "STRING"
    commands = {name: flows[name]["tasks"][0]["inputs"]["bronze_command"] for name in CALLERS}
    commands["default"] = declared["defaults"]
    assert commands["makerates_daily.yml"] == ["run"] == commands["default"]
    assert commands["makerates_backfill.yml"] == [
        "backfill",
        "{{ inputs.start_date }}",
        "{{ inputs.end_date }}",
    ]
    for command in commands.values():
        parser().parse_args(sample(command))  # each is a command bronze has


def test_gold_commands_parse(pipeline):
    from makerates_gold.cli import parser

    for task in container_tasks(pipeline):
        if stage_of(task) == "gold":
            parser().parse_args([re.sub(r"\{\{.*\}\}", "x", c) for c in task["commands"]])


def test_daily_schedule(flows):
    daily = flows["makerates_daily.yml"]
    (trigger,) = daily["triggers"]
    _minute, hour, _dom, _month, weekdays = trigger["cron"].split()
    assert weekdays == "1-5" and int(hour) >= 16, "weekdays, after the ECB's 16:00 CET"
    assert trigger["timezone"] == "Europe/Berlin"
    assert trigger["recoverMissedSchedules"] == "LAST"
    assert "lateMaximumDelay" in trigger


def test_backfill_inputs(flows):
    backfill = flows["makerates_backfill.yml"]
    inputs = {i["id"]: i["type"] for i in backfill["inputs"]}
    assert inputs == {"start_date": "DATE", "end_date": "DATE"}
    assert not backfill.get("triggers")


# -- silver: Kestra's dbt task on our own image ----------------------------------------------


@pytest.fixture(scope="module")
def silver(pipeline) -> dict:
    return {t["id"]: t for t in pipeline["tasks"]}["silver"]


def test_silver_is_kestras_dbt_task_on_our_image(silver):
    assert silver["type"] == DBT_CLI
    assert stage_of(silver) == "silver"
    runner = silver["taskRunner"]
    assert runner["type"] == DOCKER_TASK_RUNNER
    assert runner["networkMode"] == "makerates-network"
    assert runner.get("pullPolicy", "IF_NOT_PRESENT") == "IF_NOT_PRESENT"
    assert runner["entryPoint"] == [""], "the commands run through /bin/sh, not our ENTRYPOINT"
    assert silver["parseRunResults"] is True
    # DbtCLI reads <working dir>/<projectDir>/target/run_results.json: without a projectDir,
    # the working directory itself, which is where silver keeps dbt's target/ (below).
    assert "projectDir" not in silver
    for key in ("profiles", "beforeCommands", "interpreter", "loadManifest", "storeManifest"):
        assert key not in silver, f"{key}: our image carries the project, profile and dbt"


def silver_command(silver: dict) -> list[str]:
    return [shlex.split(c) for c in silver["commands"]]


def test_silver_keeps_dbt_target_where_dbtcli_reads_it(silver):
    """The working directory Kestra gives the task ($WORKING_DIR, the Docker task runner's) is
    silver's work folder, so dbt writes <it>/target/run_results.json and manifest.json."""
    from makerates_silver import runner

    assert runner.WORK_DIR_ENV == "MAKERATES_SILVER_WORK_DIR"
    assert {"run_results.json", "manifest.json"} <= set(runner.ARTIFACTS)
    *_, last = silver_command(silver)
    assert f"{runner.WORK_DIR_ENV}=$WORKING_DIR" in last
    assert last[-2:] == ["makerates-silver", "run"], "our runner: build, audit, publish"
    assert not any(c.startswith("dbt") for c in silver["commands"]), "DbtCLI rewrites dbt lines"


def test_silver_code_never_runs_as_root(silver):
    """The container starts as root only to hand the root-owned working directory to the
    image's user; every capability is dropped, and no_new_privs set, before our code runs."""
    user = silver["taskRunner"].get("user")
    if user is None or user.split(":")[0] not in ("0", "root"):
        return  # starts as the image's user 10001: nothing to drop
    chown, drop = silver_command(silver)
    assert chown == ["chown", f"{STAGE_UID}:{STAGE_UID}", "$WORKING_DIR"]
    assert drop[:2] == ["exec", "setpriv"]
    for flag in (
        f"--reuid={STAGE_UID}",
        f"--regid={STAGE_UID}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
    ):
        assert flag in drop, flag
    assert silver["env"]["HOME"] == "/home/makerates", "the image user's HOME, not root's"
    base = (ROOT / "ops" / "image" / "base.Containerfile").read_text()
    assert f"USER {STAGE_UID}:{STAGE_UID}" in base and "setpriv" in base


def test_stage_commands_exist_in_pyproject():
    """The flows call the images' entrypoints; those are the stage's console scripts."""
    import tomllib

    for stage in STAGES:
        project = tomllib.loads((ROOT / "stages" / stage / "pyproject.toml").read_text())
        assert f"makerates-{stage}" in project["project"]["scripts"]
        dockerfile = (ROOT / "stages" / stage / "Dockerfile").read_text()
        assert f'ENTRYPOINT ["makerates-{stage}"]' in dockerfile
