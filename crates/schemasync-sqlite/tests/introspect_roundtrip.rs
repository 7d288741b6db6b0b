//! Introspection and DDL rendering of the SQLite driver: the model read from a database
//! is what was declared, and rendering a normalised model then reading it back gives
//! exactly the same model (`normalize_model(normalize_sql(sql)) == normalize_sql(sql)`).
#![allow(clippy::unwrap_used)]

use schemasync_core::{
    Check, Column, Deferrable, ForeignKey, Generated, Index, IndexPart, PrimaryKey,
    ReferentialAction, Schema, Table, TableOptions, Unique, View, VirtualTable,
};
use schemasync_sqlite::{Driver, SqliteDriver};

/// Normalises `sql`, checks the render round trip is exact, and returns the model.
fn round_trip(sql: &str) -> Schema {
    let mut driver = SqliteDriver::open_in_memory().unwrap();
    let normalized = driver.normalize_sql(sql).unwrap();
    let rendered = driver.normalize_model(&normalized).unwrap();
    assert_eq!(
        rendered, normalized,
        "render round trip differs for:\n{sql}"
    );
    normalized
}

fn names(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

#[test]
fn fts5_is_available_in_the_bundled_sqlite() {
    let driver = SqliteDriver::open_in_memory().unwrap();
    driver
        .connection()
        .execute_batch("CREATE VIRTUAL TABLE x USING fts5(a)")
        .unwrap();
}

#[test]
fn quoted_mixed_case_and_keyword_names_round_trip_exactly() {
    let schema = round_trip(
        r#"
        CREATE TABLE [Album] ([AlbumId] INTEGER NOT NULL, [Title] NVARCHAR(160) NOT NULL,
            CONSTRAINT [PK_Album] PRIMARY KEY ([AlbumId]));
        CREATE TABLE "we""ird;name" ("order" INT, "select" TEXT, `my col` TEXT,
            "group by" TEXT UNIQUE, CONSTRAINT "c;1" CHECK ("order" > 0));
        CREATE INDEX "ix with space" ON "we""ird;name" ("my col", "order" DESC);
        CREATE VIEW "view; drop" AS SELECT "order", "select" FROM "we""ird;name";
        "#,
    );
    let weird = schema.table("we\"ird;name").unwrap();
    let columns: Vec<_> = weird.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["order", "select", "my col", "group by"]);
    assert_eq!(weird.checks[0].name.as_deref(), Some("c;1"));
    assert_eq!(weird.indexes[0].name, "ix with space");
    assert_eq!(
        schema.table("Album").unwrap().primary_key,
        Some(PrimaryKey {
            name: Some("PK_Album".into()),
            columns: names(&["AlbumId"]),
            autoincrement: false,
        })
    );
}

#[test]
fn without_rowid_and_strict_tables_round_trip_exactly() {
    let schema = round_trip(
        "CREATE TABLE kv (k TEXT, v ANY, PRIMARY KEY (k)) WITHOUT ROWID, STRICT;
         CREATE TABLE s (id INTEGER PRIMARY KEY, n INT NOT NULL) STRICT;
         CREATE TABLE w (a TEXT PRIMARY KEY, b BLOB) WITHOUT ROWID;",
    );
    let options: Vec<_> = schema.tables.iter().map(|t| t.options.clone()).collect();
    assert_eq!(
        options,
        [
            TableOptions {
                without_rowid: true,
                strict: true
            },
            TableOptions {
                without_rowid: false,
                strict: true
            },
            TableOptions {
                without_rowid: true,
                strict: false
            },
        ]
    );
}

