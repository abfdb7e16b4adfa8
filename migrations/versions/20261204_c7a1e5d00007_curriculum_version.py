"""curriculum version: a course's number that moves with every change to its chapters or lectures

Revision ID: c7a1e5d00007
Revises: a14c0de00002
Create Date: 2026-12-04 19:30:00

The course page keeps each course's curriculum in memory, keyed by the course id and this
number: the same triggers that keep the lecture count and duration (c7a1e5d00005) now also set
it, whatever writes the chapters or lectures, so a changed curriculum is never served from
memory. The numbers come from one sequence that no column owns, not a counter per course: a
course id used again after TRUNCATE ... RESTART IDENTITY (the tests do that) gets numbers its
predecessor never had, and every write in a transaction gets a new one.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a1e5d00007'
down_revision = 'a14c0de00002'
branch_labels = None
depends_on = None


SEQUENCE = 'course_curriculum_versions'
NEXT = f"nextval('{SEQUENCE}')"

# Each course's lecture count and duration, as c7a1e5d00005 computes them.
STATS = """
    SELECT x.id, count(l.id) AS n, coalesce(sum(l.duration_s), 0) AS d
    FROM unnest(ids) AS x(id)
    LEFT JOIN chapters ch ON ch.course_id = x.id
    LEFT JOIN lectures l ON l.chapter_id = ch.id
    GROUP BY x.id
"""


def _refresh(set_clause, where):
    return f"""
CREATE OR REPLACE FUNCTION public.cf_refresh_course_stats(ids integer[]) RETURNS void
LANGUAGE sql AS $fn$
  UPDATE courses AS c SET {set_clause}
  FROM ({STATS}) AS s
  WHERE {where}
$fn$
"""


# Every change gets a new version, even one that leaves the count and duration as they were.
REFRESH = _refresh(
    f"lecture_count = s.n, duration_s = s.d, curriculum_version = {NEXT}", "c.id = s.id"
)
OLD_REFRESH = _refresh(
    "lecture_count = s.n, duration_s = s.d",
    "c.id = s.id AND (c.lecture_count, c.duration_s) IS DISTINCT FROM (s.n, s.d)",
)

# A new chapter shows on the course page before it has lectures: INSERT counts too now.
CHAPTERS_CHANGED = """
CREATE OR REPLACE FUNCTION public.cf_chapters_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM public.cf_refresh_course_stats(ARRAY(SELECT DISTINCT course_id FROM old_rows));
  ELSIF TG_OP = 'INSERT' THEN
    PERFORM public.cf_refresh_course_stats(ARRAY(SELECT DISTINCT course_id FROM new_rows));
  ELSE
    PERFORM public.cf_refresh_course_stats(ARRAY(
      SELECT course_id FROM new_rows UNION SELECT course_id FROM old_rows));
  END IF;
  RETURN NULL;
END
$fn$
"""

INSERT_TRIGGER = 'chapters_insert_course_stats'


def upgrade():
    op.execute(f'CREATE SEQUENCE {SEQUENCE}')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'curriculum_version', sa.BigInteger(), server_default=sa.text(NEXT), nullable=False,
        ))
    op.execute(REFRESH)
    op.execute(CHAPTERS_CHANGED)
    op.execute(
        f'CREATE TRIGGER {INSERT_TRIGGER} AFTER INSERT ON chapters '
        'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT '
        'EXECUTE FUNCTION public.cf_chapters_changed()'
    )


def downgrade():
    op.execute(f'DROP TRIGGER IF EXISTS {INSERT_TRIGGER} ON chapters')
    # c7a1e5d00005's function: its ELSE branch (UPDATE) is the same as here.
    op.execute(CHAPTERS_CHANGED.replace(
        "  ELSIF TG_OP = 'INSERT' THEN\n"
        "    PERFORM public.cf_refresh_course_stats(ARRAY(SELECT DISTINCT course_id FROM new_rows));\n",
        "",
    ))
    op.execute(OLD_REFRESH)
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('curriculum_version')
    op.execute(f'DROP SEQUENCE IF EXISTS {SEQUENCE}')
