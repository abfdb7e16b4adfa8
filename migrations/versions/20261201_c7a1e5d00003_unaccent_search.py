"""unaccent search

Revision ID: c7a1e5d00003
Revises: c7a1e5d00002
Create Date: 2026-12-01 20:00:00

"""
import unicodedata

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = 'c7a1e5d00003'
down_revision = 'c7a1e5d00002'
branch_labels = None
depends_on = None


def _vector(wrap):
    parts = []
    for column, weight in (('title', 'A'), ('subtitle', 'B'), ('description_md', 'C')):
        text = wrap(f"coalesce({column}, '')")
        parts.append(
            f"setweight(to_tsvector('english'::regconfig, {text}) || "
            f"to_tsvector('simple'::regconfig, {text}), '{weight}')"
        )
    return ' || '.join(parts)


OLD_VECTOR = _vector(lambda text: text)
# Issue 8, defect 6: "analisis" finds "Análisis"; the query side calls the same function.
NEW_VECTOR = _vector(lambda text: f'public.cf_unaccent({text})')

# A generated column needs an IMMUTABLE expression; unaccent() is only STABLE (its dictionary
# could change), so it is wrapped, with the dictionary named explicitly so search_path does not
# matter. Changing the function body later needs the column regenerated (as below).
UNACCENT_BODY = "SELECT public.unaccent('public.unaccent'::regdictionary, $1)"

# Fallback when the server has no unaccent contrib module (the embedded pgserver build ships
# only plpgsql and vector): Latin-1 and Latin Extended-A/B letters folded by their Unicode
# decomposition, plus the letters that do not decompose. Ligatures need replace() (2 letters).
_EXTRA = {'Ø': 'O', 'ø': 'o', 'Đ': 'D', 'đ': 'd', 'Ł': 'L', 'ł': 'l', 'Ħ': 'H', 'ħ': 'h', 'ı': 'i'}
_LIGATURES = {'ß': 'ss', 'Æ': 'AE', 'æ': 'ae', 'Œ': 'OE', 'œ': 'oe', 'Þ': 'TH', 'þ': 'th'}


def _fallback_body():
    pairs = dict(_EXTRA)
    for cp in range(0xC0, 0x250):
        char = chr(cp)
        base = ''.join(
            c for c in unicodedata.normalize('NFKD', char) if not unicodedata.combining(c)
        )
        if len(base) == 1 and base.isascii() and base.isalpha() and base != char:
            pairs[char] = base
    expr = f"translate($1, '{''.join(pairs)}', '{''.join(pairs.values())}')"
    for lig, plain in _LIGATURES.items():
        expr = f"replace({expr}, '{lig}', '{plain}')"
    return f'SELECT {expr}'


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


def upgrade():
    available = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'unaccent'")
    )
    if available:
        op.execute('CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public')
    body = UNACCENT_BODY if available else _fallback_body()
    op.execute(
        'CREATE OR REPLACE FUNCTION public.cf_unaccent(text) RETURNS text '
        f'LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$ {body} $fn$'
    )
    _rebuild_search_vector(NEW_VECTOR)


def downgrade():
    _rebuild_search_vector(OLD_VECTOR)
    op.execute('DROP FUNCTION IF EXISTS public.cf_unaccent(text)')
    # The unaccent extension stays: other objects may have come to depend on it.
