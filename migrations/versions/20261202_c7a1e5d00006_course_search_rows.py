"""course search rows: a narrow table per published course for text search, kept by a trigger

Revision ID: c7a1e5d00006
Revises: c7a1e5d00005
Create Date: 2026-12-02

A text search visits every match (22,000 rows for "python" at 100,000 courses) to rank and count
them. On courses those matches sat on 12,300 of 16,200 pages of ~1.9 KB rows; course_search holds
only what a search reads. The vectors move here from the courses row, which halves.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'c7a1e5d00006'
down_revision = 'c7a1e5d00005'
branch_labels = None
depends_on = None


def _weighted(column, weight):
    text = f"public.cf_unaccent(coalesce({column}, ''))"
    return (
        f"setweight(to_tsvector('english'::regconfig, {text}) || "
        f"to_tsvector('simple'::regconfig, {text}), '{weight}')"
    )


def _title(row):
    return f"{_weighted(row + 'title', 'A')} || {_weighted(row + 'subtitle', 'B')}"


def _search(row):
    return f"strip({_title(row)} || {_weighted(row + 'description_md', 'C')})"


COLUMNS = 'course_id, published_at, category_id, level, language, title_vector, search_vector'


def _values(row):
    return (
        f"{row}id, {row}published_at, {row}category_id, {row}level, {row}language, "
        f"{_title(row)}, {_search(row)}"
    )


# A row per published course; any other status has none. AFTER the write, so a failed
# statement leaves nothing; ON DELETE CASCADE removes the row of a deleted course.
SYNC = f"""
CREATE OR REPLACE FUNCTION public.cf_sync_course_search() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.status = 'published' THEN
    INSERT INTO course_search ({COLUMNS})
    VALUES ({_values('NEW.')})
    ON CONFLICT (course_id) DO UPDATE SET
      published_at = EXCLUDED.published_at, category_id = EXCLUDED.category_id,
      level = EXCLUDED.level, language = EXCLUDED.language,
      title_vector = EXCLUDED.title_vector, search_vector = EXCLUDED.search_vector;
  ELSE
    DELETE FROM course_search WHERE course_id = NEW.id;
  END IF;
  RETURN NULL;
END
$fn$
"""
WATCHED = ('status', 'published_at', 'category_id', 'level', 'language', 'title', 'subtitle',
           'description_md')
CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in WATCHED)

OLD_TITLE_VECTOR = _title('')
OLD_SEARCH_VECTOR = _search('')


def upgrade():
    op.create_table(
        'course_search',
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('level', sa.String(length=24), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('title_vector', postgresql.TSVECTOR(), nullable=False),
        sa.Column('search_vector', postgresql.TSVECTOR(), nullable=False),
        sa.ForeignKeyConstraint(
            ['course_id'], ['courses.id'], name=op.f('fk_course_search_course_id_courses'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('course_id', name=op.f('pk_course_search')),
    )
    # Both vectors are read for every match: kept in the row, never compressed or moved out.
    op.execute('ALTER TABLE course_search ALTER COLUMN title_vector SET STORAGE PLAIN')
    op.execute('ALTER TABLE course_search ALTER COLUMN search_vector SET STORAGE PLAIN')
    op.execute(SYNC)
    op.execute(
        'CREATE TRIGGER courses_insert_course_search AFTER INSERT ON courses '
        'FOR EACH ROW EXECUTE FUNCTION public.cf_sync_course_search()'
    )
    op.execute(
        'CREATE TRIGGER courses_update_course_search AFTER UPDATE ON courses '
        f'FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION public.cf_sync_course_search()'
    )
    op.execute(
        f"INSERT INTO course_search ({COLUMNS}) "
        f"SELECT {_values('c.')} FROM courses c WHERE c.status = 'published'"
    )
    op.create_index(
        'ix_course_search_search_vector', 'course_search', ['search_vector'], unique=False,
        postgresql_using='gin',
    )
    # A subject filter narrows a common word's matches before the heap is read (a BitmapAnd).
    op.create_index('ix_course_search_category_id', 'course_search', ['category_id'], unique=False)
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index('ix_courses_search_vector', postgresql_using='gin')
        batch_op.drop_column('search_vector')
        batch_op.drop_column('title_vector')


def downgrade():
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'title_vector', postgresql.TSVECTOR(), sa.Computed(OLD_TITLE_VECTOR, persisted=True),
            nullable=False,
        ))
        batch_op.add_column(sa.Column(
            'search_vector', postgresql.TSVECTOR(),
            sa.Computed(OLD_SEARCH_VECTOR, persisted=True), nullable=False,
        ))
        batch_op.create_index(
            'ix_courses_search_vector', ['search_vector'], unique=False, postgresql_using='gin'
        )
    op.execute('ALTER TABLE courses ALTER COLUMN title_vector SET STORAGE PLAIN')
    op.execute('DROP TRIGGER IF EXISTS courses_update_course_search ON courses')
    op.execute('DROP TRIGGER IF EXISTS courses_insert_course_search ON courses')
    op.execute('DROP FUNCTION IF EXISTS public.cf_sync_course_search()')
    op.drop_table('course_search')
