//! Declarative sync on a real PostgreSQL server: the database ends equal to the desired
//! schema (a second plan is empty), rows are kept, existing tables get the lock-safe
//! forms, and guards refuse before anything changes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use postgres::Client;
use schemasync_postgres::testing::TestDatabase;
use schemasync_postgres::{
    ApplyOptions, Driver, Error, HazardKind, PgDriver, PgOptions, Plan, Schema,
};
use std::time::Duration;

struct Db {
    database: TestDatabase,
}

impl Db {
    fn with(sql: &str) -> Db {
        let database = TestDatabase::create();
        database.connect().batch_execute(sql).unwrap();
        Db { database }
    }

    fn driver(&self) -> PgDriver {
        PgDriver::connect(self.database.url(), PgOptions::default()).unwrap()
    }

    fn client(&self) -> Client {
        self.database.connect()
    }

    fn desired(&self, sql: &str) -> Schema {
        self.driver().normalize_sql(sql).unwrap()
    }

    fn plan(&self, desired: &Schema) -> Plan {
        let mut driver = self.driver();
        let current = driver.introspect().unwrap();
        driver.plan(&current, desired).unwrap()
    }

    fn sync_with(&self, desired: &Schema, options: &ApplyOptions) -> Result<Plan, Error> {
        let mut driver = self.driver();
        let current = driver.introspect()?;
        let plan = driver.plan(&current, desired)?;
        driver.apply(&plan, desired, options)?;
        Ok(plan)
    }

    /// Applies `sql` and asserts the database converged to it.
    fn sync(&self, sql: &str, allow_data_loss: bool) -> Plan {
        let desired = self.desired(sql);
        let options = ApplyOptions {
            allow_data_loss,
            ..ApplyOptions::default()
        };
        let plan = self.sync_with(&desired, &options).unwrap();
        let second = self.plan(&desired);
        assert!(
            second.is_empty(),
            "second plan not empty:\n{}",
            second.to_sql()
        );
        plan
    }

    fn rows(&self, sql: &str) -> Vec<String> {
        self.client()
            .query(sql, &[])
            .unwrap()
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect()
    }

    /// Everything a catalog query can tell about the managed objects, for "nothing changed".
    fn catalog(&self) -> Vec<String> {
        self.rows(
            "SELECT c.relname || ':' || c.relkind::text || ':' || coalesce(string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum), '')
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE n.nspname = 'public' GROUP BY c.relname, c.relkind ORDER BY 1",
        )
    }
}

fn sql_of(plan: &Plan) -> String {
    plan.to_sql()
}

#[test]
fn a_new_schema_is_created_on_an_empty_database() {
    let db = Db::with("");
    db.sync(
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
         CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE, mood mood DEFAULT 'ok');
         CREATE TABLE posts (id serial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE, body text CHECK (body <> ''));
         CREATE INDEX posts_user ON posts (user_id);
         CREATE VIEW user_posts AS SELECT u.email, p.body FROM users u JOIN posts p ON p.user_id = u.id;
         COMMENT ON TABLE users IS 'people';",
        false,
    );
    db.client()
        .batch_execute("INSERT INTO users (email) VALUES ('a@x'); INSERT INTO posts (user_id, body) VALUES (1, 'hi');")
        .unwrap();
    assert_eq!(
        db.rows("SELECT email || ':' || body FROM user_posts"),
        ["a@x:hi"]
    );
}

#[test]
fn an_index_on_an_existing_table_is_built_concurrently_outside_the_transaction() {
    let db = Db::with(
        "CREATE TABLE t (id int PRIMARY KEY, a text);
         INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g;",
    );
    let plan = db.sync(
        "CREATE TABLE t (id int PRIMARY KEY, a text); CREATE INDEX t_a ON t (a);",
        false,
    );
    let step = plan
        .steps
        .iter()
        .find(|s| s.description.contains("add index t_a"))
        .unwrap();
    assert!(!step.transactional);
    assert!(
        step.sql
            .iter()
            .any(|s| s.contains("CREATE INDEX CONCURRENTLY")),
        "{}",
        sql_of(&plan)
    );
    assert!(plan.has_hazard(HazardKind::IndexBuild));
    assert_eq!(db.rows("SELECT count(*)::text FROM t"), ["100"]);
}

#[test]
fn foreign_keys_and_checks_on_existing_tables_are_added_not_valid_then_validated() {
    let db = Db::with(
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int PRIMARY KEY, parent_id int, n int);
         INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1, 5);",
    );
    let plan = db.sync(
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id), n int CHECK (n > 0));",
        false,
    );
    let sql = sql_of(&plan);
    assert!(sql.contains("NOT VALID"), "{sql}");
    assert!(sql.contains("VALIDATE CONSTRAINT"), "{sql}");
    assert_eq!(
        db.rows("SELECT conname || ':' || convalidated::text FROM pg_constraint WHERE conrelid = 'child'::regclass AND contype IN ('c', 'f') ORDER BY 1"),
        ["child_n_check:true", "child_parent_id_fkey:true"]
    );
}

