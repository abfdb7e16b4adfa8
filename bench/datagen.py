"""Bulk catalog for benchmarks: N published courses in 20 categories, with teachers, chapters,
lectures (~12 a course), USD/INR prices and sale campaigns active now.
Courses go in by COPY (text built from a vocabulary: "python" in ~20 % of courses, "kubernetes"
in ~0.4 %); chapters and lectures by INSERT ... SELECT generate_series; secondary indexes are
dropped during the load and rebuilt after (same definitions), then VACUUM ANALYZE.

    .venv/bin/python bench/datagen.py --database coursefront_bench_pages --courses 1000
on a migrated schema (pages.py and search.py migrate first)."""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import psycopg

if __package__ in (None, ""):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import connect, has_columns, say

CATEGORIES = [
    "Programming", "Data Science", "Web Development", "DevOps", "Cloud Computing", "Design",
    "Business", "Marketing", "Finance", "Photography", "Music", "Languages", "Health",
    "Personal Development", "IT & Security", "Mobile Development", "Game Development",
    "Office Productivity", "Teaching", "Lifestyle",
]  # fmt: skip

# (topic, category index, weight): python is the primary topic of ~14 % of courses and
# mentioned by ~6 % more; kubernetes leads ~0.25 % and is mentioned by ~0.15 % more.
TOPICS: list[tuple[str, int, float]] = [
    ("Python", 0, 9.0), ("Python", 1, 5.0), ("JavaScript", 2, 6.0), ("React", 2, 4.0),
    ("SQL", 1, 4.0), ("Java", 0, 4.0), ("Go", 0, 2.0), ("Rust", 0, 1.5), ("Docker", 3, 2.5),
    ("Kubernetes", 3, 0.25), ("Terraform", 4, 1.0), ("AWS", 4, 3.0), ("Azure", 4, 1.5),
    ("Figma", 5, 2.0), ("Illustrator", 5, 2.0), ("Excel", 17, 4.0), ("Leadership", 8, 2.0),
    ("SEO", 7, 3.0), ("Accounting", 8, 2.5), ("Investing", 8, 2.5), ("Portrait Photography",
    9, 2.5), ("Guitar", 10, 3.0), ("Piano", 10, 2.5), ("Spanish", 11, 3.0), ("Hindi", 11, 1.5),
    ("Yoga", 12, 3.0), ("Nutrition", 12, 2.0), ("Productivity", 13, 3.0), ("Public Speaking",
    13, 2.0), ("Ethical Hacking", 14, 2.5), ("Networking", 14, 2.0), ("Swift", 15, 2.0),
    ("Flutter", 15, 2.0), ("Unity", 16, 2.5), ("Unreal Engine", 16, 1.0), ("Teaching Online",
    18, 1.5), ("Cooking", 19, 3.0), ("Gardening", 19, 1.5), ("Machine Learning", 1, 3.0),
]  # fmt: skip
TITLE_FORMS = [
    "{t} for Beginners", "Mastering {t}", "The Complete {t} Bootcamp", "{t} in Practice",
    "Practical {t}: {s}", "{t} from Zero to Hero", "Advanced {t} Techniques", "{t} Essentials",
    "Learn {t} by Building {n} Projects", "{t} Masterclass {y}", "Hands-on {t} for {a}",
]  # fmt: skip
SKILLS = [
    "automation", "data analysis", "clean code", "testing", "deployment", "visualisation",
    "performance", "design patterns", "best practices", "real-world projects", "APIs",
    "problem solving", "workflows", "fundamentals", "career skills", "interview preparation",
]  # fmt: skip
AUDIENCES = ["Busy Professionals", "Students", "Teams", "Freelancers", "Everyone", "Managers"]
SENTENCES = [
    "You will start with the fundamentals of {t} and build up to {s}.",
    "Every lesson comes with exercises, quizzes and downloadable resources.",
    "By the end you will be confident using {t} for {s} in your own work.",
    "We cover {s} step by step, with plenty of examples from real projects.",
    "No prior experience is needed: just curiosity and a computer.",
    "The course is updated regularly and includes lifetime access to all materials.",
    "Join thousands of students who used this course to learn {s}.",
    "Along the way you will pick up {x} and see how it fits with {t}.",
]  # fmt: skip
EXTRAS = ["Git", "Linux", "cloud tools", "spreadsheets", "the command line", "design thinking"]
CHAPTER_WORDS = [
    "Introduction", "Getting Started", "Core Concepts", "Hands-on Project", "Going Further",
    "Best Practices", "Case Studies", "Wrap-up", "Tools and Setup", "Deep Dive",
]  # fmt: skip
LECTURE_WORDS = [
    "Overview", "Walkthrough", "Exercise", "Demo", "Quiz review", "Key ideas", "Live coding",
    "Common mistakes", "Q&A", "Summary", "Worked example", "Challenge",
]  # fmt: skip
LEVELS = [("beginner", 40), ("intermediate", 30), ("advanced", 15), ("all", 15)]
LANGUAGES = [("en", 80), ("hi", 8), ("es", 5), ("fr", 4), ("de", 3)]
USD = [0, 1299, 1999, 2499, 2999, 3999, 4999, 8999, 12999, 19999]
INR = [0, 39900, 49900, 64900, 99900, 129900, 199900, 349900]
NOW = datetime.now(UTC)


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100]


