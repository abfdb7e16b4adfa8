"""The committed migrations build the schema the models describe: autogenerate finds nothing."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from app.extensions import db


def test_models_and_migrations_agree(app: Flask) -> None:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrations_reach_head(app: Flask) -> None:
    from alembic.script import ScriptDirectory
    from flask_migrate import Migrate

    with app.app_context(), db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        migrate: Migrate = app.extensions["migrate"]
        config = migrate.migrate.get_config()
        head = ScriptDirectory.from_config(config).get_current_head()
    assert current == head