#[test]
fn set_not_null_on_an_existing_table_goes_through_a_validated_check() {
    let db =
        Db::with("CREATE TABLE t (id int PRIMARY KEY, a text); INSERT INTO t VALUES (1, 'x');");
    let plan = db.sync(
        "CREATE TABLE t (id int PRIMARY KEY, a text NOT NULL);",
        false,
    );
    let sql = sql_of(&plan);
    assert!(sql.contains("CHECK (\"a\" IS NOT NULL) NOT VALID"), "{sql}");
    assert!(sql.contains("SET NOT NULL"), "{sql}");
    assert_eq!(
        db.rows("SELECT count(*)::text FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'c'"),
        ["0"],
        "the helper CHECK is gone"
    );
}

#[test]
fn not_null_on_a_column_with_nulls_is_refused_naming_the_rows_and_nothing_changes() {
    let db = Db::with(
        "CREATE TABLE users (id int PRIMARY KEY, email text);
         INSERT INTO users VALUES (1, 'a'), (4, NULL), (9, NULL);",
    );
    let before = db.catalog();
    let desired = db.desired("CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);");
    let error = db
        .sync_with(&desired, &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot add NOT NULL to users.email: 2 row(s) violate it (id=4; id=9); backfill them or give a default first"
    );
    assert_eq!(db.catalog(), before);
}

#[test]
fn dropping_a_column_needs_the_flag() {
    let db =
        Db::with("CREATE TABLE t (id int PRIMARY KEY, gone text); INSERT INTO t VALUES (1, 'x');");
    let before = db.catalog();
    let desired = db.desired("CREATE TABLE t (id int PRIMARY KEY);");
    let error = db
        .sync_with(&desired, &ApplyOptions::default())
        .unwrap_err();
    assert!(matches!(error, Error::DataLossRefused { .. }), "{error}");
    assert_eq!(db.catalog(), before);
    db.sync("CREATE TABLE t (id int PRIMARY KEY);", true);
    assert_eq!(db.rows("SELECT id::text FROM t"), ["1"]);
}

#[test]
fn a_type_change_recreates_the_view_that_reads_the_column() {
    let db = Db::with(
        "CREATE TABLE t (id int PRIMARY KEY, n int);
         CREATE VIEW big AS SELECT id, n FROM t WHERE n > 10;
         INSERT INTO t VALUES (1, 5), (2, 50);",
    );
    let plan = db.sync(
        "CREATE TABLE t (id int PRIMARY KEY, n bigint);
         CREATE VIEW big AS SELECT id, n FROM t WHERE n > 10;",
        false,
    );
    assert!(plan.has_hazard(HazardKind::TableRewrite));
    assert_eq!(db.rows("SELECT id::text FROM big"), ["2"]);
    assert_eq!(db.rows("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'n'"), ["bigint"]);
}

#[test]
fn an_enum_value_is_added_in_place_before_the_transaction() {
    let db = Db::with(
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE t (id int PRIMARY KEY, m mood);
         INSERT INTO t VALUES (1, 'happy');",
    );
    let plan = db.sync(
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
         CREATE TABLE t (id int PRIMARY KEY, m mood DEFAULT 'ok');",
        false,
    );
    assert!(
        sql_of(&plan).contains("ADD VALUE IF NOT EXISTS 'ok' BEFORE 'happy'"),
        "{}",
        sql_of(&plan)
    );
    assert_eq!(
        db.rows("SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = 'mood'::regtype"),
        ["sad,ok,happy"]
    );
}

#[test]
fn a_step_blocked_by_another_session_is_retried_then_reported_and_rolled_back() {
    let db = Db::with("CREATE TABLE t (id int PRIMARY KEY);");
    let mut blocker = db.client();
    let mut holding = blocker.transaction().unwrap();
    holding
        .batch_execute("LOCK TABLE t IN ACCESS SHARE MODE")
        .unwrap();
    let options = PgOptions {
        lock_timeout: Duration::from_millis(50),
        lock_retries: 2,
        ..PgOptions::default()
    };
    let mut driver = PgDriver::connect(db.database.url(), options).unwrap();
    let desired = driver
        .normalize_sql("CREATE TABLE t (id int PRIMARY KEY, x text); CREATE TABLE u (id int);")
        .unwrap();
    let current = driver.introspect().unwrap();
    let plan = driver.plan(&current, &desired).unwrap();
    let error = driver
        .apply(&plan, &desired, &ApplyOptions::default())
        .unwrap_err();
    assert!(error.to_string().contains("gave up"), "{error}");
    assert!(error.to_string().contains("3 attempts"), "{error}");
    holding.rollback().unwrap();
    assert_eq!(
        db.rows("SELECT count(*)::text FROM pg_class WHERE relname = 'u'"),
        ["0"],
        "the transaction phase rolled back as a whole"
    );
}

#[test]
fn a_rename_hint_renames_a_column_keeping_its_values() {
    let db = Db::with(
        "CREATE TABLE t (id int PRIMARY KEY, mail text); INSERT INTO t VALUES (1, 'a@x');",
    );
    let mut desired = db.desired("CREATE TABLE t (id int PRIMARY KEY, email text);");
    desired.tables[0].columns[1].renamed_from = Some("mail".into());
    let plan = db.sync_with(&desired, &ApplyOptions::default()).unwrap();
    assert!(!plan.has_hazard(HazardKind::DataLoss));
    assert_eq!(db.rows("SELECT email FROM t"), ["a@x"]);
}

