"""WSGI entry point: gunicorn wsgi:app (and FLASK_APP=wsgi for the CLI)."""

import sys

from app import create_app

# A gunicorn worker only serves requests: it leaves the CLI commands and the migration tooling
# out (Alembic and Mako, ~11 MB a worker). `flask db ...` imports this module without gunicorn.
app = create_app({"CLI": "gunicorn" not in sys.modules})
