//! Reads a live PostgreSQL schema from `pg_catalog` into the model, in bulk: one query
//! per object kind for the whole database, never one per table. Per-row deparsing
//! functions (`pg_get_constraintdef`, `pg_get_indexdef`) run only for the rows whose
//! value is used, and column comments come from a join rather than `col_description`
//! (a query per column): on 500 tables those were most of the time
//! (`cargo xtask bench introspect`).
//!
//! What it reads: every schema but `pg_catalog`, `information_schema`, `pg_toast*` and
//! `pg_temp*`; objects that belong to an extension (`pg_depend.deptype = 'e'`) and tables
//! named `schemasync_*` (our own bookkeeping) are left out. `public` is the default
//! namespace (`schema: None`) and never listed in `namespaces`. A partitioned table
//! carries its key (`pg_get_partkeydef`), a partition its parent and bound
//! (`pg_get_expr(relpartbound)`); what a partition inherits from its parent (keys,
//! foreign keys, CHECKs, indexes, triggers) is read on the parent only. Row-level
//! security (`relrowsecurity`, `relforcerowsecurity`) and policies (`pg_policy`, one
//! query; expressions by `pg_get_expr`) belong to each relation, partitions included. Introspection never writes and never decides what a change
//! should be. It sets `search_path = public` and `jit = off` (compiling costs more than
//! these queries take) for its own queries and restores the session's values afterwards.
//! It needs PostgreSQL 12 or later (`attgenerated`).
//!
//! Canonical form (the server's own text, so `.sql`, hand-written models and live
//! databases all come out the same):
//! - column type: `format_type(atttypid, atttypmod)` (`character varying(160)`,
//!   `timestamp with time zone`, `app.mood`);
//! - default: `pg_get_expr(adbin, adrelid)` (`nextval('t_id_seq'::regclass)`,
//!   `'x'::text`); none for identity and generated columns;
//! - generated (STORED) expression, CHECK expression (`pg_get_expr(conbin)`, the text
//!   inside `CHECK (…)`), index predicate: `pg_get_expr`, not pretty-printed;
//! - collation (columns and index keys): only when it differs from the type's (column)
//!   or the column's (index key); `schema.name` outside `pg_catalog` and `public`;
//! - index expression keys: `pg_get_indexdef(indexrelid, k, true)` (`lower(email)`,
//!   `(a + b)`); method `None` for btree;
//! - exclusion constraints: `pg_get_constraintdef`; views: `pg_get_viewdef(oid, true)`
//!   whitespace folded, without the trailing `;`; triggers: `pg_get_triggerdef(oid, true)`;
//!   functions: `pg_get_functiondef` verbatim;
//! - sequences: bounds `None` when they are the defaults for the type and direction;
//!   `owned_by` is `table.column` (PostgreSQL keeps a sequence in its table's schema);
//!   sequences of identity columns are not listed (they belong to the column);
//! - order: namespaces by name; tables, views, enums, sequences and functions with
//!   `public` first, then by schema and name; columns by position; constraints and
//!   indexes by name.

use crate::driver::pg_error;
use postgres::types::FromSql;
use postgres::{GenericClient, Row};
use schemasync_core::sqltext::fold_whitespace;
use schemasync_core::{
    Attribute, Check, Collation, Column, CompositeType, Deferrable, Domain, EnumType, Exclusion,
    Extension, ForeignKey, Function, Generated, Identity, Index, IndexPart, Namespace, PartitionOf,
    Policy, PolicyCommand, PrimaryKey, RangeType, ReferentialAction, Result, Schema, Sequence,
    Table, TextSearchConfig, TextSearchMapping, Trigger, Unique, View, PUBLIC_ROLE,
};
use std::collections::HashMap;

/// Schemas that hold user objects: `n` is the `pg_namespace` alias.
const USER_NAMESPACE: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/// Order by schema with `public` first, then by `name_column`.
fn schema_order(name_column: &str) -> String {
    format!("(n.nspname <> 'public'), n.nspname, {name_column}")
}

/// `NOT EXISTS` an extension membership of the object `oid_column` in `catalog`.
fn not_in_extension(catalog: &str, oid_column: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '{catalog}'::regclass \
         AND e.objid = {oid_column} AND e.deptype = 'e')"
    )
}

/// The collation `oid_expression` as the model names it: bare in `pg_catalog` and
/// `public`, `schema.name` elsewhere.
fn collation_name(oid_expression: &str) -> String {
    format!(
        "(SELECT CASE WHEN cn.nspname IN ('pg_catalog', 'public') THEN co.collname::text \
         ELSE cn.nspname || '.' || co.collname END FROM pg_collation co \
         JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = {oid_expression})"
    )
}

/// `public` is the default namespace.
fn namespace(name: String) -> Option<String> {
    (name != "public").then_some(name)
}

/// Reads column `index` of `row`, as an error (never a panic) when the type is unexpected.
fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<T> {
    row.try_get(index)
        .map_err(|e| pg_error(format!("unexpected catalog value in column {index}"), &e))
}

/// Runs one catalog query.
fn query(
    client: &mut impl GenericClient,
    what: &str,
    sql: &str,
    params: &[&(dyn postgres::types::ToSql + Sync)],
) -> Result<Vec<Row>> {
    client
        .query(sql, params)
        .map_err(|e| pg_error(format!("cannot read {what} from pg_catalog"), &e))
}