def _course_text(rng: random.Random, topic: str) -> tuple[str, str, str]:
    skill = rng.choice(SKILLS)
    title = rng.choice(TITLE_FORMS).format(
        t=topic, s=skill.title(), n=rng.randint(3, 12), y=rng.randint(2022, 2026),
        a=rng.choice(AUDIENCES),
    )  # fmt: skip
    subtitle = f"Learn {skill} with {topic}: {rng.choice(SKILLS)} and {rng.choice(SKILLS)}"
    extra = rng.choice(EXTRAS)
    roll = rng.random()
    if topic != "Python" and roll < 0.10:  # data and automation courses mention Python
        extra = "Python"
    elif topic != "Kubernetes" and roll > 0.9985:
        extra = "Kubernetes"
    body = " ".join(
        rng.choice(SENTENCES).format(t=topic, s=rng.choice(SKILLS), x=extra)
        for _ in range(rng.randint(3, 6))
    )
    if extra in ("Python", "Kubernetes") and extra not in body:
        body += f" A final module shows {topic} working together with {extra}."
    return title, subtitle, f"## About this course\n\n{body}\n\n- {skill}\n- {extra}\n"


def _html(md: str) -> str:
    lines = [ln for ln in md.splitlines() if ln]
    items = "".join(f"<li>{ln[2:]}</li>" for ln in lines if ln.startswith("- "))
    paras = "".join(f"<p>{ln}</p>" for ln in lines[1:] if not ln.startswith("- "))
    return f"<h2>About this course</h2>{paras}<ul>{items}</ul>"


