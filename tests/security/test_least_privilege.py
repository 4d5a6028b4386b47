"""Each stage runs with nothing but its own policy from iam/, and that policy refuses the rest.

The stages run as their real CLIs against an S3 + DynamoDB API that enforces IAM (see
iam_moto.py for what it checks), each with the keys of an IAM user holding only its policy.
"""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError
from render import POLICIES, render, values
from security_helpers import ACCOUNT, BUCKET, LAKE_URL, REGION, TABLE_PREFIX, run_stage


class PipelineRun(dict[str, subprocess.CompletedProcess]):
    """Each command's result, by name, and the server's calls made while they ran: the session's
    server also logs other tests' calls (the refused ones below, made with the same users)."""

    def __init__(self, aws, since: int):
        super().__init__()
        self.aws, self.since, self.until = aws, since, None
        # its own: under xdist's work stealing a module's tests may run apart, and each part
        # runs the pipeline again on the session's server
        self.run_id = f"iam-test-run-{uuid.uuid4().hex[:8]}"

    def calls(self, user: str) -> list[dict]:
        return self.aws.calls(user, self.since, self.until)


@pytest.fixture(scope="module")
def pipeline(enforcing_aws, stage_env) -> PipelineRun:
    """bronze → silver → gold once, then the readers, each with the keys of its own IAM user."""
    commands = [
        ("bronze", "bronze", ("makerates-bronze", "backfill", "2024-03-01", "2024-03-15")),
        ("silver", "silver", ("makerates-silver", "run")),
        ("gold", "gold", ("makerates-gold", "sync")),
        ("reader", "reader", ("makerates", "rate", "USD", "JPY", "--date", "2024-03-16", "--json")),
        ("currencies", "reader", ("makerates", "currencies", "--json")),
        ("runs", "reader", ("makerates", "runs")),
    ]
    done = PipelineRun(enforcing_aws, enforcing_aws.mark())
    for name, user, command in commands:
        done[name] = run_stage(stage_env(user, RUN_ID=done.run_id), *command)
        if done[name].returncode != 0:
            break
    done.until = enforcing_aws.mark()
    return done


def test_each_stage_succeeds_with_only_its_own_policy(enforcing_aws, pipeline):
    for stage in POLICIES:
        done = pipeline.get(stage)
        assert done is not None, f"{stage} did not run: an earlier one failed"
        assert done.returncode == 0, f"{stage}:\n{done.stdout}\n{done.stderr}"
        # a failed run-event write or copy is only a warning: it must not happen either
        assert "could not record" not in done.stderr, done.stderr
        assert "could not copy" not in done.stderr, done.stderr
        calls = pipeline.calls(stage)
        assert calls, f"{stage} made no authorized call: the test would prove nothing"
        denied = [c for c in calls if not c["allowed"]]
        assert denied == [], f"{stage} was refused: {denied}"

    rates = enforcing_aws.client("dynamodb", "admin").query(
        TableName=f"{TABLE_PREFIX}rates",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "RATES"}},
    )
    assert [i["sk"]["S"] for i in rates["Items"]][:2] == ["2024-03-01", "2024-03-04"]
    assert json.loads(pipeline["reader"].stdout)["rate_date"] == "2024-03-15"  # a Saturday asked
    for name in ("currencies", "runs"):
        assert pipeline[name].returncode == 0, pipeline[name].stderr
    assert "USD" in json.loads(pipeline["currencies"].stdout)
    # bronze's and silver's events reached the runs table through the lake and gold
    assert (
        f"{pipeline.run_id}  bronze succeeded, silver succeeded, gold succeeded"
        in pipeline["runs"].stdout
    )


def test_bronze_and_silver_make_no_dynamodb_call(enforcing_aws, pipeline):
    assert all(done.returncode == 0 for done in pipeline.values())
    for stage in ("bronze", "silver"):
        calls = pipeline.calls(stage)
        assert calls, f"{stage} made no call: the check would prove nothing"
        assert [c for c in calls if c["action"].startswith("dynamodb:")] == [], stage
        events = {
            c["resource"]
            for c in calls
            if c["action"] == "s3:PutObject" and "/lake/runs/" in c["resource"]
        }
        assert events and all(f"/{stage}/{pipeline.run_id}/" in r for r in events), events