/// Reads every managed object, on a connection or inside a transaction. Never writes.
pub(crate) fn introspect(client: &mut impl GenericClient) -> Result<Schema> {
    let saved = client
        .query_one(
            "SELECT current_setting('search_path'), current_setting('jit')",
            &[],
        )
        .map_err(|e| pg_error("cannot read search_path and jit", &e))?;
    let (search_path, jit): (String, String) = (get(&saved, 0)?, get(&saved, 1)?);
    // JIT-compiling these catalog queries costs more than running them: their correlated
    // subqueries over generate_series push the estimates past jit_above_cost.
    client
        .batch_execute("SET search_path = public; SET jit = off")
        .map_err(|e| pg_error("cannot set search_path and jit for introspection", &e))?;
    let schema = read_schema(client);
    let restored = client
        .execute(
            "SELECT set_config('search_path', $1, false), set_config('jit', $2, false)",
            &[&search_path, &jit],
        )
        .map_err(|e| pg_error("cannot restore search_path and jit after introspection", &e));
    let schema = schema?;
    restored?;
    Ok(schema)
}

/// All object kinds, one query each.
fn read_schema(client: &mut impl GenericClient) -> Result<Schema> {
    let mut schema = Schema {
        namespaces: read_namespaces(client)?,
        enums: read_enums(client)?,
        functions: read_functions(client)?,
        domains: read_domains(client)?,
        extensions: read_extensions(client)?,
        collations: read_collations(client)?,
        composite_types: read_composite_types(client)?,
        range_types: read_range_types(client)?,
        text_search_configs: read_text_search_configs(client)?,
        ..Schema::default()
    };
    schema.functions.extend(read_aggregates(client)?);
    let (table_oids, mut tables) = read_tables(client)?;
    let position: HashMap<u32, usize> = table_oids
        .iter()
        .enumerate()
        .map(|(i, o)| (*o, i))
        .collect();
    read_columns(client, &table_oids, &position, &mut tables)?;
    read_constraints(client, &table_oids, &position, &mut tables)?;
    read_indexes(client, &table_oids, &position, &mut tables)?;
    read_policies(client, &table_oids, &position, &mut tables)?;
    schema.tables = tables;
    schema.sequences = read_sequences(client)?;
    let (view_oids, mut views) = read_views(client)?;
    read_view_indexes(client, &view_oids, &mut views)?;
    schema.views = views;
    let relations: Vec<u32> = table_oids.into_iter().chain(view_oids).collect();
    schema.triggers = read_triggers(client, &relations)?;
    Ok(schema)
}

/// Schemas other than `public` and the system ones.
fn read_namespaces(client: &mut impl GenericClient) -> Result<Vec<Namespace>> {
    let sql = format!(
        "SELECT n.nspname::text, obj_description(n.oid, 'pg_namespace') FROM pg_namespace n \
         WHERE {USER_NAMESPACE} AND n.nspname <> 'public' AND {} ORDER BY n.nspname",
        not_in_extension("pg_namespace", "n.oid")
    );
    query(client, "schemas", &sql, &[])?
        .iter()
        .map(|row| {
            Ok(Namespace {
                name: get(row, 0)?,
                comment: get(row, 1)?,
            })
        })
        .collect()
}

/// Enum types with their labels in sort order.
fn read_enums(client: &mut impl GenericClient) -> Result<Vec<EnumType>> {
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text, \
           ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid \
                 ORDER BY e.enumsortorder), \
           obj_description(t.oid, 'pg_type') \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE t.typtype = 'e' AND {USER_NAMESPACE} AND {} ORDER BY {}",
        not_in_extension("pg_type", "t.oid"),
        schema_order("t.typname")
    );
    query(client, "enum types", &sql, &[])?
        .iter()
        .map(|row| {
            Ok(EnumType {
                schema: namespace(get(row, 0)?),
                name: get(row, 1)?,
                values: get(row, 2)?,
                comment: get(row, 3)?,
                renamed_from: None,
            })
        })
        .collect()
}

/// Functions and procedures (not aggregates or window functions, nor the constructors
/// PostgreSQL makes for a range type, which belong to it).
fn read_functions(client: &mut impl GenericClient) -> Result<Vec<Function>> {
    let sql = format!(
        "SELECT n.nspname::text, p.proname::text, pg_get_function_identity_arguments(p.oid), \
           pg_get_functiondef(p.oid), obj_description(p.oid, 'pg_proc') \
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE p.prokind IN ('f', 'p') AND {USER_NAMESPACE} AND {} \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass \
                           AND d.objid = p.oid AND d.deptype = 'i') \
         ORDER BY {}, pg_get_function_identity_arguments(p.oid)",
        not_in_extension("pg_proc", "p.oid"),
        schema_order("p.proname")
    );
    query(client, "functions", &sql, &[])?
        .iter()
        .map(function_of)
        .collect()
}

/// A function (or aggregate) from a row of schema, name, identity arguments,
/// definition and comment.
fn function_of(row: &Row) -> Result<Function> {
    Ok(Function {
        schema: namespace(get(row, 0)?),
        name: get(row, 1)?,
        arguments: get(row, 2)?,
        definition: get(row, 3)?,
        comment: get(row, 4)?,
    })
}