#[test]
fn generated_columns_round_trip_exactly() {
    let schema = round_trip(
        "CREATE TABLE g (a INT, b INT GENERATED ALWAYS AS (a  *  2) STORED,
            c TEXT AS (upper( 'x' || a )), d INT AS (a + 1) VIRTUAL NOT NULL);",
    );
    let generated: Vec<_> = schema.tables[0]
        .columns
        .iter()
        .map(|c| c.generated.clone())
        .collect();
    assert_eq!(
        generated,
        [
            None,
            Some(Generated {
                expression: "a * 2".into(),
                stored: true
            }),
            Some(Generated {
                expression: "upper( 'x' || a )".into(),
                stored: false
            }),
            Some(Generated {
                expression: "a + 1".into(),
                stored: false
            }),
        ]
    );
    assert_eq!(schema.tables[0].columns[1].data_type, "INT");
    assert!(!schema.tables[0].columns[3].nullable);
}

#[test]
fn fts5_external_content_tables_round_trip_without_their_shadow_tables() {
    let schema = round_trip(
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT, body TEXT);
         CREATE VIRTUAL TABLE docs_fts USING FTS5(title,  body, content='docs', content_rowid='id');
         CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN
           INSERT INTO docs_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
         END;",
    );
    let tables: Vec<_> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tables, ["docs"]);
    assert_eq!(
        schema.virtual_tables,
        vec![VirtualTable {
            name: "docs_fts".into(),
            module: "fts5".into(),
            arguments: "title, body, content='docs', content_rowid='id'".into(),
        }]
    );
    assert_eq!(schema.triggers[0].table, "docs");
    assert_eq!(
        schema.triggers[0].definition,
        "CREATE TRIGGER docs_ai AFTER INSERT ON docs BEGIN INSERT INTO docs_fts(rowid, title, body) \
         VALUES (new.id, new.title, new.body); END"
    );
}

#[test]
fn partial_expression_descending_and_collated_indexes_round_trip_exactly() {
    let schema = round_trip(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, Email TEXT, name TEXT, deleted_at TEXT);
         CREATE UNIQUE INDEX users_email ON users (email COLLATE nocase) WHERE deleted_at IS NULL;
         CREATE INDEX users_lower_name ON users (lower(name), id DESC);
         CREATE INDEX users_name_desc ON users (\"NAME\" COLLATE binary DESC, 'deleted_at', name || 'x');",
    );
    let indexes = &schema.table("users").unwrap().indexes;
    assert_eq!(
        indexes[0],
        Index {
            include: Vec::new(),
            name: "users_email".into(),
            unique: true,
            parts: vec![IndexPart {
                collation: Some("NOCASE".into()),
                ..IndexPart::column("Email")
            }],
            predicate: Some("deleted_at IS NULL".into()),
            method: None,
            renamed_from: None,
        }
    );
    assert_eq!(
        indexes[1].parts,
        vec![
            IndexPart::expression("lower(name)"),
            IndexPart {
                descending: true,
                ..IndexPart::column("id")
            },
        ]
    );
    assert_eq!(
        indexes[2].parts,
        vec![
            IndexPart {
                descending: true,
                collation: Some("BINARY".into()),
                ..IndexPart::column("name")
            },
            IndexPart::column("deleted_at"),
            IndexPart::expression("name || 'x'"),
        ]
    );
}

