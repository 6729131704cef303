"""The simulated source systems: TPC-H with seeded faults in a database, a CRM API, file drops and web logs."""

from lakehouse.sources.api import DEFAULT_API_TOKEN, make_api_server, serve_api
from lakehouse.sources.deliver import deliver
from lakehouse.sources.files import upload_landing
from lakehouse.sources.manifest import load_manifest
from lakehouse.sources.plan import DEFAULT_START_DATE, ingestion_days
from lakehouse.sources.simulate import DEFAULT_SEED, simulate

__all__ = [
    "DEFAULT_API_TOKEN", "DEFAULT_SEED", "DEFAULT_START_DATE", "deliver", "ingestion_days", "load_manifest",
    "make_api_server", "serve_api", "simulate", "upload_landing",
]
