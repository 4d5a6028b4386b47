"""Render an IAM policy for one deployment: `python iam/render.py bronze --account 123456789012`.

The policies in this folder are CloudFormation `Fn::Sub` templates: `${LakeBucket}`,
`${LakePrefix}` (the key prefix of LAKE_URL with a trailing slash, or empty), `${TablePrefix}`,
`${AWS::Region}`, `${AWS::AccountId}`. This script fills them in from the same settings the
stages read (LAKE_URL, TABLE_PREFIX, AWS_REGION) for `aws iam put-user-policy`, Terraform or a
review. `--service s3` keeps only the S3 statements: what an S3-only store takes (`just up` makes a
MinIO user per stage with them; MinIO refuses a policy that names DynamoDB actions).
"""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
# one per stage, and `reader` for the `makerates` CLI and HTTP API over the hot tier
POLICIES = ("bronze", "silver", "gold", "reader")
PLACEHOLDER = re.compile(r"\$\{([A-Za-z:]+)\}")


def values(lake_url: str, table_prefix: str, region: str, account: str | None) -> dict[str, str]:
    parsed = urlparse(lake_url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise SystemExit(f"LAKE_URL {lake_url!r} is not s3://bucket[/prefix]: no IAM policy needed")
    prefix = parsed.path.strip("/")
    found = {
        "LakeBucket": parsed.netloc,
        "LakePrefix": f"{prefix}/" if prefix else "",
        "TablePrefix": table_prefix,
        "AWS::Region": region,
    }
    if account:
        found["AWS::AccountId"] = account
    return found


def render(policy: str, substitutions: dict[str, str], service: str | None = None) -> dict:
    """The policy document with every placeholder filled (a missing one is an error), only the
    statements whose actions all belong to `service` when one is given."""
    document = json.loads((HERE / f"{policy}.json").read_text(encoding="utf-8"))
    if service:
        document["Statement"] = [
            s for s in document["Statement"] if all(a.startswith(f"{service}:") for a in actions(s))
        ]
        if not document["Statement"]:
            raise SystemExit(f"{policy}.json grants nothing on {service}")

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in substitutions:
            raise SystemExit(f"{policy}.json needs {name}: pass --account")
        return substitutions[name]

    return json.loads(PLACEHOLDER.sub(fill, json.dumps(document)))


def actions(statement: dict) -> list[str]:
    found = statement["Action"]
    return [found] if isinstance(found, str) else list(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("policy", choices=POLICIES)
    parser.add_argument("--account", help="the AWS account id (any statement on DynamoDB needs it)")
    parser.add_argument(
        "--service", choices=("s3", "dynamodb"), help="only this service's statements"
    )
    parser.add_argument("--lake-url", default=os.environ.get("LAKE_URL", ""))
    parser.add_argument("--table-prefix", default=os.environ.get("TABLE_PREFIX", "makerates_"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    args = parser.parse_args()
    substitutions = values(args.lake_url, args.table_prefix, args.region, args.account)
    print(json.dumps(render(args.policy, substitutions, args.service), indent=2))


if __name__ == "__main__":
    main()
