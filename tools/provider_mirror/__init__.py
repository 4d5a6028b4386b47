"""Offline copies of the official providers' services, one module per provider.

Each `<key>.py` defines `serve(path, query) -> tuple[str, bytes] | None`: for a request path
(after the provider's mount point, e.g. `/valet/observations/group/FX_RATES_DAILY/json`) and its
parsed query string (`urllib.parse.parse_qs`), the content type and body the real service
answers, built from the real published values recorded in
`tools/fixtures/providers/<key>/`; None for a path the provider does not serve (a 404).
`tools/ecb_mirror.py` mounts each of them under `/<key>`.
"""
