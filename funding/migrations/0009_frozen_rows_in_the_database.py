"""The database itself refuses to change a revision in force, or the adoptions that made it so.

StrategyRevision.save() and StrategyAdoption.save() refuse already; these triggers hold the rule
for every other writer too (bulk updates, raw SQL, another program on the same database).
Deleting stays possible at the SQL level: restore_data --replace empties every table with
DELETE, and the models refuse deleting frozen rows themselves.
"""

from django.db import migrations

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION funding_refuse_frozen_revision() RETURNS trigger AS $$
    BEGIN
        IF OLD.status = 'in_force' THEN
            RAISE EXCEPTION 'strategy revision % is in force and frozen', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER funding_revision_frozen BEFORE UPDATE ON funding_strategyrevision
    FOR EACH ROW EXECUTE FUNCTION funding_refuse_frozen_revision()
    """,
    """
    CREATE OR REPLACE FUNCTION funding_refuse_frozen_adoption() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (
            SELECT 1 FROM funding_strategyrevision
            WHERE id = OLD.revision_id AND status = 'in_force'
        ) THEN
            RAISE EXCEPTION 'the adoption % belongs to a revision in force', OLD.id
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER funding_adoption_frozen BEFORE UPDATE ON funding_strategyadoption
    FOR EACH ROW EXECUTE FUNCTION funding_refuse_frozen_adoption()
    """,
]
POSTGRESQL_REVERSE = [
    "DROP TRIGGER IF EXISTS funding_revision_frozen ON funding_strategyrevision",
    "DROP FUNCTION IF EXISTS funding_refuse_frozen_revision()",
    "DROP TRIGGER IF EXISTS funding_adoption_frozen ON funding_strategyadoption",
    "DROP FUNCTION IF EXISTS funding_refuse_frozen_adoption()",
]
SQLITE = [
    """
    CREATE TRIGGER funding_revision_frozen BEFORE UPDATE ON funding_strategyrevision
    FOR EACH ROW WHEN OLD.status = 'in_force'
    BEGIN SELECT RAISE(ABORT, 'strategy revision is in force and frozen'); END
    """,
    """
    CREATE TRIGGER funding_adoption_frozen BEFORE UPDATE ON funding_strategyadoption
    FOR EACH ROW WHEN EXISTS (
        SELECT 1 FROM funding_strategyrevision WHERE id = OLD.revision_id AND status = 'in_force'
    )
    BEGIN SELECT RAISE(ABORT, 'the adoption belongs to a revision in force'); END
    """,
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS funding_revision_frozen",
    "DROP TRIGGER IF EXISTS funding_adoption_frozen",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            # No parameters: PL/pgSQL's own % placeholders are not Python's.
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("funding", "0008_strategy_version")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