#[test]
fn views_with_column_lists_round_trip_exactly() {
    let schema = round_trip(
        "CREATE TABLE t (a INT, b INT);
         CREATE VIEW v (x, \"Y y\") AS
           SELECT a,   b -- the second
           FROM t WHERE a > 0;
         CREATE VIEW w AS SELECT x FROM v;",
    );
    assert_eq!(
        schema.views[0],
        View {
            schema: None,
            name: "v".into(),
            columns: names(&["x", "Y y"]),
            definition: "SELECT a, b FROM t WHERE a > 0".into(),
            materialized: false,
            comment: None,
            indexes: Vec::new(),
        }
    );
    assert_eq!(schema.views[1].definition, "SELECT x FROM v");
}

#[test]
fn triggers_round_trip_exactly() {
    let schema = round_trip(
        "CREATE TABLE t (a INT, changed TEXT);
         CREATE VIEW v AS SELECT a FROM t;
         CREATE TRIGGER \"t touch\" AFTER UPDATE OF a ON t FOR EACH ROW WHEN new.a <> old.a
         BEGIN UPDATE t SET changed = 'yes;  really' WHERE rowid = new.rowid; END;
         CREATE TRIGGER v_insert INSTEAD OF INSERT ON v BEGIN INSERT INTO t (a) VALUES (new.a); END;",
    );
    let on: Vec<_> = schema
        .triggers
        .iter()
        .map(|t| (t.name.as_str(), t.table.as_str()))
        .collect();
    assert_eq!(on, [("t touch", "t"), ("v_insert", "v")]);
    assert!(schema.triggers[0]
        .definition
        .contains("changed = 'yes;  really'"));
}

#[test]
fn foreign_keys_with_actions_and_deferral_round_trip_exactly() {
    let schema = round_trip(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, a INT, b INT, UNIQUE (a, b));
         CREATE TABLE child (
           id INT,
           pid INT CONSTRAINT fk_pid REFERENCES parent ON DELETE CASCADE ON UPDATE RESTRICT,
           a INT, b INT,
           q INT REFERENCES parent (id) DEFERRABLE,
           FOREIGN KEY (A, b) REFERENCES parent (a, b) ON DELETE SET NULL ON UPDATE SET DEFAULT
             DEFERRABLE INITIALLY DEFERRED,
           CONSTRAINT \"fk self\" FOREIGN KEY (id) REFERENCES child (id) NOT DEFERRABLE);",
    );
    let child = schema.table("child").unwrap();
    assert_eq!(
        child.foreign_keys,
        vec![
            ForeignKey {
                not_valid: false,
                name: Some("fk_pid".into()),
                columns: names(&["pid"]),
                referenced_schema: None,
                referenced_table: "parent".into(),
                referenced_columns: vec![],
                on_delete: ReferentialAction::Cascade,
                on_update: ReferentialAction::Restrict,
                deferrable: Deferrable::NotDeferrable,
            },
            ForeignKey {
                not_valid: false,
                name: None,
                columns: names(&["q"]),
                referenced_schema: None,
                referenced_table: "parent".into(),
                referenced_columns: names(&["id"]),
                on_delete: ReferentialAction::NoAction,
                on_update: ReferentialAction::NoAction,
                deferrable: Deferrable::InitiallyImmediate,
            },
            ForeignKey {
                not_valid: false,
                name: None,
                columns: names(&["a", "b"]),
                referenced_schema: None,
                referenced_table: "parent".into(),
                referenced_columns: names(&["a", "b"]),
                on_delete: ReferentialAction::SetNull,
                on_update: ReferentialAction::SetDefault,
                deferrable: Deferrable::InitiallyDeferred,
            },
            ForeignKey {
                not_valid: false,
                name: Some("fk self".into()),
                columns: names(&["id"]),
                referenced_schema: None,
                referenced_table: "child".into(),
                referenced_columns: names(&["id"]),
                on_delete: ReferentialAction::NoAction,
                on_update: ReferentialAction::NoAction,
                deferrable: Deferrable::NotDeferrable,
            },
        ]
    );
}

#[test]
fn composite_and_autoincrement_primary_keys_round_trip_exactly() {
    let schema = round_trip(
        "CREATE TABLE counters (id INTEGER PRIMARY KEY AUTOINCREMENT, n INT);
         CREATE TABLE named (id INTEGER CONSTRAINT pk_named PRIMARY KEY AUTOINCREMENT);
         CREATE TABLE pair (b TEXT, a INT, CONSTRAINT pk_pair PRIMARY KEY (a, b));
         CREATE TABLE plain (id INTEGER PRIMARY KEY);",
    );
    let keys: Vec<_> = schema
        .tables
        .iter()
        .map(|t| t.primary_key.clone().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            PrimaryKey {
                name: None,
                columns: names(&["id"]),
                autoincrement: true
            },
            PrimaryKey {
                name: Some("pk_named".into()),
                columns: names(&["id"]),
                autoincrement: true
            },
            PrimaryKey {
                name: Some("pk_pair".into()),
                columns: names(&["a", "b"]),
                autoincrement: false
            },
            PrimaryKey {
                name: None,
                columns: names(&["id"]),
                autoincrement: false
            },
        ]
    );
}

