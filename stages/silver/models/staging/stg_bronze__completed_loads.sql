-- The dlt loads that completed (status 0), for every source: staging reads bronze rows of
-- these loads only, so the files of a load that crashed half-way are never published.

select distinct load_id, schema_name as source_schema
from {{ source('bronze', 'dlt_loads') }}
where status = 0 and load_id is not null