/// Ordinary tables, partitioned tables and partitions, without their parts yet.
fn read_tables(client: &mut impl GenericClient) -> Result<(Vec<u32>, Vec<Table>)> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, obj_description(c.oid, 'pg_class'), \
           CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
           pn.nspname::text, p.relname::text, pg_get_expr(c.relpartbound, c.oid), \
           c.relrowsecurity, c.relforcerowsecurity \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND c.relispartition \
         LEFT JOIN pg_class p ON p.oid = i.inhparent \
         LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND {USER_NAMESPACE} \
           AND c.relname NOT LIKE 'schemasync\\_%' AND {} ORDER BY {}",
        not_in_extension("pg_class", "c.oid"),
        schema_order("c.relname")
    );
    let mut oids = Vec::new();
    let mut tables = Vec::new();
    for row in query(client, "tables", &sql, &[])? {
        oids.push(get(&row, 0)?);
        let parent: Option<String> = get(&row, 6)?;
        tables.push(Table {
            schema: namespace(get(&row, 1)?),
            name: get(&row, 2)?,
            comment: get(&row, 3)?,
            partition_by: get(&row, 4)?,
            partition_of: match parent {
                Some(table) => Some(PartitionOf {
                    schema: namespace(get(&row, 5)?),
                    table,
                    bound: get(&row, 7)?,
                }),
                None => None,
            },
            row_security: get(&row, 8)?,
            force_row_security: get(&row, 9)?,
            ..Table::default()
        });
    }
    Ok((oids, tables))
}

/// Row-level security policies of every table, by name. Each relation has its own (a
/// partition does not inherit its parent's), so they are read on every table; roles by
/// name, sorted, `public` for PUBLIC (role 0).
fn read_policies(
    client: &mut impl GenericClient,
    oids: &[u32],
    position: &HashMap<u32, usize>,
    tables: &mut [Table],
) -> Result<()> {
    let sql = format!(
        "SELECT p.polrelid, p.polname::text, NOT p.polpermissive, p.polcmd::text, \
           ARRAY(SELECT CASE WHEN u.role = 0 THEN '{PUBLIC_ROLE}' \
                             ELSE pg_get_userbyid(u.role)::text END \
                 FROM unnest(p.polroles) AS u(role) ORDER BY 1), \
           pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), \
           obj_description(p.oid, 'pg_policy') \
         FROM pg_policy p WHERE p.polrelid = ANY($1) ORDER BY p.polrelid, p.polname"
    );
    for row in query(client, "policies", &sql, &[&oids])? {
        let Some(table) = table_of(&row, position, tables)? else {
            continue;
        };
        let command: String = get(&row, 3)?;
        table.policies.push(Policy {
            name: get(&row, 1)?,
            restrictive: get(&row, 2)?,
            command: match command.as_str() {
                "r" => PolicyCommand::Select,
                "a" => PolicyCommand::Insert,
                "w" => PolicyCommand::Update,
                "d" => PolicyCommand::Delete,
                _ => PolicyCommand::All,
            },
            roles: get(&row, 4)?,
            using: get(&row, 5)?,
            with_check: get(&row, 6)?,
            comment: get(&row, 7)?,
            renamed_from: None,
        });
    }
    Ok(())
}

/// The table of a catalog row whose first column is the table's oid.
fn table_of<'t>(
    row: &Row,
    position: &HashMap<u32, usize>,
    tables: &'t mut [Table],
) -> Result<Option<&'t mut Table>> {
    let oid: u32 = get(row, 0)?;
    Ok(position.get(&oid).and_then(|i| tables.get_mut(*i)))
}

/// Columns of every table, in position order.
fn read_columns(
    client: &mut impl GenericClient,
    oids: &[u32],
    position: &HashMap<u32, usize>,
    tables: &mut [Table],
) -> Result<()> {
    let sql = format!(
        "SELECT a.attrelid, a.attname::text, format_type(a.atttypid, a.atttypmod), \
           a.attnotnull, a.attidentity::text, a.attgenerated::text, \
           pg_get_expr(d.adbin, d.adrelid), \
           CASE WHEN a.attcollation <> t.typcollation THEN {} END, \
           ds.description \
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         LEFT JOIN pg_description ds ON ds.objoid = a.attrelid \
           AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = a.attnum \
         WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attrelid, a.attnum",
        collation_name("a.attcollation")
    );
    for row in query(client, "columns", &sql, &[&oids])? {
        let Some(table) = table_of(&row, position, tables)? else {
            continue;
        };
        let identity: String = get(&row, 4)?;
        let generated: String = get(&row, 5)?;
        let expression: Option<String> = get(&row, 6)?;
        let (default, generated) = match (identity.as_str(), generated.as_str()) {
            (_, "s") => (
                None,
                expression.map(|expression| Generated {
                    expression,
                    stored: true,
                }),
            ),
            ("", _) => (expression, None),
            _ => (None, None),
        };
        table.columns.push(Column {
            name: get(&row, 1)?,
            data_type: get(&row, 2)?,
            nullable: !get::<bool>(&row, 3)?,
            default,
            generated,
            collation: get(&row, 7)?,
            identity: match identity.as_str() {
                "a" => Some(Identity::Always),
                "d" => Some(Identity::ByDefault),
                _ => None,
            },
            comment: get(&row, 8)?,
            renamed_from: None,
        });
    }
    Ok(())
}