#[test]
fn the_apply_is_recorded_in_the_history_table() {
    let db = Db::with("");
    let desired = db.desired("CREATE TABLE t (id int);");
    db.sync_with(
        &desired,
        &ApplyOptions {
            label: Some("v1".into()),
            ..ApplyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        db.rows("SELECT label || ':' || schema_hash FROM public.schemasync_history"),
        [format!("v1:{}", desired.fingerprint())]
    );
    assert!(
        db.plan(&desired).is_empty(),
        "the history table is never drift"
    );
}

#[test]
fn a_materialized_view_over_a_column_whose_type_changes_is_recreated() {
    let db = Db::with(
        "CREATE TABLE t (id int PRIMARY KEY, n int);
         CREATE MATERIALIZED VIEW totals AS SELECT sum(n) AS total FROM t;
         CREATE VIEW doubled AS SELECT id, n * 2 AS n2 FROM t;
         INSERT INTO t VALUES (1, 5), (2, 7);",
    );
    db.sync(
        "CREATE TABLE t (id int PRIMARY KEY, n numeric(12,2));
         CREATE MATERIALIZED VIEW totals AS SELECT sum(n) AS total FROM t;
         CREATE VIEW doubled AS SELECT id, n * 2 AS n2 FROM t;",
        false,
    );
    assert_eq!(db.rows("SELECT total::text FROM totals"), ["12.00"]);
    assert_eq!(
        db.rows("SELECT n2::text FROM doubled ORDER BY id"),
        ["10.00", "14.00"]
    );
}

#[test]
fn a_non_public_schema_with_quoted_mixed_case_names_and_a_comment_is_synced() {
    let db = Db::with(
        "CREATE SCHEMA \"Sales\";
         CREATE TABLE \"Sales\".\"Order\" (\"OrderId\" int PRIMARY KEY);
         INSERT INTO \"Sales\".\"Order\" VALUES (7);",
    );
    db.sync(
        "CREATE SCHEMA \"Sales\";
         CREATE TABLE \"Sales\".\"Order\" (\"OrderId\" int PRIMARY KEY, \"Total Amount\" numeric);
         COMMENT ON TABLE \"Sales\".\"Order\" IS 'orders, one per checkout';
         CREATE UNIQUE INDEX \"Order_Big\" ON \"Sales\".\"Order\" (\"Total Amount\") WHERE \"Total Amount\" > 1000;
         CREATE UNIQUE INDEX \"Order_Id_Expr\" ON \"Sales\".\"Order\" ((\"OrderId\" * 10));",
        false,
    );
    assert_eq!(
        db.rows("SELECT \"OrderId\"::text FROM \"Sales\".\"Order\""),
        ["7"]
    );
    assert_eq!(
        db.rows("SELECT obj_description('\"Sales\".\"Order\"'::regclass, 'pg_class')"),
        ["orders, one per checkout"]
    );
}

#[test]
fn a_deferrable_cascading_foreign_key_and_a_check_are_added_to_tables_with_rows() {
    let db = Db::with(
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int PRIMARY KEY, parent_id int, qty int);
         INSERT INTO parent VALUES (1), (2); INSERT INTO child VALUES (10, 1, 3), (11, 2, 4);",
    );
    db.sync(
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int PRIMARY KEY,
           parent_id int REFERENCES parent(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
           qty int CONSTRAINT qty_positive CHECK (qty > 0));",
        false,
    );
    db.client()
        .batch_execute("DELETE FROM parent WHERE id = 1")
        .unwrap();
    assert_eq!(db.rows("SELECT id::text FROM child"), ["11"]);
    assert!(db
        .client()
        .batch_execute("INSERT INTO child VALUES (12, 2, 0)")
        .is_err());
}

#[test]
fn identity_serial_and_generated_columns_are_added_and_filled() {
    let db = Db::with("CREATE TABLE t (name text); INSERT INTO t VALUES ('a'), ('b');");
    db.sync(
        "CREATE TABLE t (name text,
           id bigint GENERATED BY DEFAULT AS IDENTITY,
           seq serial,
           upper_name text GENERATED ALWAYS AS (upper(name)) STORED);",
        false,
    );
    assert_eq!(
        db.rows("SELECT name || ':' || (id IS NOT NULL)::text || ':' || (seq IS NOT NULL)::text || ':' || upper_name FROM t ORDER BY name"),
        ["a:true:true:A", "b:true:true:B"]
    );
}

#[test]
fn int_to_bigint_on_a_primary_key_referenced_by_a_foreign_key_keeps_both() {
    let db = Db::with(
        "CREATE TABLE parent (id int PRIMARY KEY);
         CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent(id));
         INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1);",
    );
    db.sync(
        "CREATE TABLE parent (id bigint PRIMARY KEY);
         CREATE TABLE child (id int PRIMARY KEY, parent_id bigint REFERENCES parent(id));",
        false,
    );
    assert_eq!(db.rows("SELECT parent_id::text FROM child"), ["1"]);
}