ANY_DYNAMODB_CALL = [
    ("list_tables", {}),
    ("describe_table", {"TableName": f"{TABLE_PREFIX}runs"}),
    (
        "batch_write_item",
        {
            "RequestItems": {
                f"{TABLE_PREFIX}runs": [
                    {"PutRequest": {"Item": {"pk": {"S": "RUNS"}, "sk": {"S": "forged"}}}}
                ]
            }
        },
    ),
    (
        "get_item",
        {"TableName": f"{TABLE_PREFIX}runs", "Key": {"pk": {"S": "RUNS"}, "sk": {"S": "x"}}},
    ),
    (
        "query",
        {
            "TableName": f"{TABLE_PREFIX}runs",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "RUNS"}},
        },
    ),
    (
        "get_item",
        {"TableName": f"{TABLE_PREFIX}rates", "Key": {"pk": {"S": "META"}, "sk": {"S": "SYNC"}}},
    ),
]


@pytest.mark.parametrize("user", ["bronze", "silver"])
@pytest.mark.parametrize(
    ("operation", "params"), ANY_DYNAMODB_CALL, ids=[o for o, _ in ANY_DYNAMODB_CALL]
)
def test_bronze_and_silver_are_refused_any_dynamodb_call(enforcing_aws, user, operation, params):
    with pytest.raises(ClientError) as refused:
        getattr(enforcing_aws.client("dynamodb", user), operation)(**params)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_failed_bronze_run_reaches_makerates_runs_through_gold(enforcing_aws, stage_env):
    """The failure path under the policies: bronze (its keys) fails, gold (its keys) copies the
    lake's events (copy-events), the reader lists the failure; record-failure (`just pipeline`
    and Kestra's errors branch, as gold) finds bronze's own failed event and adds none."""
    run_id = "iam-failed-run"
    down = stage_env("bronze", RUN_ID=run_id, ECB_BASE_URL="http://127.0.0.1:9/stats/eurofxref")
    failed = run_stage(down, "makerates-bronze", "run")
    assert failed.returncode == 3, failed.stderr
    assert "could not record" not in failed.stderr, failed.stderr
    copied = run_stage(stage_env("gold"), "makerates-gold", "copy-events")
    assert copied.returncode == 0, copied.stderr
    recorded = run_stage(
        stage_env("gold"),
        "makerates-gold", "record-failure", "--run-id", run_id, "--stage", "bronze", "--error", "x",
    )  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    assert "could not copy" not in recorded.stderr, recorded.stderr
    shown = run_stage(stage_env("reader"), "makerates", "runs", "--json")
    assert shown.returncode == 0, shown.stderr
    (run,) = [r for r in json.loads(shown.stdout) if r["run_id"] == run_id]
    assert [(e["stage"], e["event"]) for e in run["events"]] == [
        ("bronze", "started"),
        ("bronze", "failed"),
    ]
    assert f"error: {run['events'][1]['error']}" in failed.stderr  # bronze's own words


def test_stages_list_only_their_own_prefixes(enforcing_aws, pipeline):
    """s3:ListBucket cannot be narrowed by an s3:prefix condition (HeadBucket, which every stage
    sends in Lake.check, carries no prefix), so show what the stages do list."""
    assert all(done.returncode == 0 for done in pipeline.values())
    readable = {
        "bronze": ("lake/bronze/",),
        "silver": ("lake/bronze/", "lake/silver/"),
        "gold": ("lake/runs/", "lake/silver/"),
    }
    for stage, prefixes in readable.items():
        listed = {c["prefix"] for c in pipeline.calls(stage) if c["action"] == "s3:ListBucket"}
        assert listed - {None}, f"{stage} listed nothing: the check would prove nothing"
        assert all(p.startswith(prefixes) for p in listed - {None}), listed


# Granted on purpose though a successful run does not use them.
UNUSED_ON_PURPOSE = {
    # cleans up the parts of a failed multipart upload, so none are left behind
    ("bronze", "s3:AbortMultipartUpload"),
    ("silver", "s3:AbortMultipartUpload"),
    # with s3:ListBucket, a missing silver/published.json answers 404 ("run silver first")
    # instead of 403 ("access denied"), as S3 documents for GetObject
    ("gold", "s3:ListBucket"),
}


def test_the_policies_grant_no_action_a_stage_never_uses(pipeline):
    """Every action a policy grants was used, and allowed, in the stage's run (nothing spare)."""
    assert all(done.returncode == 0 for done in pipeline.values())
    substitutions = values(LAKE_URL, TABLE_PREFIX, REGION, ACCOUNT)
    for stage in POLICIES:
        used = {call["action"] for call in pipeline.calls(stage) if call["allowed"]}
        for statement in render(stage, substitutions)["Statement"]:
            actions = statement["Action"]
            for action in [actions] if isinstance(actions, str) else actions:
                if (stage, action) not in UNUSED_ON_PURPOSE:
                    assert action in used, f"{stage} is granted {action} but never uses it"