/// `pg_constraint.confdeltype` / `confupdtype` as a model action.
fn action(code: &str) -> ReferentialAction {
    match code {
        "r" => ReferentialAction::Restrict,
        "c" => ReferentialAction::Cascade,
        "n" => ReferentialAction::SetNull,
        "d" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

/// Primary keys, uniques, checks, foreign keys and exclusions of every table.
fn read_constraints(
    client: &mut impl GenericClient,
    oids: &[u32],
    position: &HashMap<u32, usize>,
    tables: &mut [Table],
) -> Result<()> {
    let sql = "SELECT con.conrelid, con.conname::text, con.contype::text, \
           CASE WHEN con.contype = 'x' THEN pg_get_constraintdef(con.oid) END, \
           pg_get_expr(con.conbin, con.conrelid), \
           con.convalidated, con.condeferrable, con.condeferred, \
           con.confdeltype::text, con.confupdtype::text, \
           ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
                 ORDER BY k.ord), \
           ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord) \
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum \
                 ORDER BY k.ord), \
           rn.nspname::text, rc.relname::text \
         FROM pg_constraint con \
         LEFT JOIN pg_class rc ON rc.oid = con.confrelid \
         LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
         WHERE con.conrelid = ANY($1) AND con.contype IN ('p', 'u', 'c', 'f', 'x') \
           AND (con.contype <> 'c' OR con.conislocal) AND con.conparentid = 0 \
         ORDER BY con.conrelid, con.conname";
    for row in query(client, "constraints", sql, &[&oids])? {
        let Some(table) = table_of(&row, position, tables)? else {
            continue;
        };
        let name: String = get(&row, 1)?;
        let kind: String = get(&row, 2)?;
        let validated: bool = get(&row, 5)?;
        let columns: Vec<String> = get(&row, 10)?;
        match kind.as_str() {
            "p" => {
                table.primary_key = Some(PrimaryKey {
                    name: Some(name),
                    columns,
                    autoincrement: false,
                })
            }
            "u" => table.uniques.push(Unique {
                name: Some(name),
                columns,
            }),
            "c" => table.checks.push(Check {
                name: Some(name),
                expression: get::<Option<String>>(&row, 4)?.unwrap_or_default(),
                not_valid: !validated,
            }),
            "x" => table.exclusions.push(Exclusion {
                name,
                definition: get(&row, 3)?,
            }),
            _ => {
                let deferrable = match (get::<bool>(&row, 6)?, get::<bool>(&row, 7)?) {
                    (false, _) => Deferrable::NotDeferrable,
                    (true, false) => Deferrable::InitiallyImmediate,
                    (true, true) => Deferrable::InitiallyDeferred,
                };
                table.foreign_keys.push(ForeignKey {
                    name: Some(name),
                    columns,
                    referenced_schema: get::<Option<String>>(&row, 12)?.and_then(namespace),
                    referenced_table: get::<Option<String>>(&row, 13)?.unwrap_or_default(),
                    referenced_columns: get(&row, 11)?,
                    on_delete: action(&get::<String>(&row, 8)?),
                    on_update: action(&get::<String>(&row, 9)?),
                    deferrable,
                    not_valid: !validated,
                });
            }
        }
    }
    Ok(())
}

/// Indexes that do not back a primary key, unique or exclusion constraint.
fn read_indexes(
    client: &mut impl GenericClient,
    oids: &[u32],
    position: &HashMap<u32, usize>,
    tables: &mut [Table],
) -> Result<()> {
    let sql = format!(
        "SELECT i.indrelid, ic.relname::text, i.indisunique, am.amname::text, \
           i.indnkeyatts::int4, \
           ARRAY(SELECT CASE WHEN i.indkey[k - 1] = 0 THEN NULL ELSE \
                   (SELECT a.attname::text FROM pg_attribute a \
                    WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1]) END \
                 FROM generate_series(1, i.indnatts) AS k ORDER BY k), \
           ARRAY(SELECT CASE WHEN i.indkey[k - 1] = 0 \
                   THEN pg_get_indexdef(i.indexrelid, k, true) END \
                 FROM generate_series(1, i.indnatts) AS k ORDER BY k), \
           ARRAY(SELECT (i.indoption[k - 1] & 1) = 1 \
                 FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k), \
           ARRAY(SELECT CASE WHEN i.indcollation[k - 1] = 0 OR i.indcollation[k - 1] = COALESCE( \
                     (SELECT a.attcollation FROM pg_attribute a WHERE a.attrelid = i.indrelid \
                      AND i.indkey[k - 1] <> 0 AND a.attnum = i.indkey[k - 1]), \
                     (SELECT t.typcollation FROM pg_attribute ia \
                      JOIN pg_type t ON t.oid = ia.atttypid \
                      WHERE ia.attrelid = i.indexrelid AND ia.attnum = k)) \
                   THEN NULL ELSE {} END \
                 FROM generate_series(1, i.indnkeyatts) AS k ORDER BY k), \
           pg_get_expr(i.indpred, i.indrelid) \
         FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_am am ON am.oid = ic.relam \
         WHERE i.indrelid = ANY($1) AND i.indisvalid \
           AND NOT EXISTS (SELECT 1 FROM pg_inherits ii WHERE ii.inhrelid = i.indexrelid) \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint con \
           WHERE con.conrelid = i.indrelid AND con.conindid = i.indexrelid \
             AND con.contype IN ('p', 'u', 'x')) \
         ORDER BY i.indrelid, ic.relname",
        collation_name("i.indcollation[k - 1]")
    );
    for row in query(client, "indexes", &sql, &[&oids])? {
        let Some(table) = table_of(&row, position, tables)? else {
            continue;
        };
        let key_count = usize::try_from(get::<i32>(&row, 4)?).unwrap_or(0);
        let columns: Vec<Option<String>> = get(&row, 5)?;
        let definitions: Vec<Option<String>> = get(&row, 6)?;
        let descending: Vec<bool> = get(&row, 7)?;
        let collations: Vec<Option<String>> = get(&row, 8)?;
        let mut parts = Vec::new();
        let mut include = Vec::new();
        for (k, column) in columns.into_iter().enumerate() {
            if k >= key_count {
                include.extend(column);
                continue;
            }
            let expression = match column {
                Some(_) => None,
                None => definitions.get(k).cloned().flatten(),
            };
            parts.push(IndexPart {
                column,
                expression,
                descending: descending.get(k).copied().unwrap_or(false),
                collation: collations.get(k).cloned().flatten(),
            });
        }
        let method: String = get(&row, 3)?;
        table.indexes.push(Index {
            name: get(&row, 1)?,
            unique: get(&row, 2)?,
            parts,
            predicate: get(&row, 9)?,
            method: (method != "btree").then_some(method),
            include,
            renamed_from: None,
        });
    }
    Ok(())
}

