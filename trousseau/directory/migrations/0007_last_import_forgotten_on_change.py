"""A school's LastImport is deleted, in the same transaction, by any change an import would read.

PostgreSQL only (the command line's engine, the only one that leaves schools out). Statement-level
triggers see the changed rows as transition tables, so an import that writes a million rows pays one
set-based DELETE per statement, not one per row. Account updates are row-level with a WHEN clause:
a login or an activation (last_login, state provisional → active) does not even call the function.
Account inserts are left alone: an account made outside an import is one a re-read would not make.
"""

from django.db import migrations

FORGET = "DELETE FROM directory_lastimport WHERE school_id IN"


def _by_rows(name: str, schools_of: str) -> str:
    """A statement trigger's function: the schools of the rows it changed (`{rows}`: changed, then before)."""
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {FORGET} ({schools_of.format(rows="changed")});
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {FORGET} ({schools_of.format(rows="before")});
    END IF;
    RETURN NULL;
END $$;
"""


FUNCTIONS = (
    _by_rows("directory_forget_by_school", "SELECT school_id FROM {rows}")
    + _by_rows(
        "directory_forget_by_pupil",
        "SELECT p.school_id FROM directory_pupil p WHERE p.id IN (SELECT pupil_id FROM {rows})",
    )
    + _by_rows(
        "directory_forget_by_guardian",
        "SELECT g.school_id FROM directory_guardian g WHERE g.id IN (SELECT guardian_id FROM {rows})",
    )
    + f"""
CREATE FUNCTION directory_forget_by_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {FORGET} (
        SELECT p.school_id FROM directory_pupil p WHERE p.id IN (OLD.pupil_id, NEW.pupil_id)
        UNION
        SELECT g.school_id FROM accounts_accountguardian ag JOIN directory_guardian g ON g.id = ag.guardian_id
        WHERE ag.account_id = NEW.id
    );
    RETURN NULL;
END $$;

CREATE FUNCTION directory_forget_by_deleted_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {FORGET} (SELECT p.school_id FROM directory_pupil p WHERE p.id IN (SELECT pupil_id FROM before));
    RETURN NULL;
END $$;
"""
)


def _statement_triggers(table: str, function: str) -> str:
    return f"""
CREATE TRIGGER {table}_forget_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_forget_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS before NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION {function}();
CREATE TRIGGER {table}_forget_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS before FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


TRIGGERS = (
    _statement_triggers("directory_pupil", "directory_forget_by_school")
    + _statement_triggers("directory_guardian", "directory_forget_by_school")
    + _statement_triggers("directory_guardianship", "directory_forget_by_pupil")
    + _statement_triggers("accounts_accountguardian", "directory_forget_by_guardian")
    + """
CREATE TRIGGER accounts_account_forget_update AFTER UPDATE ON accounts_account FOR EACH ROW
    WHEN ((OLD.state = 'disabled') IS DISTINCT FROM (NEW.state = 'disabled')
          OR OLD.first_name IS DISTINCT FROM NEW.first_name OR OLD.last_name IS DISTINCT FROM NEW.last_name
          OR OLD.merged_into_id IS DISTINCT FROM NEW.merged_into_id OR OLD.pupil_id IS DISTINCT FROM NEW.pupil_id
          OR OLD.kind IS DISTINCT FROM NEW.kind)
    EXECUTE FUNCTION directory_forget_by_account();
CREATE TRIGGER accounts_account_forget_delete AFTER DELETE ON accounts_account
    REFERENCING OLD TABLE AS before FOR EACH STATEMENT EXECUTE FUNCTION directory_forget_by_deleted_account();
CREATE TRIGGER directory_school_forget_update AFTER UPDATE ON directory_school FOR EACH ROW
    WHEN (OLD.uai IS DISTINCT FROM NEW.uai OR OLD.level IS DISTINCT FROM NEW.level
          OR OLD.academie IS DISTINCT FROM NEW.academie)
    EXECUTE FUNCTION directory_forget_school();
"""
)

SCHOOL_FUNCTION = f"""
CREATE FUNCTION directory_forget_school() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {FORGET} (NEW.id);
    RETURN NULL;
END $$;
"""

DROP = (
    """
DROP TRIGGER IF EXISTS directory_school_forget_update ON directory_school;
DROP TRIGGER IF EXISTS accounts_account_forget_delete ON accounts_account;
DROP TRIGGER IF EXISTS accounts_account_forget_update ON accounts_account;
"""
    + "".join(
        f"DROP TRIGGER IF EXISTS {table}_forget_{event} ON {table};\n"
        for table in ("directory_pupil", "directory_guardian", "directory_guardianship", "accounts_accountguardian")
        for event in ("insert", "update", "delete")
    )
    + """
DROP FUNCTION IF EXISTS directory_forget_by_school(), directory_forget_by_pupil(), directory_forget_by_guardian(),
    directory_forget_by_account(), directory_forget_by_deleted_account(), directory_forget_school();
"""
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS + SCHOOL_FUNCTION + TRIGGERS)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0006_last_import"),
        ("accounts", "0011_auditevent_moved_to_audit"),
    ]

    operations = [
        migrations.RemoveField(model_name="lastimport", name="records"),
        migrations.RunPython(create, drop),
    ]
