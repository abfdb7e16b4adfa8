from app.core.markdown import render_markdown


def test_markdown_is_rendered() -> None:
    html = render_markdown("# Title\n\nSome **bold** text and a [link](https://example.com).")
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.com"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_raw_html_and_scripts_never_survive() -> None:
    html = render_markdown(
        "<script>alert(1)</script>\n\n[x](javascript:alert(1)) <img src=x onerror=alert(1)>"
    )
    assert "<script" not in html
    assert 'href="javascript:' not in html
    assert "onerror" not in html or "&lt;img" in html
    assert "<img" not in html