/// The default bounds of a sequence of `data_type` going up (`increment > 0`) or down.
fn default_bounds(data_type: &str, increment: i64) -> (i64, i64) {
    let (low, high) = match data_type {
        "smallint" => (i64::from(i16::MIN), i64::from(i16::MAX)),
        "integer" => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    };
    if increment > 0 {
        (1, high)
    } else {
        (low, -1)
    }
}

/// Sequences, except those of identity columns and of our own tables.
fn read_sequences(client: &mut impl GenericClient) -> Result<Vec<Sequence>> {
    let owner = "FROM pg_depend d JOIN pg_class tc ON tc.oid = d.refobjid \
         JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid \
         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
           AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'";
    let sql = format!(
        "SELECT n.nspname::text, c.relname::text, format_type(s.seqtypid, NULL), s.seqstart, \
           s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, \
           (SELECT tc.relname || '.' || ta.attname {owner} LIMIT 1) \
         FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE {USER_NAMESPACE} AND c.relname NOT LIKE 'schemasync\\_%' AND {} \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
             AND d.objid = c.oid AND d.deptype = 'i') \
           AND NOT EXISTS (SELECT 1 {owner} AND tc.relname LIKE 'schemasync\\_%') \
         ORDER BY {}",
        not_in_extension("pg_class", "c.oid"),
        schema_order("c.relname")
    );
    query(client, "sequences", &sql, &[])?
        .iter()
        .map(|row| {
            let data_type: String = get(row, 2)?;
            let increment: i64 = get(row, 4)?;
            let min_value: i64 = get(row, 5)?;
            let max_value: i64 = get(row, 6)?;
            let (default_min, default_max) = default_bounds(&data_type, increment);
            Ok(Sequence {
                schema: namespace(get(row, 0)?),
                name: get(row, 1)?,
                data_type,
                start: get(row, 3)?,
                increment,
                min_value: (min_value != default_min).then_some(min_value),
                max_value: (max_value != default_max).then_some(max_value),
                cache: get(row, 7)?,
                cycle: get(row, 8)?,
                owned_by: get(row, 9)?,
            })
        })
        .collect()
}

/// Views and materialized views.
fn read_views(client: &mut impl GenericClient) -> Result<(Vec<u32>, Vec<View>)> {
    let sql = format!(
        "SELECT c.oid, n.nspname::text, c.relname::text, c.relkind::text, \
           pg_get_viewdef(c.oid, true), obj_description(c.oid, 'pg_class') \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('v', 'm') AND {USER_NAMESPACE} \
           AND c.relname NOT LIKE 'schemasync\\_%' AND {} ORDER BY {}",
        not_in_extension("pg_class", "c.oid"),
        schema_order("c.relname")
    );
    let mut oids = Vec::new();
    let mut views = Vec::new();
    for row in query(client, "views", &sql, &[])? {
        oids.push(get(&row, 0)?);
        let definition: Option<String> = get(&row, 4)?;
        views.push(View {
            schema: namespace(get(&row, 1)?),
            name: get(&row, 2)?,
            columns: Vec::new(),
            definition: fold_whitespace(definition.as_deref().unwrap_or_default()),
            materialized: get::<String>(&row, 3)? == "m",
            comment: get(&row, 5)?,
            indexes: Vec::new(),
        });
    }
    Ok((oids, views))
}

/// Indexes of materialized views: the index query over tables shaped like the views.
fn read_view_indexes(
    client: &mut impl GenericClient,
    oids: &[u32],
    views: &mut [View],
) -> Result<()> {
    let position: HashMap<u32, usize> = oids.iter().enumerate().map(|(i, o)| (*o, i)).collect();
    let mut shapes: Vec<Table> = views
        .iter()
        .map(|v| Table {
            schema: v.schema.clone(),
            name: v.name.clone(),
            ..Table::default()
        })
        .collect();
    read_indexes(client, oids, &position, &mut shapes)?;
    for (view, shape) in views.iter_mut().zip(shapes) {
        view.indexes = shape.indexes;
    }
    Ok(())
}