def _fillers(conn: psycopg.Connection, table: str, given: Sequence[str]) -> dict[str, str]:
    """SQL literals for NOT NULL columns without a default that we do not know (a newer schema)."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = %s AND is_nullable = 'NO' "
        "AND column_default IS NULL AND is_generated = 'NEVER' AND is_identity = 'NO'",
        (table,),
    ).fetchall()
    by_type = {"integer": "0", "bigint": "0", "smallint": "0", "numeric": "0", "boolean": "false"}
    out = {}
    for name, dtype in rows:
        if name in given:
            continue
        if dtype.startswith("timestamp"):
            out[name] = "now()"
        elif dtype in ("text", "character varying"):
            out[name] = "''"
        elif dtype in ("json", "jsonb"):
            out[name] = "'{}'"
        else:
            out[name] = by_type.get(dtype, "DEFAULT")
    return out


def _insert(conn: psycopg.Connection, table: str, columns: dict[str, str], tail: str) -> int:
    """INSERT INTO table (columns) SELECT exprs tail — plus fillers for unknown NOT NULL columns."""
    cols = {**columns, **_fillers(conn, table, list(columns))}
    sql = f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols.values())} {tail}"
    return conn.execute(sql).rowcount


def _copy(conn: psycopg.Connection, table: str, columns: list[str], rows: Iterator[tuple]) -> None:
    """COPY rows in; with unknown NOT NULL columns, through a staging table plus their fillers."""
    fill = _fillers(conn, table, columns)
    names = ", ".join(columns)
    with conn.cursor() as cur:
        target = table
        if fill:
            cur.execute(f"CREATE TEMP TABLE _stage AS SELECT {names} FROM {table} WITH NO DATA")
            target = "_stage"
        with cur.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if fill:
            cur.execute(
                f"INSERT INTO {table} ({names}, {', '.join(fill)}) "
                f"SELECT {names}, {', '.join(fill.values())} FROM _stage"
            )
            cur.execute("DROP TABLE _stage")


def has_table(conn: psycopg.Connection, table: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{table}",)).fetchone()
    return bool(row and row[0])


def _secondary_indexes(conn: psycopg.Connection, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, definition) of indexes not backing a constraint (those are rebuilt after loading)."""
    return conn.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
        "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conname = i.indexname)",
        (list(tables),),
    ).fetchall()


def _users(conn: psycopg.Connection, teachers: int) -> None:
    _insert(
        conn,
        "users",
        {
            "email": "'teacher' || g || '@bench.example'",
            "name": "(ARRAY['Asha','Ben','Carla','Dev','Elena','Farid','Grace','Hiro'])"
            "[1 + g % 8] || ' ' || (ARRAY['Rao','Smith','Garcia','Kumar','Müller','Dubois',"
            "'Chen','Okafor','Novak'])[1 + g % 9] || ' ' || g",
            "password_hash": "'!bench-no-login'",
            "role": "'teacher'",
            "active": "true",
            "created_at": "now()",
            "updated_at": "now()",
        },
        f"FROM generate_series(1, {teachers}) g",
    )


def _categories(conn: psycopg.Connection) -> list[int]:
    with conn.cursor() as cur:
        for pos, name in enumerate(CATEGORIES):
            cur.execute(
                "INSERT INTO categories (slug, name, description, icon, position) "
                "VALUES (%s, %s, %s, '', %s)",
                (_slug(name), name, f"Courses about {name.lower()}.", pos),
            )
    return [r[0] for r in conn.execute("SELECT id FROM categories ORDER BY position")]


def _course_rows(n: int, seed: int, teacher_ids: list[int], cat_ids: list[int]) -> Iterator[tuple]:
    rng = random.Random(seed)
    weights = [t[2] for t in TOPICS]
    for i in range(1, n + 1):
        topic, cat, _w = rng.choices(TOPICS, weights=weights)[0]
        if rng.random() < 0.15:  # some courses sit in another category than their topic's
            cat = rng.randrange(len(cat_ids))
        title, subtitle, md = _course_text(rng, topic)
        published = NOW - timedelta(days=rng.uniform(1, 1100), seconds=i)
        yield (
            f"{_slug(title)}-{i}", title, subtitle, md, _html(md),
            _weighted(rng, LEVELS), _weighted(rng, LANGUAGES), "published",
            "tutoring" if rng.random() < 0.03 else "video", rng.choice(teacher_ids),
            cat_ids[cat], rng.random() < 0.01, published, published, published,
        )  # fmt: skip


COURSE_COLUMNS = [
    "slug", "title", "subtitle", "description_md", "description_html", "level", "language",
    "status", "kind", "teacher_id", "category_id", "is_featured", "published_at", "created_at",
    "updated_at",
]  # fmt: skip


