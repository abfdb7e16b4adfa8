"""Start an RQ worker on critical, default, media and low (in that priority) inside the app."""

import sys

from app import create_app
from app.jobs.worker import run_worker

if __name__ == "__main__":
    run_worker(create_app(), burst="--burst" in sys.argv[1:])
