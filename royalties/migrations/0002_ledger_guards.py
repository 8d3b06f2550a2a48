"""On PostgreSQL the database itself keeps the ledger honest: journal rows can be neither updated
nor deleted, and every INSERT of lines must leave each entry it touches balanced per currency
(a statement-level trigger over the inserted rows, so COPY of a million lines is checked once;
the posting service writes all lines of an entry in one statement).
SQLite relies on the models (they refuse updates and deletes) and the posting service."""

from django.db import migrations

IMMUTABLE = """
CREATE OR REPLACE FUNCTION royalties_ledger_is_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: % on % refused; post a reversing entry', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'integrity_constraint_violation';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER royalties_journalentry_append_only BEFORE UPDATE OR DELETE ON royalties_journalentry
  FOR EACH ROW EXECUTE FUNCTION royalties_ledger_is_append_only();
CREATE TRIGGER royalties_journalline_append_only BEFORE UPDATE OR DELETE ON royalties_journalline
  FOR EACH ROW EXECUTE FUNCTION royalties_ledger_is_append_only();

CREATE OR REPLACE FUNCTION royalties_lines_balance() RETURNS trigger AS $$
DECLARE bad record;
BEGIN
  -- An entry's lines are always inserted by one statement (royalties.ledger), so the
  -- inserted rows alone must balance per entry and currency.
  SELECT i.entry_id, i.currency, SUM(i.amount) AS total INTO bad
    FROM inserted i GROUP BY i.entry_id, i.currency HAVING SUM(i.amount) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'journal entry % does not balance in %: %', bad.entry_id, bad.currency, bad.total
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER royalties_journalline_balance AFTER INSERT ON royalties_journalline
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION royalties_lines_balance();
"""
DROP = """
DROP TRIGGER IF EXISTS royalties_journalline_balance ON royalties_journalline;
DROP TRIGGER IF EXISTS royalties_journalline_append_only ON royalties_journalline;
DROP TRIGGER IF EXISTS royalties_journalentry_append_only ON royalties_journalentry;
DROP FUNCTION IF EXISTS royalties_lines_balance();
DROP FUNCTION IF EXISTS royalties_ledger_is_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(IMMUTABLE, params=None)  # no placeholders: RAISE uses % itself


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("royalties", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
