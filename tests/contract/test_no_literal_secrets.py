"""No credential is committed: a scan of flows, compose, .env.example, recipes and workflows for
password-ish keys that carry a literal value (anything but empty, a ${VAR} interpolation, a
Kestra {{ secret('…') }} or a GitHub ${{ secrets.… }})."""

from __future__ import annotations

import re

import pytest
from contract_helpers import ROOT

FILES = [
    *sorted((ROOT / "kestra" / "flows").glob("*.yml")),
    ROOT / "compose.yaml",
    ROOT / ".env.example",
    ROOT / "ops.just",
    *sorted((ROOT / ".github" / "workflows").glob("*.yml")),
]
SECRETISH = re.compile(
    r"""(?ix)
    (?P<key>[A-Z0-9_.-]*(password|passwd|secret|token|access_key|key_id|api_key|credential)[A-Z0-9_.-]*)
    \s*[:=]\s*
    (?P<value>\S.*?)\s*$""",
)
ALLOWED_VALUE = re.compile(
    r"""^["']?(
        \$\{[A-Z0-9_]+([:?-][^}]*)?\}          # ${VAR}, ${VAR?msg}, ${VAR:-default}
      | \{\{\s*secret\('[A-Z0-9_]+'\)\s*\}\}    # Kestra secret()
      | \$\{\{\s*secrets\.[A-Z0-9_]+\s*\}\}     # GitHub secrets
      | \$[A-Za-z_{(]                           # a shell variable or substitution in a script
      | ["']{2}                                 # empty string
      | \|                                      # a YAML block follows (scanned line by line)
      | when_required | required | false | true | none
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def literal_secrets(text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#") or line.rstrip().endswith("# not-a-secret"):
            continue
        for match in SECRETISH.finditer(line):
            value = match.group("value")
            if not ALLOWED_VALUE.match(value):
                found.append(f"{number}: {line.strip()}")
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_literal_secret(path):
    assert literal_secrets(path.read_text(encoding="utf-8")) == []


def test_scanner_catches_literals():
    assert literal_secrets("POSTGRES_PASSWORD: k3str4")
    assert literal_secrets("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI")
    assert literal_secrets("      password: hunter2")
    assert not literal_secrets("POSTGRES_PASSWORD: ${KESTRA_POSTGRES_PASSWORD?set it}")
    assert not literal_secrets("AWS_SECRET_ACCESS_KEY: \"{{ secret('AWS_SECRET_ACCESS_KEY') }}\"")
    assert not literal_secrets("AWS_SECRET_ACCESS_KEY=")


def test_env_example_leaves_credentials_blank():
    for line in (ROOT / ".env.example").read_text().splitlines():
        if re.match(r"^[A-Z_]*(PASSWORD|SECRET|ACCESS_KEY_ID)[A-Z_]*=", line):
            assert line.split("=", 1)[1] == "", line
