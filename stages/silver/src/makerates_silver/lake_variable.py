"""A dbt-duckdb plugin: `getvariable('lake_url')` is $LAKE_URL on every DuckDB cursor dbt uses.

The bronze sources' locations (models/staging/__sources.yml) read the lake through this
variable instead of `env_var('LAKE_URL')`: dbt renders a YAML file while parsing and re-parses
it whenever an environment variable it read changes, so a parse made for one lake (the lake's
parse cache, copied with a lake or read by a new deployment) would re-parse ~2 s at another.
The plugin runs only when dbt opens a connection, after the parse.
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin


def set_lake_url(cursor) -> None:
    lake = os.environ.get("LAKE_URL", "").replace("'", "''")
    cursor.execute(f"SET VARIABLE lake_url = '{lake}'")


class Plugin(BasePlugin):
    def configure_connection(self, conn) -> None:
        set_lake_url(conn)

    def configure_cursor(self, cursor) -> None:
        set_lake_url(cursor)
