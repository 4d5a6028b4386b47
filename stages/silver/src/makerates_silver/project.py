"""Where the dbt project lives, in the repository and in an installed wheel or image."""

from __future__ import annotations

import os
from pathlib import Path

from makerates_core.errors import UserError

PROJECT_DIR_ENV = "MAKERATES_DBT_PROJECT_DIR"
_PACKAGE = Path(__file__).resolve().parent


def project_dir() -> Path:
    """The folder holding dbt_project.yml and profiles.yml.

    In order: $MAKERATES_DBT_PROJECT_DIR; the copy packed into the wheel
    (makerates_silver/dbt_project, see pyproject's force-include); the repository's
    stages/silver (an editable install, as in the uv workspace).
    """
    override = os.environ.get(PROJECT_DIR_ENV)
    candidates = [Path(override)] if override else [_PACKAGE / "dbt_project", _PACKAGE.parents[1]]
    for candidate in candidates:
        if (candidate / "dbt_project.yml").is_file() and (candidate / "profiles.yml").is_file():
            return candidate
    where = ", ".join(str(c) for c in candidates)
    raise UserError(
        f"the silver dbt project is not at {where}; set {PROJECT_DIR_ENV} to the folder "
        "holding dbt_project.yml and profiles.yml"
    )
