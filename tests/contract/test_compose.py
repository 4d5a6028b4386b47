"""compose.yaml: the services, their health and order, persistence, one network."""

from __future__ import annotations


def test_services(compose):
    services = compose["services"]
    assert {"minio", "lake-init", "dynamodb", "hot-init", "postgres", "kestra"} <= set(services)
    for name, service in services.items():
        assert service.get("networks") == ["makerates-network"], name
    assert compose["networks"]["makerates-network"]["name"] == "makerates-network"


def test_healthchecks_and_order(compose):
    services = compose["services"]
    for name in ("minio", "dynamodb", "postgres", "kestra"):
        assert "healthcheck" in services[name], name
    assert services["lake-init"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert services["hot-init"]["depends_on"]["dynamodb"]["condition"] == "service_healthy"
    kestra = services["kestra"]["depends_on"]
    assert kestra["postgres"]["condition"] == "service_healthy"
    assert kestra["lake-init"]["condition"] == "service_completed_successfully"


def test_persistent_named_volumes(compose):
    services = compose["services"]
    command = services["dynamodb"]["command"]
    assert "-sharedDb" in command and "-dbPath" in command and "-inMemory" not in command
    named = set(compose["volumes"])
    for name in ("minio", "dynamodb", "postgres", "kestra"):
        mounts = [v.split(":")[0] for v in services[name].get("volumes", [])]
        assert any(m in named for m in mounts), name


def test_kestra_secrets_convention(compose):
    kestra = compose["services"]["kestra"]
    assert any("secrets.env" in str(e) for e in kestra["env_file"])


def test_each_stage_has_its_own_lake_user(compose):
    """lake-users makes a MinIO user per stage from its own key pair, with the S3 statements of
    its IAM policy (rendered by `just up`), before Kestra starts."""
    from contract_helpers import ROOT, STAGES

    service = compose["services"]["lake-users"]
    assert service["image"] == compose["services"]["minio"]["image"], "mc comes with minio"
    env = service["environment"]
    for stage in STAGES:
        for part in ("ACCESS_KEY_ID", "SECRET_ACCESS_KEY"):
            name = f"{stage.upper()}_AWS_{part}"
            assert env[name].startswith(f"${{{name}?"), name
    assert "./data/minio/policies:/policies:ro" in service["volumes"]
    script = (ROOT / "ops" / "init" / "lake-users.sh").read_text()
    assert all(f"{s}:{s.upper()}" in script for s in STAGES)
    recipes = (ROOT / "ops.just").read_text()
    assert 'iam/render.py "$stage" --service s3' in recipes
    kestra = compose["services"]["kestra"]["depends_on"]
    assert kestra["lake-users"]["condition"] == "service_completed_successfully"


def test_kestra_can_parse_dbt_outputs(compose):
    """DbtCLI passes silver's ::{"outputs"}:: line on from plugin-dbt 1.6.0, which Kestra images
    from 1.3.26 carry (the pipeline's outputs read outputs.silver.vars)."""
    image = compose["services"]["kestra"]["image"]
    major, minor, patch = (int(n) for n in image.rsplit(":v", 1)[1].split("."))
    assert (major, minor, patch) >= (1, 3, 26), image
