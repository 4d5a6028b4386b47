"""moto's S3 + DynamoDB server with IAM enforced the way AWS enforces our policies.

Run as its own process (`python iam_moto.py CALLS_LOG`; it prints its port), so turning
enforcement on cannot leak into other tests' in-process moto servers. Three gaps in moto's own
enforcement are closed here, each by AWS's documented rule:

- DynamoDB requests are checked against `*` by moto; here against the table's ARN
  (`arn:aws:dynamodb:<region>:<account>:table/<name>`), so per-table statements are enforced.
- moto names a HEAD on a bucket `s3:HeadBucket`, which is no IAM action; AWS authorizes it as
  `s3:ListBucket`.
- moto ignores condition operators other than StringEquals. Our policies use none, so nothing
  is lost; the calls log (one JSON line per authorized request: user, action, resource, ListBucket
  prefix, allowed) lets the tests check what moto cannot.
"""

from __future__ import annotations

import json
import sys
import threading
from urllib.parse import parse_qs, urlparse

from moto import settings
from moto.dynamodb.responses import DynamoHandler
from moto.iam.access_control import IAMRequestBase
from moto.server import ThreadedMotoServer

IAM_ACTION = {"s3:HeadBucket": "s3:ListBucket"}


def _table_arn(handler: DynamoHandler) -> str:
    body = handler.body if isinstance(handler.body, dict) else json.loads(handler.body or "{}")
    table = body.get("TableName") or next(iter(body.get("RequestItems") or {}), "*")
    return f"arn:aws:dynamodb:{handler.region}:{handler.current_account}:table/{table}"


def _recording(log_path: str):
    lock = threading.Lock()
    check = IAMRequestBase.check_action_permitted

    def check_action_permitted(self: IAMRequestBase, resource: str) -> None:
        self._action = IAM_ACTION.get(self._action, self._action)
        record = {
            "user": getattr(self._access_key, "_owner_user_name", None),
            "action": self._action,
            "resource": resource,
            "prefix": parse_qs(urlparse(self._path).query).get("prefix", [None])[0],
            "allowed": True,
        }
        try:
            check(self, resource)
        except Exception:
            record["allowed"] = False
            raise
        finally:
            with lock, open(log_path, "a", encoding="utf-8") as log:
                log.write(json.dumps(record) + "\n")

    return check_action_permitted


def main(log_path: str) -> None:
    DynamoHandler._determine_resource = _table_arn
    IAMRequestBase.check_action_permitted = _recording(log_path)
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float(
        "inf"
    )  # the test turns it on: /moto-api/reset-auth
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1])