/// User triggers on the managed tables and views.
fn read_triggers(client: &mut impl GenericClient, relations: &[u32]) -> Result<Vec<Trigger>> {
    let sql = format!(
        "SELECT n.nspname::text, t.tgname::text, c.relname::text, pg_get_triggerdef(t.oid, true) \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE t.tgrelid = ANY($1) AND NOT t.tgisinternal AND t.tgparentid = 0 \
         ORDER BY {}, t.tgname",
        schema_order("c.relname")
    );
    query(client, "triggers", &sql, &[&relations])?
        .iter()
        .map(|row| {
            Ok(Trigger {
                schema: namespace(get(row, 0)?),
                name: get(row, 1)?,
                table: get(row, 2)?,
                definition: get(row, 3)?,
            })
        })
        .collect()
}

/// Domains with their default, NOT NULL, collation and CHECKs (named, by name).
fn read_domains(client: &mut impl GenericClient) -> Result<Vec<Domain>> {
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text, format_type(t.typbasetype, t.typtypmod), \
           t.typdefault, t.typnotnull, \
           CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation \
                THEN {} END, \
           ARRAY(SELECT c.conname::text FROM pg_constraint c \
                 WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname), \
           ARRAY(SELECT pg_get_expr(c.conbin, 0) FROM pg_constraint c \
                 WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname), \
           ARRAY(SELECT NOT c.convalidated FROM pg_constraint c \
                 WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname), \
           obj_description(t.oid, 'pg_type') \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         JOIN pg_type b ON b.oid = t.typbasetype \
         WHERE t.typtype = 'd' AND {USER_NAMESPACE} AND {} ORDER BY {}",
        collation_name("t.typcollation"),
        not_in_extension("pg_type", "t.oid"),
        schema_order("t.typname")
    );
    query(client, "domains", &sql, &[])?
        .iter()
        .map(|row| {
            let names: Vec<String> = get(row, 6)?;
            let expressions: Vec<String> = get(row, 7)?;
            let not_valid: Vec<bool> = get(row, 8)?;
            Ok(Domain {
                schema: namespace(get(row, 0)?),
                name: get(row, 1)?,
                data_type: get(row, 2)?,
                default: get(row, 3)?,
                not_null: get(row, 4)?,
                collation: get(row, 5)?,
                checks: names
                    .into_iter()
                    .zip(expressions)
                    .zip(not_valid)
                    .map(|((name, expression), not_valid)| Check {
                        name: Some(name),
                        expression,
                        not_valid,
                    })
                    .collect(),
                comment: get(row, 9)?,
                renamed_from: None,
            })
        })
        .collect()
}

/// Installed extensions but `plpgsql` (always there).
fn read_extensions(client: &mut impl GenericClient) -> Result<Vec<Extension>> {
    let sql = "SELECT e.extname::text, n.nspname::text FROM pg_extension e \
               JOIN pg_namespace n ON n.oid = e.extnamespace \
               WHERE e.extname <> 'plpgsql' ORDER BY e.extname";
    query(client, "extensions", sql, &[])?
        .iter()
        .map(|row| {
            Ok(Extension {
                name: get(row, 0)?,
                schema: namespace(get(row, 1)?),
            })
        })
        .collect()
}

/// Plain aggregates, as a `CREATE OR REPLACE AGGREGATE` built from `pg_aggregate` (the
/// server has no `pg_get_functiondef` for them); listed after the functions they use.
/// Ordered-set and hypothetical-set aggregates are left unmanaged.
fn read_aggregates(client: &mut impl GenericClient) -> Result<Vec<Function>> {
    let sql = format!(
        "SELECT n.nspname::text, p.proname::text, pg_get_function_identity_arguments(p.oid), \
           'CREATE OR REPLACE AGGREGATE ' || quote_ident(n.nspname) || '.' || quote_ident(p.proname) \
           || '(' || pg_get_function_arguments(p.oid) || ') (' || concat_ws(', ', \
             'SFUNC = ' || a.aggtransfn::regproc::text, \
             'STYPE = ' || format_type(a.aggtranstype, NULL), \
             CASE WHEN a.aggtransspace <> 0 THEN 'SSPACE = ' || a.aggtransspace END, \
             CASE WHEN a.aggfinalfn <> 0 THEN 'FINALFUNC = ' || a.aggfinalfn::regproc::text END, \
             CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END, \
             CASE WHEN a.aggcombinefn <> 0 THEN 'COMBINEFUNC = ' || a.aggcombinefn::regproc::text END, \
             CASE WHEN a.aggserialfn <> 0 THEN 'SERIALFUNC = ' || a.aggserialfn::regproc::text END, \
             CASE WHEN a.aggdeserialfn <> 0 THEN 'DESERIALFUNC = ' || a.aggdeserialfn::regproc::text END, \
             CASE WHEN a.agginitval IS NOT NULL THEN 'INITCOND = ' || quote_literal(a.agginitval) END, \
             CASE WHEN a.aggmtransfn <> 0 THEN 'MSFUNC = ' || a.aggmtransfn::regproc::text END, \
             CASE WHEN a.aggminvtransfn <> 0 THEN 'MINVFUNC = ' || a.aggminvtransfn::regproc::text END, \
             CASE WHEN a.aggmtranstype <> 0 THEN 'MSTYPE = ' || format_type(a.aggmtranstype, NULL) END, \
             CASE WHEN a.aggmfinalfn <> 0 THEN 'MFINALFUNC = ' || a.aggmfinalfn::regproc::text END, \
             CASE WHEN a.aggminitval IS NOT NULL THEN 'MINITCOND = ' || quote_literal(a.aggminitval) END, \
             CASE WHEN a.aggsortop <> 0 THEN 'SORTOP = OPERATOR(' || a.aggsortop::regoper::text || ')' END, \
             CASE p.proparallel WHEN 's' THEN 'PARALLEL = SAFE' WHEN 'r' THEN 'PARALLEL = RESTRICTED' END \
           ) || ')', \
           obj_description(p.oid, 'pg_proc') \
         FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid \
         JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE p.prokind = 'a' AND a.aggkind = 'n' AND {USER_NAMESPACE} AND {} \
         ORDER BY {}, pg_get_function_identity_arguments(p.oid)",
        not_in_extension("pg_proc", "p.oid"),
        schema_order("p.proname")
    );
    query(client, "aggregates", &sql, &[])?
        .iter()
        .map(function_of)
        .collect()
}

