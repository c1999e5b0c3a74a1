"""S2: database triggers that make the audit table append-only for every client.

The only way past them is the maintenance flag that `careloop flush` (the whole-database wipe
used by test teardown; refused in production) sets on its own connection.
"""

TABLE = "audit_auditevent"

PG_CREATE = f"""
CREATE OR REPLACE FUNCTION careloop_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('careloop.audit_purge', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '审计日志只能追加，不能修改或删除 (%)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS careloop_audit_no_change ON {TABLE};
CREATE TRIGGER careloop_audit_no_change BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION careloop_audit_append_only();
DROP TRIGGER IF EXISTS careloop_audit_no_truncate ON {TABLE};
CREATE TRIGGER careloop_audit_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION careloop_audit_append_only();
"""

PG_DROP = f"""
DROP TRIGGER IF EXISTS careloop_audit_no_change ON {TABLE};
DROP TRIGGER IF EXISTS careloop_audit_no_truncate ON {TABLE};
DROP FUNCTION IF EXISTS careloop_audit_append_only();
"""

SQLITE_CREATE = [
    f"""CREATE TRIGGER IF NOT EXISTS careloop_audit_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能修改'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS careloop_audit_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能删除'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS careloop_audit_no_update",
    "DROP TRIGGER IF EXISTS careloop_audit_no_delete",
]


def create(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PG_CREATE)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_CREATE:
                cursor.execute(statement)


def drop(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(PG_DROP)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_DROP:
                cursor.execute(statement)
