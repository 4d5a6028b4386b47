"""Render an IAM policy for one deployment: `python iam/render.py bronze --account 123456789012`.

The policies in this folder are CloudFormation `Fn::Sub` templates: `${LakeBucket}`,
`${LakePrefix}` (the key prefix of LAKE_URL with a trailing slash, or empty), `${TablePrefix}`,
`${AWS::Region}`, `${AWS::AccountId}`. This script fills them in from the same settings the
stages read (LAKE_URL, TABLE_PREFIX, AWS_REGION) for `aws iam put-user-policy`, Terraform or a
review.
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


def values(lake_url: str, table_prefix: str, region: str, account: str) -> dict[str, str]:
    parsed = urlparse(lake_url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise SystemExit(f"LAKE_URL {lake_url!r} is not s3://bucket[/prefix]: no IAM policy needed")
    prefix = parsed.path.strip("/")
    return {
        "LakeBucket": parsed.netloc,
        "LakePrefix": f"{prefix}/" if prefix else "",
        "TablePrefix": table_prefix,
        "AWS::Region": region,
        "AWS::AccountId": account,
    }


def render(policy: str, substitutions: dict[str, str]) -> dict:
    """The policy document with every placeholder filled (a missing one is an error)."""
    template = (HERE / f"{policy}.json").read_text(encoding="utf-8")
    return json.loads(PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], template))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("policy", choices=POLICIES)
    parser.add_argument("--account", required=True, help="the AWS account id")
    parser.add_argument("--lake-url", default=os.environ.get("LAKE_URL", ""))
    parser.add_argument("--table-prefix", default=os.environ.get("TABLE_PREFIX", "makerates_"))
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    args = parser.parse_args()
    substitutions = values(args.lake_url, args.table_prefix, args.region, args.account)
    print(json.dumps(render(args.policy, substitutions), indent=2))


if __name__ == "__main__":
    main()