#[test]
fn a_trigger_and_its_function_are_created_and_fire() {
    let db = Db::with("CREATE TABLE t (id int PRIMARY KEY, touched timestamptz);");
    db.sync(
        "CREATE TABLE t (id int PRIMARY KEY, touched timestamptz);
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN NEW.touched := now(); RETURN NEW; END $$;
         CREATE TRIGGER t_touch BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION touch();",
        false,
    );
    db.client()
        .batch_execute("INSERT INTO t (id) VALUES (1)")
        .unwrap();
    assert_eq!(
        db.rows("SELECT (touched IS NOT NULL)::text FROM t"),
        ["true"]
    );
}

#[test]
fn a_table_rename_through_a_hint_keeps_the_rows() {
    let db = Db::with("CREATE TABLE people (id int PRIMARY KEY); INSERT INTO people VALUES (3);");
    let mut desired = db.desired("CREATE TABLE users (id int PRIMARY KEY);");
    desired.tables[0].renamed_from = Some("people".into());
    let plan = db.sync_with(&desired, &ApplyOptions::default()).unwrap();
    assert!(!plan.has_hazard(HazardKind::DataLoss));
    assert_eq!(db.rows("SELECT id::text FROM users"), ["3"]);
    assert!(db.plan(&desired).is_empty());
}

#[test]
fn a_type_change_whose_cast_fails_is_refused_up_front_with_count_and_keys() {
    let db = Db::with(
        "CREATE TABLE t (id int PRIMARY KEY, code text);
         INSERT INTO t VALUES (1, '12'), (2, 'x9'), (3, NULL), (4, '7'), (5, '1e3');",
    );
    let before = db.catalog();
    let desired = db.desired("CREATE TABLE t (id int PRIMARY KEY, code int);");
    let error = db
        .sync_with(&desired, &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot convert t.code to integer: 2 row(s) violate it (id=2 (x9); id=5 (1e3)); fix or clear those values first"
    );
    assert_eq!(db.catalog(), before);
    assert_eq!(
        db.rows("SELECT coalesce(code, 'NULL') FROM t ORDER BY id"),
        ["12", "x9", "NULL", "7", "1e3"]
    );
    db.client()
        .batch_execute("UPDATE t SET code = '1000' WHERE id IN (2, 5)")
        .unwrap();
    db.sync("CREATE TABLE t (id int PRIMARY KEY, code int);", false);
    assert_eq!(
        db.rows("SELECT coalesce(code::text, 'NULL') FROM t ORDER BY id"),
        ["12", "1000", "NULL", "7", "1000"]
    );
}

#[test]
fn shortening_a_varchar_refuses_values_that_would_be_cut_instead_of_truncating() {
    let db = Db::with(
        "CREATE TABLE t (id int PRIMARY KEY, code varchar(10));
         INSERT INTO t VALUES (1, 'abc'), (2, 'abcdefgh');",
    );
    let desired = db.desired("CREATE TABLE t (id int PRIMARY KEY, code varchar(5));");
    let error = db
        .sync_with(&desired, &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot convert t.code to character varying(5): 1 row(s) violate it (id=2 (abcdefgh)); fix or clear those values first"
    );
    db.client()
        .batch_execute("UPDATE t SET code = 'abcde' WHERE id = 2")
        .unwrap();
    db.sync(
        "CREATE TABLE t (id int PRIMARY KEY, code varchar(5));",
        false,
    );
    assert_eq!(db.rows("SELECT code FROM t ORDER BY id"), ["abc", "abcde"]);
}

#[test]
fn a_text_column_with_a_default_becomes_an_enum_keeping_values_and_default() {
    let db = Db::with(
        "CREATE TABLE tickets (id int PRIMARY KEY, state text NOT NULL DEFAULT 'open');
         INSERT INTO tickets VALUES (1, 'open'), (2, 'closed');",
    );
    db.sync(
        "CREATE TYPE ticket_state AS ENUM ('open', 'closed');
         CREATE TABLE tickets (id int PRIMARY KEY,
                               state ticket_state NOT NULL DEFAULT 'open');",
        false,
    );
    db.client()
        .batch_execute("INSERT INTO tickets (id) VALUES (3)")
        .unwrap();
    assert_eq!(
        db.rows("SELECT state::text || ':' || pg_typeof(state)::text FROM tickets ORDER BY id"),
        [
            "open:ticket_state",
            "closed:ticket_state",
            "open:ticket_state"
        ]
    );
}

#[test]
fn a_check_on_a_column_added_in_the_same_plan_is_validated_by_the_server() {
    let db = Db::with("CREATE TABLE events (id int PRIMARY KEY); INSERT INTO events VALUES (1);");
    db.sync(
        "CREATE TABLE events (id int PRIMARY KEY,
           event_date date DEFAULT '2021-01-01' CHECK (event_date >= '2020-01-01'::date));",
        false,
    );
    assert_eq!(
        db.rows("SELECT event_date::text FROM events"),
        ["2021-01-01"]
    );
}

