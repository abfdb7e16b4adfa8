"""catalog speed: stored lecture counts, a title vector to rank on, narrow course rows

Revision ID: c7a1e5d00005
Revises: c7a1e5d00004
Create Date: 2026-12-01 22:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'c7a1e5d00005'
down_revision = 'c7a1e5d00004'
branch_labels = None
depends_on = None


def _weighted(column, weight):
    text = f"public.cf_unaccent(coalesce({column}, ''))"
    return (
        f"setweight(to_tsvector('english'::regconfig, {text}) || "
        f"to_tsvector('simple'::regconfig, {text}), '{weight}')"
    )


TITLE_VECTOR = f"{_weighted('title', 'A')} || {_weighted('subtitle', 'B')}"
_ALL = f"{TITLE_VECTOR} || {_weighted('description_md', 'C')}"
SEARCH_VECTOR = f"strip({_ALL})"  # lexemes only: ranking moved to title_vector
OLD_SEARCH_VECTOR = _ALL

# One UPDATE per statement, for the courses it touched (statement triggers with transition
# tables: a bulk load of a million lectures refreshes each course once, not once per row).
REFRESH = """
CREATE OR REPLACE FUNCTION public.cf_refresh_course_stats(ids integer[]) RETURNS void
LANGUAGE sql AS $fn$
  UPDATE courses AS c SET lecture_count = s.n, duration_s = s.d
  FROM (
    SELECT x.id, count(l.id) AS n, coalesce(sum(l.duration_s), 0) AS d
    FROM unnest(ids) AS x(id)
    LEFT JOIN chapters ch ON ch.course_id = x.id
    LEFT JOIN lectures l ON l.chapter_id = ch.id
    GROUP BY x.id
  ) AS s
  WHERE c.id = s.id AND (c.lecture_count, c.duration_s) IS DISTINCT FROM (s.n, s.d)
$fn$
"""

# A chapter deleted with its lectures (ON DELETE CASCADE) is gone by the time the lectures'
# trigger runs, so the chapters' own trigger names its course.
LECTURES_CHANGED = """
CREATE OR REPLACE FUNCTION public.cf_lectures_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM public.cf_refresh_course_stats(ARRAY(
      SELECT DISTINCT ch.course_id FROM new_rows n JOIN chapters ch ON ch.id = n.chapter_id));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM public.cf_refresh_course_stats(ARRAY(
      SELECT DISTINCT ch.course_id FROM old_rows o JOIN chapters ch ON ch.id = o.chapter_id));
  ELSE
    PERFORM public.cf_refresh_course_stats(ARRAY(
      SELECT ch.course_id FROM new_rows n JOIN chapters ch ON ch.id = n.chapter_id
      UNION SELECT ch.course_id FROM old_rows o JOIN chapters ch ON ch.id = o.chapter_id));
  END IF;
  RETURN NULL;
END
$fn$
"""

CHAPTERS_CHANGED = """
CREATE OR REPLACE FUNCTION public.cf_chapters_changed() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM public.cf_refresh_course_stats(ARRAY(SELECT DISTINCT course_id FROM old_rows));
  ELSE
    PERFORM public.cf_refresh_course_stats(ARRAY(
      SELECT course_id FROM new_rows UNION SELECT course_id FROM old_rows));
  END IF;
  RETURN NULL;
END
$fn$
"""

TRIGGERS = [
    ('lectures', 'INSERT', 'NEW TABLE AS new_rows', 'cf_lectures_changed'),
    ('lectures', 'UPDATE', 'OLD TABLE AS old_rows NEW TABLE AS new_rows', 'cf_lectures_changed'),
    ('lectures', 'DELETE', 'OLD TABLE AS old_rows', 'cf_lectures_changed'),
    ('chapters', 'UPDATE', 'OLD TABLE AS old_rows NEW TABLE AS new_rows', 'cf_chapters_changed'),
    ('chapters', 'DELETE', 'OLD TABLE AS old_rows', 'cf_chapters_changed'),
]


def _rebuild_search_vector(expression):
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index('ix_courses_search_vector', postgresql_using='gin')
        batch_op.drop_column('search_vector')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'search_vector', postgresql.TSVECTOR(), sa.Computed(expression, persisted=True),
            nullable=False,
        ))
        batch_op.create_index(
            'ix_courses_search_vector', ['search_vector'], unique=False, postgresql_using='gin'
        )


def _trigger_name(table, event):
    return f'{table}_{event.lower()}_course_stats'


def upgrade():
    # Rows over 256 bytes move their long text (descriptions, the search vector) out of line: a
    # course row shrinks from ~2 KB to a few hundred bytes, so a search visits far fewer pages.
    op.execute('ALTER TABLE courses SET (toast_tuple_target = 256)')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'lecture_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column(
            'duration_s', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column(
            'title_vector', postgresql.TSVECTOR(), sa.Computed(TITLE_VECTOR, persisted=True),
            nullable=False,
        ))
    # Ranked for every match: kept in the row, never compressed (title and subtitle are at most
    # 500 characters, so it always fits).
    op.execute('ALTER TABLE courses ALTER COLUMN title_vector SET STORAGE PLAIN')
    # Out of line (TOAST): the GIN index finds the matches and an exact bitmap never reads the
    # vector again. Rebuilt last, so this rewrite lays out every row as set above.
    _rebuild_search_vector(SEARCH_VECTOR)
    op.create_index(
        'ix_courses_published_listing', 'courses', [sa.text('published_at DESC'), 'id'],
        unique=False, postgresql_where=sa.text("status = 'published'"),
    )
    op.execute(REFRESH)
    op.execute(LECTURES_CHANGED)
    op.execute(CHAPTERS_CHANGED)
    for table, event, referencing, function in TRIGGERS:
        op.execute(
            f'CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} '
            f'REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION public.{function}()'
        )
    op.execute('SELECT public.cf_refresh_course_stats(ARRAY(SELECT id FROM courses))')


def downgrade():
    for table, event, _referencing, _function in TRIGGERS:
        op.execute(f'DROP TRIGGER IF EXISTS {_trigger_name(table, event)} ON {table}')
    op.execute('DROP FUNCTION IF EXISTS public.cf_chapters_changed()')
    op.execute('DROP FUNCTION IF EXISTS public.cf_lectures_changed()')
    op.execute('DROP FUNCTION IF EXISTS public.cf_refresh_course_stats(integer[])')
    op.drop_index('ix_courses_published_listing', table_name='courses')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_column('title_vector')
        batch_op.drop_column('duration_s')
        batch_op.drop_column('lecture_count')
    _rebuild_search_vector(OLD_SEARCH_VECTOR)
    op.execute('ALTER TABLE courses RESET (toast_tuple_target)')
