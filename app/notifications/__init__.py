"""In-app notifications and the emails that go with them."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)