#[test]
fn a_function_whose_return_type_changes_is_dropped_and_created() {
    let db = Db::with("CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;");
    db.sync(
        "CREATE FUNCTION answer() RETURNS text LANGUAGE sql AS $$ SELECT 'forty-two' $$;",
        false,
    );
    assert_eq!(db.rows("SELECT answer()"), ["forty-two"]);
}

#[test]
fn a_column_renamed_and_made_unique_and_not_null_in_one_plan_is_checked_by_its_old_name() {
    let db = Db::with(
        "CREATE TABLE users (id int PRIMARY KEY, name text);
         INSERT INTO users VALUES (1, 'a'), (2, 'b');",
    );
    let mut desired =
        db.desired("CREATE TABLE users (id int PRIMARY KEY, user_name text NOT NULL UNIQUE);");
    desired.tables[0].columns[1].renamed_from = Some("name".into());
    db.sync_with(&desired, &ApplyOptions::default()).unwrap();
    assert_eq!(
        db.rows("SELECT user_name FROM users ORDER BY id"),
        ["a", "b"]
    );
    assert!(db.plan(&desired).is_empty());
}

#[test]
fn comments_on_schemas_enums_functions_and_views_are_created_changed_and_removed() {
    let objects = "CREATE SCHEMA app;
         CREATE TYPE app.mood AS ENUM ('ok', 'sad');
         CREATE FUNCTION app.answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$;
         CREATE TABLE app.t (id int PRIMARY KEY, mood app.mood);
         CREATE VIEW app.v AS SELECT id FROM app.t;
         CREATE MATERIALIZED VIEW app.m AS SELECT id FROM app.t;";
    let comments = |word: &str| {
        format!(
            "COMMENT ON SCHEMA app IS 'schema {word}';
             COMMENT ON TYPE app.mood IS 'enum {word}';
             COMMENT ON FUNCTION app.answer() IS 'function {word}';
             COMMENT ON VIEW app.v IS 'view {word}';
             COMMENT ON MATERIALIZED VIEW app.m IS 'matview {word}';"
        )
    };
    let db = Db::with("");
    let read = |db: &Db| {
        db.rows(
            "SELECT coalesce(obj_description('app'::regnamespace, 'pg_namespace'), '-') || ', ' ||
                    coalesce(obj_description('app.mood'::regtype, 'pg_type'), '-') || ', ' ||
                    coalesce(obj_description('app.answer()'::regprocedure, 'pg_proc'), '-') || ', ' ||
                    coalesce(obj_description('app.v'::regclass, 'pg_class'), '-') || ', ' ||
                    coalesce(obj_description('app.m'::regclass, 'pg_class'), '-')",
        )
    };
    db.sync(&format!("{objects}{}", comments("one")), false);
    assert_eq!(
        read(&db),
        ["schema one, enum one, function one, view one, matview one"]
    );
    db.client()
        .batch_execute("INSERT INTO app.t VALUES (1, 'ok'); REFRESH MATERIALIZED VIEW app.m;")
        .unwrap();
    let plan = db.sync(&format!("{objects}{}", comments("two")), false);
    assert!(
        !sql_of(&plan).contains("DROP"),
        "a comment change recreated something:\n{}",
        sql_of(&plan)
    );
    assert_eq!(
        read(&db),
        ["schema two, enum two, function two, view two, matview two"]
    );
    assert_eq!(db.rows("SELECT id::text FROM app.m"), ["1"]);
    db.sync(objects, false);
    assert_eq!(read(&db), ["-, -, -, -, -"]);
}

#[test]
fn removing_an_enum_label_still_in_use_is_refused_with_keys_and_applies_once_unused() {
    let db = Db::with(
        "CREATE TYPE mood AS ENUM ('ok', 'meh', 'sad');
         CREATE TABLE t (id int PRIMARY KEY, mood mood DEFAULT 'ok');
         INSERT INTO t VALUES (1, 'ok'), (2, 'meh'), (3, NULL);",
    );
    let before = db.catalog();
    let desired = "CREATE TYPE mood AS ENUM ('ok', 'sad');
         CREATE TABLE t (id int PRIMARY KEY, mood mood DEFAULT 'ok');";
    let error = db
        .sync_with(&db.desired(desired), &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot convert t.mood to mood: 1 row(s) violate it (id=2 (meh)); fix or clear those values first"
    );
    assert_eq!(db.catalog(), before);
    db.client()
        .batch_execute("UPDATE t SET mood = 'sad' WHERE id = 2")
        .unwrap();
    db.sync(desired, false);
    assert_eq!(
        db.rows("SELECT coalesce(mood::text, 'NULL') FROM t ORDER BY id"),
        ["ok", "sad", "NULL"]
    );
}