/// What the driver leaves alone, one line each (`rule t_log on t`), for `plan` to list
/// once: rules, legacy inheritance, text search dictionaries, parsers and templates,
/// ordered-set aggregates, event triggers, publications, foreign servers, and a count of
/// objects with grants.
pub(crate) fn read_unmanaged(client: &mut impl GenericClient) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT 'rule ' || r.rulename || ' on ' || r.ev_class::regclass::text \
           FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class \
           JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE r.rulename <> '_RETURN' AND {USER_NAMESPACE} \
         UNION ALL SELECT 'inheritance of ' || c.oid::regclass::text || ' from ' || i.inhparent::regclass::text \
           FROM pg_class c JOIN pg_inherits i ON i.inhrelid = c.oid \
           WHERE NOT c.relispartition AND c.relkind = 'r' \
         UNION ALL SELECT 'text search dictionary ' || d.oid::regdictionary::text \
           FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace \
           WHERE {USER_NAMESPACE} AND {} \
         UNION ALL SELECT 'text search parser ' || quote_ident(n.nspname) || '.' || quote_ident(p.prsname) \
           FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace \
           WHERE {USER_NAMESPACE} AND {} \
         UNION ALL SELECT 'text search template ' || quote_ident(n.nspname) || '.' || quote_ident(m.tmplname) \
           FROM pg_ts_template m JOIN pg_namespace n ON n.oid = m.tmplnamespace \
           WHERE {USER_NAMESPACE} AND {} \
         UNION ALL SELECT 'aggregate ' || p.oid::regprocedure::text \
           FROM pg_proc p JOIN pg_aggregate a ON a.aggfnoid = p.oid \
           JOIN pg_namespace n ON n.oid = p.pronamespace \
           WHERE a.aggkind <> 'n' AND {USER_NAMESPACE} AND {} \
         UNION ALL SELECT 'event trigger ' || quote_ident(evtname) FROM pg_event_trigger \
         UNION ALL SELECT 'publication ' || quote_ident(pubname) FROM pg_publication \
         UNION ALL SELECT 'foreign server ' || quote_ident(srvname) FROM pg_foreign_server \
         UNION ALL SELECT 'grants on ' || count(*) || ' relation(s)' \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE c.relacl IS NOT NULL AND {USER_NAMESPACE} HAVING count(*) > 0 \
         ORDER BY 1",
        not_in_extension("pg_ts_dict", "d.oid"),
        not_in_extension("pg_ts_parser", "p.oid"),
        not_in_extension("pg_ts_template", "m.oid"),
        not_in_extension("pg_proc", "p.oid"),
    );
    query(client, "objects left unmanaged", &sql, &[])?
        .iter()
        .map(|row| get(row, 0))
        .collect()
}

/// Collations: ICU ones with their locale, libc ones with `LC_COLLATE` and `LC_CTYPE`.
/// The ICU locale column is read by name from the row (`colllocale` since PostgreSQL 17,
/// `colliculocale` in 15 and 16, `collcollate` before), so one query serves every version.
fn read_collations(client: &mut impl GenericClient) -> Result<Vec<Collation>> {
    let sql = format!(
        "SELECT n.nspname::text, co.collname::text, \
           CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'b' THEN 'builtin' ELSE 'libc' END, \
           CASE WHEN co.collprovider <> 'c' THEN COALESCE(to_jsonb(co) ->> 'colllocale', \
                to_jsonb(co) ->> 'colliculocale', co.collcollate::text) END, \
           CASE WHEN co.collprovider = 'c' THEN co.collcollate::text END, \
           CASE WHEN co.collprovider = 'c' THEN co.collctype::text END, \
           co.collisdeterministic, obj_description(co.oid, 'pg_collation') \
         FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace \
         WHERE {USER_NAMESPACE} AND {} ORDER BY {}",
        not_in_extension("pg_collation", "co.oid"),
        schema_order("co.collname")
    );
    query(client, "collations", &sql, &[])?
        .iter()
        .map(|row| {
            Ok(Collation {
                schema: namespace(get(row, 0)?),
                name: get(row, 1)?,
                provider: get(row, 2)?,
                locale: get(row, 3)?,
                lc_collate: get(row, 4)?,
                lc_ctype: get(row, 5)?,
                deterministic: get(row, 6)?,
                comment: get(row, 7)?,
                renamed_from: None,
            })
        })
        .collect()
}

