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