#[test]
fn defaults_read_back_as_sqlite_reports_them_and_round_trip_exactly() {
    let schema = round_trip(
        "CREATE TABLE d (a INT DEFAULT 0, b TEXT DEFAULT 'x', c INT DEFAULT -1,
            e INT DEFAULT (1+1), f TEXT DEFAULT CURRENT_TIMESTAMP,
            g TEXT DEFAULT (datetime('now')), h DEFAULT ( 1 +   2 ), i DEFAULT NULL,
            j REAL DEFAULT 1.5e3, k BLOB DEFAULT x'00', l TEXT DEFAULT 'it''s  here');",
    );
    let defaults: Vec<_> = schema.tables[0]
        .columns
        .iter()
        .map(|c| c.default.clone().unwrap())
        .collect();
    assert_eq!(
        defaults,
        [
            "0",
            "'x'",
            "-1",
            "1+1",
            "CURRENT_TIMESTAMP",
            "datetime('now')",
            "1 + 2",
            "NULL",
            "1.5e3",
            "x'00'",
            "'it''s  here'"
        ]
    );
}

#[test]
fn checks_and_uniques_keep_names_and_declaration_order() {
    let schema = round_trip(
        "CREATE TABLE t (
           a INT CHECK (a > 0) UNIQUE,
           b TEXT COLLATE NoCase CONSTRAINT b_short CHECK (length(b) <   10),
           c INT CONSTRAINT uq_c UNIQUE,
           CONSTRAINT ab_differ CHECK (a <> c),
           UNIQUE (B, a),
           CHECK (c IS NOT NULL));",
    );
    let table = &schema.tables[0];
    assert_eq!(
        table.checks,
        vec![
            Check {
                not_valid: false,
                name: None,
                expression: "a > 0".into()
            },
            Check {
                not_valid: false,
                name: Some("b_short".into()),
                expression: "length(b) < 10".into()
            },
            Check {
                not_valid: false,
                name: Some("ab_differ".into()),
                expression: "a <> c".into()
            },
            Check {
                not_valid: false,
                name: None,
                expression: "c IS NOT NULL".into()
            },
        ]
    );
    assert_eq!(
        table.uniques,
        vec![
            Unique {
                name: None,
                columns: names(&["a"])
            },
            Unique {
                name: Some("uq_c".into()),
                columns: names(&["c"])
            },
            Unique {
                name: None,
                columns: names(&["b", "a"])
            },
        ]
    );
    assert_eq!(table.columns[1].collation.as_deref(), Some("NOCASE"));
}

#[test]
fn introspection_gives_the_declared_model_field_by_field() {
    let schema = round_trip(
        "CREATE TABLE IF NOT EXISTS \"Order Items\" (
           id integer PRIMARY KEY,
           sku varchar ( 32 )  NOT NULL DEFAULT 'none' COLLATE rtrim,
           qty INT NOT NULL CHECK (qty >= 0),
           note,
           FOREIGN KEY (sku) REFERENCES products (sku) ON DELETE CASCADE);",
    );
    let mut expected = Table::new("Order Items");
    expected.columns = vec![
        Column::new("id", "INTEGER"),
        Column {
            nullable: false,
            default: Some("'none'".into()),
            collation: Some("RTRIM".into()),
            ..Column::new("sku", "VARCHAR ( 32 )")
        },
        Column {
            nullable: false,
            ..Column::new("qty", "INT")
        },
        Column::new("note", ""),
    ];
    expected.primary_key = Some(PrimaryKey {
        name: None,
        columns: names(&["id"]),
        autoincrement: false,
    });
    expected.foreign_keys = vec![ForeignKey {
        not_valid: false,
        name: None,
        columns: names(&["sku"]),
        referenced_schema: None,
        referenced_table: "products".into(),
        referenced_columns: names(&["sku"]),
        on_delete: ReferentialAction::Cascade,
        on_update: ReferentialAction::NoAction,
        deferrable: Deferrable::NotDeferrable,
    }];
    expected.checks = vec![Check {
        not_valid: false,
        name: None,
        expression: "qty >= 0".into(),
    }];
    assert_eq!(
        schema,
        Schema {
            tables: vec![expected],
            ..Schema::default()
        }
    );
}

