"""dbt's unit tests (the `unit_tests:` of every model's YAML): the models' logic on fixed
fixtures — de-duplication, fallback, consensus, re-basing, the calendars, the weekly and
monthly means. They gate code changes here, in CI; production builds leave them out
(runner.BUILD)."""

from __future__ import annotations

from datetime import UTC, datetime

from makerates_core.settings import Settings
from makerates_silver.runner import UNIT_TESTS, invoke_dbt, work_dir


def test_every_dbt_unit_test_passes(silver_env, bronze):
    bronze.load(bronze.rows("2024-03-15", "2024-03-15", datetime.now(UTC)))  # sources to bind
    settings = Settings.from_env()
    (silver_env / "silver" / "runs" / settings.run_id).mkdir(parents=True)
    with work_dir(settings) as work:
        outcome = invoke_dbt(UNIT_TESTS, settings, work, write_json=True)

    ran = {
        r["unique_id"].rsplit(".", 1)[-1]: r["status"]
        for r in outcome.results
        if r["unique_id"].startswith("unit_test.")
    }
    assert len(ran) >= 11, ran
    assert {name for name, status in ran.items() if status != "pass"} == set(), ran
    assert outcome.success
    assert {
        "stg_ecb__rates_takes_each_day_whole_from_its_newest_extraction",
        "fct_rates_ecb_first_then_frankfurter_fills_a_missing_day",
        "fct_rates_consensus_flags_a_deviation_above_the_threshold_and_keeps_the_row",
        "stg_exchangerate_api__rates_rebases_usd_to_eur_exactly",
        "fct_rates_calendar_carries_forward_up_to_the_limit",
        "fct_provider_calendar_carries_a_provider_over_the_weekend_up_to_the_limit",
        "fct_provider_calendar_stops_a_provider_after_the_carry_limit",
        "fct_rates_weekly_is_the_exact_mean_of_the_weeks_publications",
        "fct_rates_monthly_is_the_exact_mean_of_the_months_publications",
    } <= set(ran)