#[test]
fn a_default_calling_a_volatile_function_is_flagged_as_a_rewrite_and_a_stable_one_is_not() {
    let functions =
        "CREATE FUNCTION next_code() RETURNS int LANGUAGE sql VOLATILE AS $$ SELECT 7 $$;
         CREATE FUNCTION fixed_code() RETURNS int LANGUAGE sql STABLE AS $$ SELECT 8 $$;";
    let db = Db::with(&format!(
        "{functions} CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);"
    ));
    let rewrites = |plan: &Plan| {
        plan.steps
            .iter()
            .flat_map(|s| &s.hazards)
            .filter(|h| h.kind == HazardKind::TableRewrite)
            .map(|h| h.object.clone())
            .collect::<Vec<_>>()
    };
    let plan = db.sync(
        &format!(
            "{functions} CREATE TABLE t (id int PRIMARY KEY, a int DEFAULT next_code(),
                                        b int DEFAULT fixed_code(), c timestamptz DEFAULT now(),
                                        d uuid DEFAULT gen_random_uuid());"
        ),
        false,
    );
    assert_eq!(rewrites(&plan), ["t.a", "t.d"]);
    assert_eq!(db.rows("SELECT a::text || ',' || b::text FROM t"), ["7,8"]);
}

#[test]
fn primary_key_changes_are_ordered_around_the_columns_they_touch() {
    // the key column goes with its key
    let db = Db::with(
        "CREATE TABLE t (id bigint PRIMARY KEY, name text); INSERT INTO t VALUES (1, 'a');",
    );
    db.sync("CREATE TABLE t (name text);", true);
    assert_eq!(db.rows("SELECT name FROM t"), ["a"]);
    // a column leaving the key may lose NOT NULL
    let db = Db::with(r#"CREATE TABLE t ("UserId" integer PRIMARY KEY, name text);"#);
    db.sync(r#"CREATE TABLE t ("UserId" integer, name text);"#, false);
    // a new key over a new column
    let db = Db::with("CREATE TABLE t (a int PRIMARY KEY); INSERT INTO t VALUES (1);");
    db.sync(
        "CREATE TABLE t (a int, b int NOT NULL DEFAULT 0, PRIMARY KEY (a, b));",
        false,
    );
}

#[test]
fn a_column_moves_from_one_enum_type_to_another_through_text() {
    let db = Db::with(
        "CREATE TYPE a AS ENUM ('x', 'y'); CREATE TYPE b AS ENUM ('x', 'y');
         CREATE TABLE t (id integer PRIMARY KEY, c a); INSERT INTO t VALUES (1, 'y');",
    );
    db.sync(
        "CREATE TYPE b AS ENUM ('x', 'y'); CREATE TABLE t (id integer PRIMARY KEY, c b);",
        true,
    );
    assert_eq!(
        db.rows("SELECT c::text || ':' || pg_typeof(c) FROM t"),
        ["y:b"]
    );
}

#[test]
fn a_schema_is_dropped_with_its_tables_beside_one_whose_name_differs_in_case() {
    let db = Db::with(
        r#"CREATE SCHEMA "S"; CREATE TABLE "S".t (id integer);
           CREATE SCHEMA s; CREATE TABLE s.t (name text);"#,
    );
    db.sync(
        r#"CREATE SCHEMA "S"; CREATE TABLE "S".t (id integer);"#,
        true,
    );
}

#[test]
fn desired_sql_may_build_its_indexes_concurrently() {
    let db = Db::with("CREATE TABLE t (a integer);");
    let plan = db.sync(
        "CREATE TABLE t (a integer); CREATE INDEX CONCURRENTLY t_a ON t (a);",
        false,
    );
    assert!(sql_of(&plan).contains("CREATE INDEX CONCURRENTLY"));
}

#[test]
fn a_check_calling_a_function_of_the_same_plan_is_checked_up_front() {
    let db = Db::with(
        "CREATE TABLE t (id integer PRIMARY KEY, n integer); INSERT INTO t VALUES (1, 5), (2, -3);",
    );
    let desired = "CREATE FUNCTION add_one(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT x + 1 $$;
         CREATE TABLE t (id integer PRIMARY KEY, n integer, CONSTRAINT n_ok CHECK (add_one(n) > 0));";
    let before = db.catalog();
    let error = db
        .sync_with(&db.desired(desired), &ApplyOptions::default())
        .unwrap_err();
    assert!(
        error.to_string().contains("1 row(s) violate it (id=2)"),
        "{error}"
    );
    assert_eq!(db.catalog(), before);
    let functions = db.rows("SELECT count(*)::text FROM pg_proc WHERE proname = 'add_one'");
    assert_eq!(
        functions,
        ["0"],
        "the check's transaction must leave nothing behind"
    );
    db.client()
        .batch_execute("UPDATE t SET n = 3 WHERE id = 2")
        .unwrap();
    db.sync(desired, false);
}

#[test]
fn keys_on_a_column_added_in_the_same_plan_are_checked_with_its_default() {
    let db = Db::with(
        "CREATE TABLE users (id integer PRIMARY KEY); CREATE TABLE items (id integer PRIMARY KEY);
         INSERT INTO users VALUES (1); INSERT INTO items VALUES (1), (2);",
    );
    let before = db.catalog();
    let dangling = "CREATE TABLE users (id integer PRIMARY KEY);
         CREATE TABLE items (id integer PRIMARY KEY, owner integer DEFAULT 7 REFERENCES users (id));";
    let error = db
        .sync_with(&db.desired(dangling), &ApplyOptions::default())
        .unwrap_err();
    assert!(error.to_string().contains("2 row(s) violate it"), "{error}");
    let duplicated = "CREATE TABLE users (id integer PRIMARY KEY);
         CREATE TABLE items (id integer PRIMARY KEY, name text DEFAULT 'd' UNIQUE);";
    let error = db
        .sync_with(&db.desired(duplicated), &ApplyOptions::default())
        .unwrap_err();
    assert!(error.to_string().contains("2 row(s) violate it"), "{error}");
    assert_eq!(db.catalog(), before);
    db.sync(
        "CREATE TABLE users (id integer PRIMARY KEY);
         CREATE TABLE items (id integer PRIMARY KEY, owner integer DEFAULT 1 REFERENCES users (id),
                             name text UNIQUE);",
        false,
    );
}

#[test]
fn a_domain_check_tightened_over_violating_rows_is_refused_with_count_and_keys() {
    let current = "CREATE DOMAIN score AS integer;
         CREATE TABLE a (id integer PRIMARY KEY, s score);
         CREATE TABLE b (id integer PRIMARY KEY, s score);";
    let db = Db::with(&format!(
        "{current} INSERT INTO a VALUES (1, 5), (2, 500), (3, 700); INSERT INTO b VALUES (1, 7);"
    ));
    let before = db.catalog();
    let desired = current.replace(
        "CREATE DOMAIN score AS integer;",
        "CREATE DOMAIN score AS integer CONSTRAINT score_max CHECK (VALUE <= 100);",
    );
    let error = db
        .sync_with(&db.desired(&desired), &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot add CHECK ((VALUE <= 100)) to domain score (a.s): 2 row(s) violate it (id=2; id=3); fix those values first"
    );
    assert_eq!(db.catalog(), before);
    assert_eq!(
        db.rows("SELECT count(*)::text FROM pg_constraint WHERE conname = 'score_max'"),
        ["0"]
    );
    db.client()
        .batch_execute("UPDATE a SET s = 50 WHERE id > 1")
        .unwrap();
    db.sync(&desired, false);
}

#[test]
fn a_new_partition_over_rows_of_the_default_partition_is_refused_with_count_and_keys() {
    let current = "CREATE TABLE events (id bigint, at date NOT NULL, PRIMARY KEY (id, at))
           PARTITION BY RANGE (at);
         CREATE TABLE events_2024 PARTITION OF events
           FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE events_other PARTITION OF events DEFAULT;";
    let db = Db::with(&format!(
        "{current} INSERT INTO events VALUES (1, '2024-05-01'), (2, '2025-02-01'),
           (3, '2025-12-31'), (4, '2026-01-01');"
    ));
    let before = db.catalog();
    let desired = format!(
        "{current} CREATE TABLE events_2025 PARTITION OF events
           FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');"
    );
    let error = db
        .sync_with(&db.desired(&desired), &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot give events a partition FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') while \
         its default partition events_other holds no row inside it: 2 row(s) violate it \
         (id=2, at=2025-02-01; id=3, at=2025-12-31); move those rows out of events_other first \
         (they would belong to the new partition)"
    );
    assert_eq!(db.catalog(), before);
    assert_eq!(db.rows("SELECT count(*)::text FROM events"), ["4"]);
    db.client()
        .batch_execute("DELETE FROM events WHERE at >= '2025-01-01' AND at < '2026-01-01'")
        .unwrap();
    db.sync(&desired, false);
}

#[test]
fn attaching_a_table_with_rows_outside_the_bound_is_refused_with_count_and_keys() {
    let parent = "CREATE TABLE events (id bigint PRIMARY KEY, at date NOT NULL)
           PARTITION BY RANGE (id);";
    let db = Db::with(&format!(
        "{parent} CREATE TABLE events_low (id bigint PRIMARY KEY, at date NOT NULL);
         INSERT INTO events_low VALUES (1, '2024-01-01'), (150, '2024-01-02'), (99, '2024-01-03');"
    ));
    let before = db.catalog();
    let desired = format!(
        "{parent} CREATE TABLE events_low PARTITION OF events FOR VALUES FROM (0) TO (100);"
    );
    let error = db
        .sync_with(&db.desired(&desired), &ApplyOptions::default())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "cannot attach events_low to events FOR VALUES FROM ('0') TO ('100'): 1 row(s) violate it \
         (id=150); move or delete the rows outside the bound first"
    );
    assert_eq!(db.catalog(), before);
    db.client()
        .batch_execute("DELETE FROM events_low WHERE id >= 100")
        .unwrap();
    db.sync(&desired, false);
    assert_eq!(db.rows("SELECT count(*)::text FROM events"), ["2"]);
}

#[test]
fn a_function_body_change_is_replaced_in_place_and_its_trigger_keeps_firing() {
    let schema = |stamp: &str| {
        format!(
            "CREATE TABLE t (id integer PRIMARY KEY, note text);
             CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN NEW.note := '{stamp}'; RETURN NEW; END $$;
             CREATE TRIGGER t_stamp BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION stamp();"
        )
    };
    let db = Db::with(&schema("one"));
    let plan = db.sync(&schema("two"), false);
    let sql = sql_of(&plan);
    assert!(sql.contains("CREATE OR REPLACE FUNCTION"), "{sql}");
    assert!(!sql.contains("DROP"), "{sql}");
    db.client()
        .batch_execute("INSERT INTO t (id) VALUES (1)")
        .unwrap();
    assert_eq!(db.rows("SELECT note FROM t"), ["two"]);
}

#[test]
fn grants_and_rules_are_left_alone_by_an_unrelated_change() {
    let db = Db::with(
        "CREATE TABLE t (id integer PRIMARY KEY, name text);
         CREATE TABLE log (id integer);
         CREATE RULE t_log AS ON INSERT TO t DO ALSO INSERT INTO log VALUES (NEW.id);",
    );
    let role = format!("schemasync_reader_{}", std::process::id());
    db.client()
        .batch_execute(&format!(
            "DO $$ BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
             GRANT SELECT ON t TO {role};"
        ))
        .unwrap();
    db.sync(
        "CREATE TABLE t (id integer PRIMARY KEY, name text, extra integer);
         CREATE TABLE log (id integer);",
        false,
    );
    assert_eq!(
        db.rows(&format!(
            "SELECT has_table_privilege('{role}', 't', 'SELECT')::text"
        )),
        ["true"]
    );
    assert_eq!(
        db.rows("SELECT rulename::text FROM pg_rules WHERE tablename = 't'"),
        ["t_log"]
    );
    db.client()
        .batch_execute(&format!("REVOKE ALL ON t FROM {role}; DROP ROLE {role};"))
        .unwrap();
}

/// Collations, composite and range types and a text search configuration, with the
/// columns and the index that use them.
const CATALOG_TYPES: &str = "
    CREATE SCHEMA app;
    CREATE COLLATION app.nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
    COMMENT ON COLLATION app.nocase IS 'case-insensitive';
    CREATE COLLATION bytes (provider = libc, locale = 'C');
    CREATE TYPE app.address AS (street text COLLATE bytes, zip integer);
    COMMENT ON TYPE app.address IS 'a postal address';
    CREATE TYPE floatrange AS RANGE (subtype = float8, subtype_diff = float8mi);
    CREATE TEXT SEARCH CONFIGURATION app.search (COPY = pg_catalog.english);
    ALTER TEXT SEARCH CONFIGURATION app.search ALTER MAPPING FOR asciiword WITH simple, english_stem;
    COMMENT ON TEXT SEARCH CONFIGURATION app.search IS 'English';
    CREATE TABLE app.people (
        id integer PRIMARY KEY,
        name text COLLATE app.nocase,
        home app.address,
        homes app.address[],
        span floatrange,
        bio text
    );
    CREATE INDEX people_bio ON app.people USING gin (to_tsvector('app.search', bio));
";

#[test]
fn a_schema_with_collations_composite_and_range_types_and_a_text_search_configuration_round_trips()
{
    let db = Db::with("");
    let plan = db.sync(CATALOG_TYPES, false);
    let kinds: Vec<String> = plan.changes.iter().map(|c| c.describe()).collect();
    let position = |what: &str| {
        kinds
            .iter()
            .position(|k| k.starts_with(what))
            .unwrap_or_else(|| panic!("no {what} in {kinds:?}"))
    };
    assert!(position("create collation app.nocase") < position("create composite type"));
    assert!(position("create composite type") < position("create table app.people"));
    assert!(position("create text search configuration") < position("add index people_bio"));
    let live = db.driver().introspect().unwrap();
    assert_eq!(live.collations.len(), 2);
    assert_eq!(live.range_types.len(), 1);
    assert_eq!(
        live.text_search_configs[0].comment.as_deref(),
        Some("English")
    );
    assert!(
        live.functions.is_empty(),
        "a range type's constructors are no functions: {:?}",
        live.functions
    );
    // The model, rendered as DDL and run in a scratch database, gives the same schema.
    assert_eq!(db.driver().normalize_model(&live).unwrap(), live);
}

#[test]
fn composite_range_and_icu_collated_columns_keep_their_rows_through_an_unrelated_apply() {
    let db = Db::with(CATALOG_TYPES);
    db.client()
        .batch_execute(
            "INSERT INTO app.people VALUES
               (1, 'Ann', ROW('Main St', 12345), ARRAY[ROW('a', 1)::app.address], '[1.5,2.5)', 'running dogs'),
               (2, 'bob', NULL, NULL, 'empty', NULL);",
        )
        .unwrap();
    let rows = "SELECT id || '|' || name || '|' || coalesce(home::text, '-') || '|' \
                || coalesce(homes::text, '-') || '|' || span::text FROM app.people ORDER BY id";
    let before = db.rows(rows);
    let plan = db.sync(
        &format!("{CATALOG_TYPES} CREATE TABLE app.notes (id integer PRIMARY KEY);"),
        false,
    );
    let kinds: Vec<String> = plan.changes.iter().map(|c| c.describe()).collect();
    assert_eq!(kinds, ["create table app.notes"]);
    assert_eq!(db.rows(rows), before);
    assert_eq!(
        db.rows("SELECT name FROM app.people WHERE name = 'ANN'"),
        ["Ann"]
    );
    assert_eq!(
        db.rows("SELECT id::text FROM app.people WHERE to_tsvector('app.search', bio) @@ to_tsquery('app.search', 'running')"),
        ["1"]
    );
}