#[test]
fn hand_written_models_come_out_in_canonical_form() {
    let mut table = Table::new("t");
    table.columns = vec![
        Column {
            default: Some("0".into()),
            collation: Some("nocase".into()),
            ..Column::new("a", "integer")
        },
        Column::new("b", "varchar(10)"),
    ];
    table.indexes.push(Index {
        include: Vec::new(),
        name: "t_b".into(),
        unique: false,
        parts: vec![IndexPart::column("B")],
        predicate: None,
        method: None,
        renamed_from: Some("old_t_b".into()),
    });
    let model = Schema {
        tables: vec![table],
        ..Schema::default()
    };
    let mut driver = SqliteDriver::open_in_memory().unwrap();
    let normalized = driver.normalize_model(&model).unwrap();
    let t = &normalized.tables[0];
    assert_eq!(t.columns[0].data_type, "INTEGER");
    assert_eq!(t.columns[0].collation.as_deref(), Some("NOCASE"));
    assert_eq!(t.columns[1].data_type, "VARCHAR(10)");
    assert_eq!(t.indexes[0].parts, vec![IndexPart::column("b")]);
    assert_eq!(t.indexes[0].renamed_from, None);
}

#[test]
fn internal_tables_are_not_part_of_the_schema() {
    let schema = round_trip(
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);
         INSERT INTO t DEFAULT VALUES;
         CREATE TABLE schemasync_history (version TEXT);
         CREATE TABLE SchemaSync_Other (x);
         CREATE INDEX schemasync_ix ON schemasync_history (version);
         ANALYZE;",
    );
    let tables: Vec<_> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tables, ["t"]);
}

#[test]
fn introspection_never_writes() {
    let mut driver = SqliteDriver::open_in_memory().unwrap();
    driver
        .connection()
        .execute_batch(
            "CREATE TABLE t (a INT UNIQUE, b INT REFERENCES t (a));
             CREATE INDEX t_b ON t (b);
             CREATE VIEW v AS SELECT a FROM t;
             CREATE VIRTUAL TABLE f USING fts5(x);
             PRAGMA query_only = ON;",
        )
        .unwrap();
    let schema = driver.introspect().unwrap();
    assert_eq!(schema.tables.len(), 1);
    assert_eq!(schema.virtual_tables.len(), 1);
}

#[test]
fn sql_that_sqlite_rejects_names_the_failing_statement() {
    let mut driver = SqliteDriver::open_in_memory().unwrap();
    let error = driver
        .normalize_sql("CREATE TABLE a (x);\nCREATE TABLE b (y INT,, z);")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("invalid schema: statement 2 of the SQL"),
        "{error}"
    );
    assert!(error.contains("CREATE TABLE b"), "{error}");
    let error = driver
        .normalize_sql("CREATE TABLE a (x);\nCREATE INDEX i ON missing (x);")
        .unwrap_err()
        .to_string();
    assert!(error.contains("statement 2"), "{error}");
    assert!(error.contains("no such table"), "{error}");
}

