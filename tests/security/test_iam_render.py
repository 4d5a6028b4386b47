"""iam/render.py fills every placeholder from the stages' own settings."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from render import HERE, POLICIES, values


@pytest.mark.parametrize("policy", POLICIES)
def test_render_from_the_stage_settings(policy):
    done = subprocess.run(
        [sys.executable, str(HERE / "render.py"), policy, "--account", "210987654321"],
        env={"LAKE_URL": "s3://prod-lake/fx", "TABLE_PREFIX": "fx_", "AWS_REGION": "eu-central-1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "${" not in done.stdout
    resources = [s["Resource"] for s in json.loads(done.stdout)["Statement"]]
    for resource in resources:
        assert resource.startswith(
            ("arn:aws:s3:::prod-lake", "arn:aws:dynamodb:eu-central-1:210987654321:table/fx_")
        ), resource
    own = {"bronze": "bronze", "silver": "silver", "gold": "silver"}.get(policy)
    if own:
        assert f"arn:aws:s3:::prod-lake/fx/{own}/*" in resources


def test_a_lake_at_the_bucket_root_has_no_prefix():
    assert values("s3://prod-lake", "fx_", "eu-central-1", "1")["LakePrefix"] == ""
    assert values("s3://prod-lake/a/b/", "fx_", "eu-central-1", "1")["LakePrefix"] == "a/b/"


def test_a_local_lake_needs_no_policy():
    with pytest.raises(SystemExit, match="not s3://"):
        values("data/lake", "makerates_", "us-east-1", "1")