LAKE = "lake"
FORGED = "runs/2026-12-02"
DENIED = [
    (
        "reader",
        "dynamodb",
        "batch_write_item",
        {
            "RequestItems": {
                f"{TABLE_PREFIX}rates": [
                    {"PutRequest": {"Item": {"pk": {"S": "RATES"}, "sk": {"S": "2024-01-01"}}}}
                ]
            }
        },
    ),
    ("reader", "s3", "get_object", {"Bucket": BUCKET, "Key": f"{LAKE}/silver/published.json"}),
    (
        "bronze",
        "s3",
        "put_object",
        {"Bucket": BUCKET, "Key": f"{LAKE}/silver/published.json", "Body": b"{}"},
    ),
    (
        "bronze",
        "s3",
        "delete_object",
        {"Bucket": BUCKET, "Key": f"{LAKE}/bronze/ecb_rates/x.jsonl.gz"},
    ),
    ("bronze", "s3", "get_object", {"Bucket": BUCKET, "Key": f"{LAKE}/silver/published.json"}),
    (
        "bronze",
        "dynamodb",
        "query",
        {
            "TableName": f"{TABLE_PREFIX}rates",
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "RATES"}},
        },
    ),
    (
        "silver",
        "s3",
        "put_object",
        {"Bucket": BUCKET, "Key": f"{LAKE}/bronze/ecb_rates/forged.jsonl.gz", "Body": b"x"},
    ),
    ("silver", "s3", "delete_object", {"Bucket": BUCKET, "Key": f"{LAKE}/silver/published.json"}),
    # a stage writes its own run events only: neither can forge the other's, nor rewrite gold's
    ("bronze", "s3", "put_object", {"Bucket": BUCKET, "Key": f"{LAKE}/{FORGED}/silver/r/x.json"}),
    ("silver", "s3", "put_object", {"Bucket": BUCKET, "Key": f"{LAKE}/{FORGED}/bronze/r/x.json"}),
    ("bronze", "s3", "get_object", {"Bucket": BUCKET, "Key": f"{LAKE}/{FORGED}/bronze/r/x.json"}),
    ("gold", "s3", "put_object", {"Bucket": BUCKET, "Key": f"{LAKE}/{FORGED}/gold/r/x.json"}),
    ("reader", "s3", "get_object", {"Bucket": BUCKET, "Key": f"{LAKE}/{FORGED}/bronze/r/x.json"}),
    (
        "silver",
        "dynamodb",
        "batch_write_item",
        {
            "RequestItems": {
                f"{TABLE_PREFIX}rates": [
                    {"PutRequest": {"Item": {"pk": {"S": "RATES"}, "sk": {"S": "2024-01-01"}}}}
                ]
            }
        },
    ),
    (
        "gold",
        "s3",
        "put_object",
        {"Bucket": BUCKET, "Key": f"{LAKE}/silver/published.json", "Body": b"{}"},
    ),
    ("gold", "s3", "put_object", {"Bucket": BUCKET, "Key": f"{LAKE}/gold/anything", "Body": b"x"}),
    ("gold", "s3", "get_object", {"Bucket": BUCKET, "Key": f"{LAKE}/bronze/_dlt_loads/x.jsonl"}),
    ("gold", "dynamodb", "delete_table", {"TableName": f"{TABLE_PREFIX}rates"}),
    (
        "gold",
        "dynamodb",
        "batch_write_item",
        {
            "RequestItems": {
                "other_table": [{"PutRequest": {"Item": {"pk": {"S": "x"}, "sk": {"S": "y"}}}}]
            }
        },
    ),
    (
        "gold",
        "dynamodb",
        "create_table",
        {
            "TableName": f"{TABLE_PREFIX}extra",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
    ),
]


@pytest.mark.parametrize(
    ("user", "service", "operation", "params"),
    DENIED,
    ids=[
        f"{u}-{o}-{p.get('Key') or p.get('TableName') or next(iter(p.get('RequestItems', {})), '')}"
        for u, _, o, p in DENIED
    ],
)
def test_a_stage_cannot_touch_what_is_not_its_own(enforcing_aws, user, service, operation, params):
    with pytest.raises(ClientError) as refused:
        getattr(enforcing_aws.client(service, user), operation)(**params)
    # moto answers DynamoDB's denial in S3's XML form, which botocore reports as code "403"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_gold_with_bronze_keys_fails_in_one_line(enforcing_aws, stage_env):
    done = run_stage(stage_env("bronze"), "makerates-gold", "sync")
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "denied" in errors[0].lower(), errors[0]
