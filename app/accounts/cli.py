"""`flask users ...` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts import services
from app.accounts.models import Role
from app.core.errors import DomainError
from app.core.unit import committing

users_cli = AppGroup("users", help="Manage user accounts.")


@users_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True)
@click.password_option(help="Prompted for when not given.")
def create_admin(email: str, name: str, password: str) -> None:
    """Create an admin account, or make an existing account admin."""
    try:
        with committing():
            user = services.ensure_user(email, password, name, Role.ADMIN)
    except DomainError as err:
        raise click.ClickException(err.message) from err
    click.echo(f"{user.email} is now an admin.")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice([r.value for r in Role]))
def set_role(email: str, role: str) -> None:
    """Give an existing account a role: student, teacher, trainer or admin."""
    try:
        with committing():
            user = services.set_role(email, Role(role))
    except DomainError as err:
        raise click.ClickException(err.message) from err
    click.echo(f"{user.email} is now a {user.role.value}.")
