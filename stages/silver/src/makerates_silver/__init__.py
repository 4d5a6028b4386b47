"""makerates silver: dbt on DuckDB turns bronze into validated Parquet; publish only what passed."""