/// Composite types made with `CREATE TYPE … AS (…)` (not the row types of tables and
/// views), with their attributes in order.
fn read_composite_types(client: &mut impl GenericClient) -> Result<Vec<CompositeType>> {
    let attributes = |what: &str| {
        format!(
            "ARRAY(SELECT {what} FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid \
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum)"
        )
    };
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text, {}, {}, {}, obj_description(t.oid, 'pg_type') \
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
         JOIN pg_class k ON k.oid = t.typrelid \
         WHERE t.typtype = 'c' AND k.relkind = 'c' AND {USER_NAMESPACE} AND {} ORDER BY {}",
        attributes("a.attname::text"),
        attributes("format_type(a.atttypid, a.atttypmod)"),
        attributes(&format!(
            "CASE WHEN a.attcollation <> 0 AND a.attcollation <> at.typcollation THEN {} END",
            collation_name("a.attcollation")
        )),
        not_in_extension("pg_type", "t.oid"),
        schema_order("t.typname")
    );
    query(client, "composite types", &sql, &[])?
        .iter()
        .map(|row| {
            let names: Vec<String> = get(row, 2)?;
            let types: Vec<String> = get(row, 3)?;
            let collations: Vec<Option<String>> = get(row, 4)?;
            Ok(CompositeType {
                schema: namespace(get(row, 0)?),
                name: get(row, 1)?,
                attributes: names
                    .into_iter()
                    .zip(types)
                    .zip(collations)
                    .map(|((name, data_type), collation)| Attribute {
                        name,
                        data_type,
                        collation,
                    })
                    .collect(),
                comment: get(row, 5)?,
                renamed_from: None,
            })
        })
        .collect()
}

/// Range types from `pg_range` (their multirange types and constructor functions belong
/// to them and are not listed).
fn read_range_types(client: &mut impl GenericClient) -> Result<Vec<RangeType>> {
    let sql = format!(
        "SELECT n.nspname::text, t.typname::text, format_type(r.rngsubtype, NULL), \
           CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation THEN {} END, \
           CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END, \
           CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END, \
           obj_description(t.oid, 'pg_type') \
         FROM pg_range r JOIN pg_type t ON t.oid = r.rngtypid \
         JOIN pg_type st ON st.oid = r.rngsubtype \
         JOIN pg_namespace n ON n.oid = t.typnamespace \
         WHERE {USER_NAMESPACE} AND {} ORDER BY {}",
        collation_name("r.rngcollation"),
        not_in_extension("pg_type", "t.oid"),
        schema_order("t.typname")
    );
    query(client, "range types", &sql, &[])?
        .iter()
        .map(|row| {
            Ok(RangeType {
                schema: namespace(get(row, 0)?),
                name: get(row, 1)?,
                subtype: get(row, 2)?,
                collation: get(row, 3)?,
                canonical: get(row, 4)?,
                subtype_diff: get(row, 5)?,
                comment: get(row, 6)?,
                renamed_from: None,
            })
        })
        .collect()
}

/// Text search configurations with their parser and, per token type in the parser's
/// order, the dictionaries in the order they are tried: one row per configuration and
/// mapped token type.
fn read_text_search_configs(client: &mut impl GenericClient) -> Result<Vec<TextSearchConfig>> {
    let sql = format!(
        "SELECT n.nspname::text, c.cfgname::text, \
           CASE WHEN pn.nspname = 'pg_catalog' THEN p.prsname::text \
                ELSE pn.nspname || '.' || p.prsname END, \
           obj_description(c.oid, 'pg_ts_config'), tt.alias, \
           ARRAY(SELECT m.mapdict::regdictionary::text FROM pg_ts_config_map m \
                 WHERE m.mapcfg = c.oid AND m.maptokentype = tt.tokid ORDER BY m.mapseqno) \
         FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace \
         JOIN pg_ts_parser p ON p.oid = c.cfgparser \
         JOIN pg_namespace pn ON pn.oid = p.prsnamespace \
         LEFT JOIN LATERAL (SELECT t.tokid, t.alias FROM ts_token_type(c.cfgparser) t \
           WHERE EXISTS (SELECT 1 FROM pg_ts_config_map m \
                         WHERE m.mapcfg = c.oid AND m.maptokentype = t.tokid)) tt ON true \
         WHERE {USER_NAMESPACE} AND {} ORDER BY {}, tt.tokid",
        not_in_extension("pg_ts_config", "c.oid"),
        schema_order("c.cfgname")
    );
    let mut configs: Vec<TextSearchConfig> = Vec::new();
    for row in query(client, "text search configurations", &sql, &[])? {
        let schema = namespace(get(&row, 0)?);
        let name: String = get(&row, 1)?;
        let same = configs
            .last()
            .is_some_and(|c| c.schema == schema && c.name == name);
        if !same {
            configs.push(TextSearchConfig {
                schema,
                name,
                parser: get(&row, 2)?,
                mappings: Vec::new(),
                comment: get(&row, 3)?,
                renamed_from: None,
            });
        }
        let token: Option<String> = get(&row, 4)?;
        if let (Some(token), Some(config)) = (token, configs.last_mut()) {
            config.mappings.push(TextSearchMapping {
                token,
                dictionaries: get(&row, 5)?,
            });
        }
    }
    Ok(configs)
}
