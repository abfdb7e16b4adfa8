"""The lean reference app: Flask + Flask-SQLAlchemy, one joined query, a Jinja template.

`/courses` renders 24 published courses (newest first) with their teacher, category and USD
price from ONE query; `/hello` is bare Flask (the baseline for Coursefront's `/healthz`).

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/coursefront_bench_pages \
      .venv/bin/gunicorn --chdir bench lean_ref:app -w 2 -b 127.0.0.1:8202
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, render_template
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text

db = SQLAlchemy()

CATALOG_SQL = text(
    "SELECT c.slug, c.title, c.subtitle, c.level, u.name AS teacher, k.name AS category, "
    "p.amount_minor, p.list_amount_minor "
    "FROM courses c JOIN users u ON u.id = c.teacher_id "
    "LEFT JOIN categories k ON k.id = c.category_id "
    "LEFT JOIN course_prices p ON p.course_id = c.id AND p.currency = 'USD' "
    "WHERE c.status = 'published' ORDER BY c.published_at DESC, c.id DESC LIMIT 24"
)


def _url() -> str:
    url = os.environ.get(
        "DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/coursefront_bench_pages"
    )
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def money(minor: int | None) -> str:
    if minor is None:
        return ""
    return "Free" if minor == 0 else f"${minor / 100:,.2f}"


def create_app() -> Flask:
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.config["SQLALCHEMY_DATABASE_URI"] = _url()
    db.init_app(app)
    app.add_template_filter(money, "money")

    @app.get("/courses")
    def catalog() -> str:
        rows = db.session.execute(CATALOG_SQL).all()
        return render_template("lean_catalog.html", courses=rows)

    @app.get("/hello")
    def hello() -> str:
        return "Hello, World!"

    return app


app = create_app()
