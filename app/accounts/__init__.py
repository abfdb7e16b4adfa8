"""Users, roles, registration, login and profile."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)