def _prices(conn: psycopg.Connection) -> None:
    # ~5 % free (0 in both currencies), ~3 % INR only, ~30 % of INR missing; ~30 % with a "was".
    usd, inr = "ARRAY" + str(USD[1:]), "ARRAY" + str(INR[1:])
    _insert(
        conn,
        "course_prices",
        {
            "course_id": "id",
            "currency": "'USD'",
            "amount_minor": f"CASE WHEN id % 20 = 0 THEN 0 ELSE ({usd})[1 + (id * 7) % 9] END",
            "list_amount_minor": f"CASE WHEN id % 20 <> 0 AND id % 10 IN (1, 4, 7) "
            f"THEN ({usd})[1 + (id * 7) % 9] * 2 END",
        },
        "FROM courses WHERE id % 33 <> 5",
    )
    _insert(
        conn,
        "course_prices",
        {
            "course_id": "id",
            "currency": "'INR'",
            "amount_minor": f"CASE WHEN id % 20 = 0 THEN 0 ELSE ({inr})[1 + (id * 5) % 7] END",
            "list_amount_minor": f"CASE WHEN id % 20 <> 0 AND id % 10 IN (2, 4) "
            f"THEN ({inr})[1 + (id * 5) % 7] * 3 END",
        },
        "FROM courses WHERE id % 10 < 7 OR id % 33 = 5 OR id % 20 = 0",
    )


def _chapters_lectures(conn: psycopg.Connection) -> None:
    chapter_words = "ARRAY" + str(CHAPTER_WORDS)
    lecture_words = "ARRAY" + str(LECTURE_WORDS)
    _insert(
        conn,
        "chapters",
        {"course_id": "c.id", "position": "g", "title": f"({chapter_words})[1 + (c.id + g) % 10]"},
        "FROM courses c CROSS JOIN LATERAL generate_series(1, 2 + (c.id::bigint * 7919) % 3) g",
    )
    _insert(
        conn,
        "lectures",
        {
            "chapter_id": "ch.id",
            "position": "g",
            "title": f"({lecture_words})[1 + (ch.id * 3 + g) % 12] || ' ' || g",
            "is_preview": "ch.position = 1 AND g = 1",
            "duration_s": "120 + (ch.id * 37 + g * 101) % 1500",
        },
        "FROM chapters ch "
        "CROSS JOIN LATERAL generate_series(1, 2 + (ch.id::bigint * 104729) % 5) g",
    )


def _denormalised(conn: psycopg.Connection) -> None:
    """Fill courses.lecture_count / duration_s when the schema has them (catalog services do)."""
    if not has_columns(conn, "courses", "lecture_count", "duration_s"):
        return
    conn.execute(
        "UPDATE courses c SET lecture_count = s.n, duration_s = s.d FROM (SELECT ch.course_id, "
        "count(l.id) AS n, coalesce(sum(l.duration_s), 0) AS d FROM chapters ch "
        "JOIN lectures l ON l.chapter_id = ch.id GROUP BY ch.course_id) s WHERE s.course_id = c.id"
    )


