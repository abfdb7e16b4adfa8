"""Template url_for keeps the URLs used most recently, within its bound."""

from __future__ import annotations

from flask import Flask

from app.core import urls


def test_the_url_cache_is_bounded_and_keeps_hot_urls(app: Flask) -> None:
    with app.test_request_context("/"):
        urls._built.clear()
        hot = urls.template_url_for("static", filename="css/app.css")
        for i in range(urls.MAX_BUILT_URLS + 50):
            urls.template_url_for("catalog.course_detail", slug=f"c{i}")
            if i % 100 == 0 and i < urls.MAX_BUILT_URLS - 10:
                assert urls.template_url_for("static", filename="css/app.css") == hot
        assert len(urls._built) == urls.MAX_BUILT_URLS
        assert ("", "static", ("filename", "css/app.css")) in urls._built  # used lately: kept
        assert ("", "catalog.course_detail", ("slug", "c0")) not in urls._built  # oldest: out
        assert urls.template_url_for("catalog.course_detail", slug="c0") == "/courses/c0"
        urls._built.clear()


def test_templates_compile_once_into_the_instance_folder(app: Flask) -> None:
    from pathlib import Path

    cache = app.jinja_env.bytecode_cache
    assert cache is not None
    folder = Path(app.instance_path) / "template-cache"
    app.jinja_env.cache.clear()  # type: ignore[union-attr]
    app.jinja_env.get_template("base.html")
    assert any(folder.iterdir())