#[test]
fn chinook_round_trips_exactly_with_its_eleven_foreign_keys() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/real-schemas/sqlite/chinook/schema.sql"
    );
    let sql = std::fs::read_to_string(path).unwrap();
    let schema = round_trip(&sql);
    let tables: Vec<_> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        tables,
        [
            "Album",
            "Artist",
            "Customer",
            "Employee",
            "Genre",
            "Invoice",
            "InvoiceLine",
            "MediaType",
            "Playlist",
            "PlaylistTrack",
            "Track"
        ]
    );
    let foreign_keys: usize = schema.tables.iter().map(|t| t.foreign_keys.len()).sum();
    assert_eq!(foreign_keys, 11);
    let indexes: usize = schema.tables.iter().map(|t| t.indexes.len()).sum();
    assert_eq!(indexes, 11);
    let track = schema.table("Track").unwrap();
    let referenced: Vec<_> = track
        .foreign_keys
        .iter()
        .map(|f| f.referenced_table.as_str())
        .collect();
    assert_eq!(referenced, ["Album", "Genre", "MediaType"]);
    assert_eq!(
        track.primary_key.as_ref().unwrap().name.as_deref(),
        Some("PK_Track")
    );
    assert_eq!(
        track.column("UnitPrice").unwrap().data_type,
        "NUMERIC(10,2)"
    );
}

#[test]
fn tables_changed_by_alter_table_still_round_trip_exactly() {
    let schema = round_trip(
        "CREATE TABLE t (a INT, b TEXT, c INT);
         ALTER TABLE t ADD COLUMN d TEXT CONSTRAINT d_short CHECK (length(d) < 5) REFERENCES t (a);
         ALTER TABLE t ADD COLUMN e INT AS (a * 3) VIRTUAL;
         ALTER TABLE t RENAME COLUMN b TO \"B 2\";
         ALTER TABLE t DROP COLUMN c;
         ALTER TABLE t RENAME TO \"T renamed\";",
    );
    let table = schema.table("T renamed").unwrap();
    let columns: Vec<_> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(columns, ["a", "B 2", "d", "e"]);
    assert_eq!(table.checks[0].name.as_deref(), Some("d_short"));
    assert_eq!(table.foreign_keys[0].columns, names(&["d"]));
    assert_eq!(table.foreign_keys[0].referenced_table, "T renamed");
}

#[test]
fn comments_conflict_clauses_and_qualified_names_do_not_disturb_reading() {
    let schema = round_trip(
        "CREATE TABLE IF NOT EXISTS main.t ( -- the table
           id INTEGER /* key */ PRIMARY KEY ON CONFLICT REPLACE,
           a TEXT CONSTRAINT a_nn NOT NULL ON CONFLICT IGNORE CONSTRAINT a_ck CHECK (a <> ''),
           b TEXT UNIQUE ON CONFLICT ABORT, -- trailing, with a comma
           CHECK (/* inner */ b   IS NOT NULL)
         );
         CREATE TEMP TABLE scratch (x);
         CREATE INDEX IF NOT EXISTS main.t_a ON t (a) -- why
         ;",
    );
    let tables: Vec<_> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tables, ["t"]);
    let table = &schema.tables[0];
    assert_eq!(
        table.checks,
        vec![
            Check {
                not_valid: false,
                name: Some("a_ck".into()),
                expression: "a <> ''".into()
            },
            Check {
                not_valid: false,
                name: None,
                expression: "b IS NOT NULL".into()
            },
        ]
    );
    assert_eq!(table.uniques[0].columns, names(&["b"]));
    assert_eq!(table.indexes[0].parts, vec![IndexPart::column("a")]);
}

#[test]
fn postgres_only_objects_in_a_model_are_refused_for_sqlite() {
    let mut driver = schemasync_sqlite::SqliteDriver::open_in_memory().unwrap();
    let schema = schemasync_sqlite::Schema {
        enums: vec![schemasync_sqlite::schemasync_core::EnumType {
            schema: None,
            name: "mood".into(),
            values: vec!["sad".into(), "happy".into()],
            comment: None,
            renamed_from: None,
        }],
        ..schemasync_sqlite::Schema::default()
    };
    let error = driver.normalize_model(&schema).unwrap_err();
    assert_eq!(
        error.to_string(),
        "unsupported: SQLite has no enum types, so enum mood cannot be created there"
    );
}