def _sales(conn: psycopg.Connection, cat_ids: list[int]) -> None:
    """Three campaigns active now (category percent, course percent, fixed prices), one ended."""
    rows = [
        ("winter-sale", "Winter sale", 2000, NOW - timedelta(days=3), NOW + timedelta(days=10)),
        ("flash-deal", "Flash deal", 4000, NOW - timedelta(hours=5), NOW + timedelta(days=1)),
        ("fixed-price-week", "Fixed price week", 0, NOW - timedelta(days=1), NOW + timedelta(7)),
        ("autumn-sale", "Autumn sale", 3000, NOW - timedelta(days=60), NOW - timedelta(days=30)),
    ]
    ids = {}
    for slug, name, pct, start, end in rows:
        cols = {
            "slug": f"'{slug}'",
            "name": f"'{name}'",
            "percent_off_bp": str(pct),
            "all_courses": "false",
            "starts_at": f"'{start.isoformat()}'::timestamptz",
            "ends_at": f"'{end.isoformat()}'::timestamptz",
            "active": "true",
            "created_at": "now()",
            "updated_at": "now()",
        }
        _insert(conn, "sales", cols, "")
        ids[slug] = conn.execute("SELECT id FROM sales WHERE slug = %s", (slug,)).fetchone()[0]  # type: ignore[index]
    for cat in cat_ids[1:3]:
        conn.execute("INSERT INTO sale_categories VALUES (%s, %s)", (ids["winter-sale"], cat))
    conn.execute(
        "INSERT INTO sale_courses (sale_id, course_id) "
        "SELECT %s, id FROM courses WHERE id %% 50 = 3",
        (ids["flash-deal"],),
    )
    conn.execute(
        "INSERT INTO sale_prices (sale_id, course_id, currency, amount_minor) "
        "SELECT %s, course_id, currency, amount_minor / 2 FROM course_prices "
        "WHERE course_id %% 200 = 7 AND amount_minor > 0",
        (ids["fixed-price-week"],),
    )
    conn.execute(
        "INSERT INTO sale_courses (sale_id, course_id) "
        "SELECT %s, id FROM courses WHERE id %% 40 = 9",
        (ids["autumn-sale"],),
    )


LOADED = ["users", "categories", "courses", "course_prices", "chapters", "lectures"]


def generate(database: str, courses: int, seed: int = 9) -> None:
    """Empty the catalog tables of `database` and load `courses` published courses."""
    started = time.monotonic()
    with connect(database, autocommit=False) as conn:
        conn.execute("SET LOCAL synchronous_commit = off")
        tables = ", ".join([*LOADED, "sales", "carts"])
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        # course_search (newer schemas) is filled by a trigger on courses as they load.
        indexes = _secondary_indexes(conn, [*LOADED, "course_search"])
        for name, _definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        _users(conn, max(20, courses // 50))
        cat_ids = _categories(conn)
        teacher_ids = [r[0] for r in conn.execute("SELECT id FROM users ORDER BY id")]
        _copy(conn, "courses", COURSE_COLUMNS, _course_rows(courses, seed, teacher_ids, cat_ids))
        say(f"  courses loaded ({time.monotonic() - started:.0f}s)")
        _prices(conn)
        _chapters_lectures(conn)
        _denormalised(conn)
        _sales(conn, cat_ids)
        say(f"  prices, chapters, lectures, sales ({time.monotonic() - started:.0f}s)")
        conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            conn.execute(definition)
        conn.commit()
    with connect(database) as conn:
        # The lecture-count triggers and the fill above rewrote every course row: compact the
        # table as a restore would lay it out (no dead rows for the GIN index to point at, no
        # three times larger heap), then the rest as autovacuum would.
        conn.execute("VACUUM FULL courses")
        if has_table(conn, "course_search"):
            conn.execute("VACUUM FULL course_search")
        conn.execute("VACUUM ANALYZE")
        stats = _summary(conn)
    say(f"  indexes rebuilt, vacuumed, analyzed ({time.monotonic() - started:.0f}s): {stats}")


def _summary(conn: psycopg.Connection) -> str:
    vectors = "course_search" if has_table(conn, "course_search") else "courses"
    row = conn.execute(  # the counts a search for the two benchmark words should find
        "SELECT (SELECT count(*) FROM courses WHERE status = 'published'), "
        "(SELECT count(*) FROM lectures), "
        f"(SELECT count(*) FROM {vectors} WHERE search_vector @@ to_tsquery('simple', 'python')), "
        f"(SELECT count(*) FROM {vectors} "
        "WHERE search_vector @@ to_tsquery('simple', 'kubernetes'))"
    ).fetchone()
    assert row is not None
    return f"{row[0]} courses, {row[1]} lectures, python {row[2]}, kubernetes {row[3]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="coursefront_bench_pages")
    parser.add_argument("--courses", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    generate(args.database, args.courses, args.seed)


if __name__ == "__main__":
    main()
