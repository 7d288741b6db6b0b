//! Renders model objects as PostgreSQL DDL: schemas, enum types, sequences, functions,
//! tables, constraints, indexes, views, triggers and comments, and the whole
//! create-from-empty script in dependency order ([`create_schema`]).
//!
//! Every name goes through [`crate::quote`]; types, expressions, view queries and
//! function/trigger definitions are emitted as the model holds them, which is the
//! server's canonical text (see [`crate::introspect`]), so running the output and
//! introspecting gives back the model it came from. Expressions are wrapped in
//! parentheses where the grammar needs them (`DEFAULT (…)`, `CHECK (…)`, index keys).
//! This module never runs SQL and never decides what to create or drop. It is public so
//! that `schemasync-copy` renders the tables it creates with the same code.

use crate::quote::{qualified, quote_ident, quote_literal};
use schemasync_core::sqltext::{lex, mentions, Token};
use schemasync_core::{
    Attribute, Check, Collation, Column, Commented, CompositeType, Deferrable, Domain, EnumType,
    Extension, ForeignKey, Function, Identity, Index, IndexPart, Namespace, PartitionOf, Policy,
    PrimaryKey, RangeType, ReferentialAction, RowSecurity, Schema, Sequence, Table,
    TextSearchConfig, TextSearchMapping, Unique, View, PUBLIC_ROLE,
};

/// Turns off function-body validation for the rest of the current transaction, so a
/// function may be created before the tables its body reads (as `pg_dump` does).
const NO_BODY_CHECK: &str = "SELECT set_config('check_function_bodies', 'off', true);\n";

/// `schema.name` for labels (unquoted, readable).
fn label_name(schema: Option<&str>, name: &str) -> String {
    match schema {
        Some(schema) => format!("{schema}.{name}"),
        None => name.to_string(),
    }
}

/// A comma-separated list of quoted identifiers.
fn ident_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote_ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every statement that creates `schema` in an empty database, labelled by object, in
/// dependency order: schemas, enum types, sequences, functions that need no table (so
/// defaults, CHECKs and generated columns may call them), tables (no foreign keys),
/// sequence ownership, NOT VALID checks, foreign keys, functions whose signature or
/// SQL-standard body names a table, indexes, views (each after the views it reads),
/// functions that name a view, triggers, policies (with their comments) and row-level
/// security, and comments. Function statements turn
/// `check_function_bodies` off for their own transaction, so string bodies may read
/// tables created later.
pub fn create_schema(schema: &Schema) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for namespace in &schema.namespaces {
        out.push((
            format!("schema {}", namespace.name),
            create_namespace(namespace),
        ));
    }
    for extension in &schema.extensions {
        out.push((
            format!("extension {}", extension.name),
            create_extension(extension),
        ));
    }
    for collation in &schema.collations {
        out.push((
            format!(
                "collation {}",
                label_name(collation.schema.as_deref(), &collation.name)
            ),
            create_collation(collation),
        ));
    }
    for enum_type in &schema.enums {
        out.push((
            format!(
                "type {}",
                label_name(enum_type.schema.as_deref(), &enum_type.name)
            ),
            create_enum(enum_type),
        ));
    }
    for range in &schema.range_types {
        out.push((
            format!(
                "range type {}",
                label_name(range.schema.as_deref(), &range.name)
            ),
            create_range_type(range),
        ));
    }
    for domain in &schema.domains {
        out.push((
            format!(
                "domain {}",
                label_name(domain.schema.as_deref(), &domain.name)
            ),
            create_domain(domain),
        ));
    }
    for composite in &schema.composite_types {
        out.push((
            format!(
                "composite type {}",
                label_name(composite.schema.as_deref(), &composite.name)
            ),
            create_composite_type(composite),
        ));
    }
    for sequence in &schema.sequences {
        out.push((
            format!(
                "sequence {}",
                label_name(sequence.schema.as_deref(), &sequence.name)
            ),
            create_sequence(sequence),
        ));
    }
    let table_names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    let view_names: Vec<&str> = schema.views.iter().map(|v| v.name.as_str()).collect();
    let (after_views, rest): (Vec<&Function>, Vec<&Function>) = schema
        .functions
        .iter()
        .partition(|f| needs_relations(f, &view_names));
    let (after_tables, early): (Vec<&Function>, Vec<&Function>) = rest
        .into_iter()
        .partition(|f| needs_relations(f, &table_names));
    for function in early {
        out.push(function_statement(function));
    }
    for config in &schema.text_search_configs {
        out.push((
            format!(
                "text search configuration {}",
                label_name(config.schema.as_deref(), &config.name)
            ),
            create_text_search_config(config).join(";\n"),
        ));
    }
    for table in &schema.tables {
        out.push((
            format!("table {}", label_name(table.schema.as_deref(), &table.name)),
            create_table(table),
        ));
    }
    for table in &schema.tables {
        if let Some(partition) = &table.partition_of {
            out.push((
                format!(
                    "partition {}",
                    label_name(table.schema.as_deref(), &table.name)
                ),
                attach_partition(table, partition),
            ));
        }
    }
    for sequence in &schema.sequences {
        if let Some(owner) = &sequence.owned_by {
            out.push((
                format!(
                    "ownership of sequence {}",
                    label_name(sequence.schema.as_deref(), &sequence.name)
                ),
                sequence_owned_by(sequence, owner, &schema.tables),
            ));
        }
    }
    for table in &schema.tables {
        for check in table.checks.iter().filter(|c| c.not_valid) {
            out.push((
                format!(
                    "check {} on table {}",
                    check.name.as_deref().unwrap_or_default(),
                    label_name(table.schema.as_deref(), &table.name)
                ),
                add_check(table, check, true),
            ));
        }
    }
    for table in &schema.tables {
        for fk in &table.foreign_keys {
            out.push((
                format!(
                    "foreign key {} on table {}",
                    fk.name.as_deref().unwrap_or_default(),
                    label_name(table.schema.as_deref(), &table.name)
                ),
                add_foreign_key(table, fk, fk.not_valid),
            ));
        }
    }
    for function in after_tables {
        out.push(function_statement(function));
    }
    for table in &schema.tables {
        for index in &table.indexes {
            out.push((
                format!(
                    "index {} on table {}",
                    index.name,
                    label_name(table.schema.as_deref(), &table.name)
                ),
                create_index(table, index, false),
            ));
        }
    }
    for view in views_in_dependency_order(&schema.views) {
        let label = format!("view {}", label_name(view.schema.as_deref(), &view.name));
        out.push((label.clone(), create_view(view)));
        for index in view_indexes(view) {
            out.push((format!("index of {label}"), index));
        }
    }
    for function in after_views {
        out.push(function_statement(function));
    }
    for trigger in &schema.triggers {
        out.push((
            format!(
                "trigger {} on {}",
                trigger.name,
                label_name(trigger.schema.as_deref(), &trigger.table)
            ),
            trigger.definition.clone(),
        ));
    }
    for table in &schema.tables {
        let name = label_name(table.schema.as_deref(), &table.name);
        for policy in &table.policies {
            let commented = Commented::Policy {
                schema: table.schema.clone(),
                table: table.name.clone(),
                policy: policy.clone(),
            };
            for sql in created_with_comment(
                create_policy(table.schema.as_deref(), &table.name, policy),
                &commented,
            ) {
                out.push((format!("policy {} on {name}", policy.name), sql));
            }
        }
        for sql in row_security(
            table.schema.as_deref(),
            &table.name,
            RowSecurity::default(),
            RowSecurity::of(table),
        ) {
            out.push((format!("row-level security on {name}"), sql));
        }
    }
    out.extend(comments(schema));
    out
}

/// Whether a function must wait for the tables and views: its signature (arguments,
/// return type) names one of them, or it has an SQL-standard body (`RETURN …`,
/// `BEGIN ATOMIC … END`, resolved by the server at creation) that names one of them.
/// String bodies (`AS $$…$$`) are not checked at creation ([`NO_BODY_CHECK`]).
fn needs_relations(function: &Function, relation_names: &[&str]) -> bool {
    let definition = &function.definition;
    let string_body = definition.find("\nAS ");
    let standard_body = ["\nBEGIN ATOMIC", "\nRETURN "]
        .iter()
        .filter_map(|marker| definition.find(marker))
        .min();
    let checked = match (string_body, standard_body) {
        (Some(string), Some(standard)) if string < standard => &definition[..string],
        (Some(string), None) => &definition[..string],
        _ => definition.as_str(),
    };
    relation_names
        .iter()
        .any(|name| *name != function.name && mentions(checked, name, false))
}

/// The labelled statement that creates a function, with body checks off.
fn function_statement(function: &Function) -> (String, String) {
    (
        format!(
            "function {}({})",
            label_name(function.schema.as_deref(), &function.name),
            function.arguments
        ),
        format!("{NO_BODY_CHECK}{}", function.definition.trim_end()),
    )
}

/// Views ordered so that each comes after the views it reads (stable otherwise; a
/// cycle keeps the remaining views in model order).
fn views_in_dependency_order(views: &[View]) -> Vec<&View> {
    let mut remaining: Vec<&View> = views.iter().collect();
    let mut ordered: Vec<&View> = Vec::with_capacity(views.len());
    while !remaining.is_empty() {
        let ready = remaining.iter().position(|view| {
            !remaining.iter().any(|other| {
                !std::ptr::eq(*other, *view) && reads_relation(&view.definition, other)
            })
        });
        ordered.push(remaining.remove(ready.unwrap_or(0)));
    }
    ordered
}

/// Whether a canonical view query names the view `relation` as a relation: the name,
/// qualified by its schema when it has one (`pg_get_viewdef` qualifies names outside
/// `public`), and neither an output alias (`AS name`) nor a column (`alias.name`).
fn reads_relation(query: &str, relation: &View) -> bool {
    let tokens: Vec<Token<'_>> = lex(query)
        .into_iter()
        .filter(|t| !matches!(t, Token::Space | Token::Comment(_)))
        .collect();
    let is = |token: Option<&Token<'_>>, name: &str| match token {
        Some(Token::Word(word)) => *word == name,
        Some(Token::QuotedIdent(ident)) => ident == name,
        _ => false,
    };
    let is_word = |token: Option<&Token<'_>>, word: &str| matches!(token, Some(Token::Word(w)) if w.eq_ignore_ascii_case(word));
    (0..tokens.len()).any(|i| {
        if !is(tokens.get(i), &relation.name) {
            return false;
        }
        let before = i.checked_sub(1).and_then(|j| tokens.get(j));
        let dotted = matches!(before, Some(Token::Other(".")));
        let qualifier = i.checked_sub(2).and_then(|j| tokens.get(j));
        match &relation.schema {
            Some(schema) => dotted && is(qualifier, schema),
            None => (!dotted || is(qualifier, "public")) && !is_word(before, "AS"),
        }
    })
}

/// `CREATE TYPE … AS ENUM (…)`.
pub(crate) fn create_enum(enum_type: &EnumType) -> String {
    let labels = enum_type
        .values
        .iter()
        .map(|v| quote_literal(v))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "CREATE TYPE {} AS ENUM ({labels})",
        qualified(enum_type.schema.as_deref(), &enum_type.name)
    )
}

/// `CREATE SCHEMA name`.
pub(crate) fn create_namespace(namespace: &Namespace) -> String {
    format!("CREATE SCHEMA {}", quote_ident(&namespace.name))
}

/// `CREATE SEQUENCE …` with every option spelled out (ownership is separate:
/// [`sequence_owned_by`]).
pub(crate) fn create_sequence(sequence: &Sequence) -> String {
    format!(
        "CREATE SEQUENCE {} {}",
        qualified(sequence.schema.as_deref(), &sequence.name),
        sequence_options(sequence)
    )
}

/// Every option of a sequence, as CREATE and ALTER SEQUENCE both take them.
pub(crate) fn sequence_options(sequence: &Sequence) -> String {
    let min = sequence
        .min_value
        .map_or("NO MINVALUE".to_string(), |v| format!("MINVALUE {v}"));
    let max = sequence
        .max_value
        .map_or("NO MAXVALUE".to_string(), |v| format!("MAXVALUE {v}"));
    format!(
        "AS {} INCREMENT BY {} {min} {max} START WITH {} CACHE {}{}",
        sequence.data_type,
        sequence.increment,
        sequence.start,
        sequence.cache,
        if sequence.cycle {
            " CYCLE"
        } else {
            " NO CYCLE"
        }
    )
}

/// `ALTER SEQUENCE … OWNED BY table.column`. `owner` is `table.column` in the sequence's
/// schema; the split is found among `tables` (names may contain dots), else at the
/// last dot.
pub(crate) fn sequence_owned_by(sequence: &Sequence, owner: &str, tables: &[Table]) -> String {
    let split = tables
        .iter()
        .filter(|t| t.schema == sequence.schema)
        .find_map(|t| {
            let column = owner.strip_prefix(t.name.as_str())?.strip_prefix('.')?;
            t.column(column).map(|c| (t.name.as_str(), c.name.as_str()))
        })
        .or_else(|| owner.rsplit_once('.'));
    let target = match split {
        Some((table, column)) => format!(
            "{}.{}",
            qualified(sequence.schema.as_deref(), table),
            quote_ident(column)
        ),
        None => "NONE".to_string(),
    };
    format!(
        "ALTER SEQUENCE {} OWNED BY {target}",
        qualified(sequence.schema.as_deref(), &sequence.name)
    )
}

/// `CREATE TABLE` with columns, primary key, UNIQUE, CHECK and exclusion constraints,
/// but no foreign keys (see [`add_foreign_key`]) and no `NOT VALID` checks (see
/// [`add_check`]).
pub fn create_table(table: &Table) -> String {
    let mut items: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("{} {}", quote_ident(&c.name), column_definition(c)))
        .collect();
    if let Some(pk) = &table.primary_key {
        items.push(format!(
            "{}PRIMARY KEY ({})",
            constraint_prefix(pk.name.as_deref()),
            ident_list(&pk.columns)
        ));
    }
    for unique in &table.uniques {
        items.push(format!(
            "{}UNIQUE ({})",
            constraint_prefix(unique.name.as_deref()),
            ident_list(&unique.columns)
        ));
    }
    for check in table.checks.iter().filter(|c| !c.not_valid) {
        items.push(check_clause(check));
    }
    for exclusion in &table.exclusions {
        items.push(format!(
            "CONSTRAINT {} {}",
            quote_ident(&exclusion.name),
            exclusion.definition
        ));
    }
    let partitioned = table
        .partition_by
        .as_ref()
        .map(|key| format!(" PARTITION BY {key}"))
        .unwrap_or_default();
    format!(
        "CREATE TABLE {} (\n    {}\n){partitioned}",
        qualified(table.schema.as_deref(), &table.name),
        items.join(",\n    ")
    )
}

/// `ALTER TABLE parent ATTACH PARTITION table bound`, for a table that is a partition
/// (created as a table of its own first, as `pg_dump` does).
pub fn attach_partition(table: &Table, partition: &PartitionOf) -> String {
    format!(
        "ALTER TABLE {} ATTACH PARTITION {} {}",
        qualified(partition.schema.as_deref(), &partition.table),
        qualified(table.schema.as_deref(), &table.name),
        partition.bound
    )
}

/// `ALTER TABLE parent DETACH PARTITION table`.
pub(crate) fn detach_partition(
    schema: Option<&str>,
    table: &str,
    partition: &PartitionOf,
) -> String {
    format!(
        "ALTER TABLE {} DETACH PARTITION {}",
        qualified(partition.schema.as_deref(), &partition.table),
        qualified(schema, table)
    )
}

/// `ALTER TABLE … ADD [CONSTRAINT …] PRIMARY KEY (…)`.
pub fn add_primary_key(table: &Table, pk: &PrimaryKey) -> String {
    format!(
        "ALTER TABLE {} ADD {}PRIMARY KEY ({})",
        qualified(table.schema.as_deref(), &table.name),
        constraint_prefix(pk.name.as_deref()),
        ident_list(&pk.columns)
    )
}

/// `ALTER TABLE … ADD [CONSTRAINT …] UNIQUE (…)`.
pub fn add_unique(table: &Table, unique: &Unique) -> String {
    format!(
        "ALTER TABLE {} ADD {}UNIQUE ({})",
        qualified(table.schema.as_deref(), &table.name),
        constraint_prefix(unique.name.as_deref()),
        ident_list(&unique.columns)
    )
}

/// `CONSTRAINT "name" ` or nothing for an unnamed constraint.
fn constraint_prefix(name: Option<&str>) -> String {
    name.map_or(String::new(), |n| format!("CONSTRAINT {} ", quote_ident(n)))
}

/// `[CONSTRAINT name] CHECK (expression)`.
fn check_clause(check: &Check) -> String {
    format!(
        "{}CHECK ({})",
        constraint_prefix(check.name.as_deref()),
        check.expression
    )
}

/// `ALTER TABLE … ADD [CONSTRAINT …] CHECK (…)` (with ` NOT VALID` when `not_valid`).
pub(crate) fn add_check(table: &Table, check: &Check, not_valid: bool) -> String {
    format!(
        "ALTER TABLE {} ADD {}{}",
        qualified(table.schema.as_deref(), &table.name),
        check_clause(check),
        if not_valid { " NOT VALID" } else { "" }
    )
}

/// One column definition without its name (type, COLLATE, identity, generated
/// expression, DEFAULT, NOT NULL), as in CREATE TABLE or ADD COLUMN.
pub(crate) fn column_definition(column: &Column) -> String {
    let mut sql = column.data_type.clone();
    if let Some(collation) = &column.collation {
        sql.push_str(&format!(" COLLATE {}", collation_sql(collation)));
    }
    match column.identity {
        Some(Identity::Always) => sql.push_str(" GENERATED ALWAYS AS IDENTITY"),
        Some(Identity::ByDefault) => sql.push_str(" GENERATED BY DEFAULT AS IDENTITY"),
        None => {}
    }
    if let Some(generated) = &column.generated {
        sql.push_str(&format!(
            " GENERATED ALWAYS AS ({}) {}",
            generated.expression,
            if generated.stored {
                "STORED"
            } else {
                "VIRTUAL"
            }
        ));
    }
    if let Some(default) = &column.default {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    sql
}

/// A collation name from the model (`C`, `en-x-icu`, or `schema.name`), quoted.
fn collation_sql(collation: &str) -> String {
    match collation.split_once('.') {
        Some((schema, name)) if !schema.is_empty() && !name.is_empty() => {
            qualified(Some(schema), name)
        }
        _ => quote_ident(collation),
    }
}

/// `ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY …` (with ` NOT VALID` when `not_valid`).
pub fn add_foreign_key(table: &Table, fk: &ForeignKey, not_valid: bool) -> String {
    let mut sql = format!(
        "ALTER TABLE {} ADD {}FOREIGN KEY ({}) REFERENCES {}",
        qualified(table.schema.as_deref(), &table.name),
        constraint_prefix(fk.name.as_deref()),
        ident_list(&fk.columns),
        qualified(fk.referenced_schema.as_deref(), &fk.referenced_table)
    );
    if !fk.referenced_columns.is_empty() {
        sql.push_str(&format!(" ({})", ident_list(&fk.referenced_columns)));
    }
    if fk.on_delete != ReferentialAction::NoAction {
        sql.push_str(&format!(" ON DELETE {}", fk.on_delete.as_sql()));
    }
    if fk.on_update != ReferentialAction::NoAction {
        sql.push_str(&format!(" ON UPDATE {}", fk.on_update.as_sql()));
    }
    match fk.deferrable {
        Deferrable::NotDeferrable => {}
        Deferrable::InitiallyImmediate => sql.push_str(" DEFERRABLE INITIALLY IMMEDIATE"),
        Deferrable::InitiallyDeferred => sql.push_str(" DEFERRABLE INITIALLY DEFERRED"),
    }
    if not_valid {
        sql.push_str(" NOT VALID");
    }
    sql
}

/// `CREATE [UNIQUE] INDEX [CONCURRENTLY] … ON table [USING method] (…) [INCLUDE (…)]
/// [WHERE …]`.
pub fn create_index(table: &Table, index: &Index, concurrently: bool) -> String {
    let parts = index
        .parts
        .iter()
        .map(index_part)
        .collect::<Vec<_>>()
        .join(", ");
    let mut sql = format!(
        "CREATE {}INDEX {}{} ON {}",
        if index.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        quote_ident(&index.name),
        qualified(table.schema.as_deref(), &table.name)
    );
    if let Some(method) = &index.method {
        sql.push_str(&format!(" USING {}", quote_ident(method)));
    }
    sql.push_str(&format!(" ({parts})"));
    if !index.include.is_empty() {
        sql.push_str(&format!(" INCLUDE ({})", ident_list(&index.include)));
    }
    if let Some(predicate) = &index.predicate {
        sql.push_str(&format!(" WHERE {predicate}"));
    }
    sql
}

/// One index key: `"column"` or `(expression)`, then COLLATE and DESC.
fn index_part(part: &IndexPart) -> String {
    let mut sql = match (&part.column, &part.expression) {
        (Some(column), _) => quote_ident(column),
        (None, Some(expression)) => format!("({expression})"),
        (None, None) => String::new(),
    };
    if let Some(collation) = &part.collation {
        sql.push_str(&format!(" COLLATE {}", collation_sql(collation)));
    }
    if part.descending {
        sql.push_str(" DESC");
    }
    sql
}

/// `CREATE [MATERIALIZED] VIEW … [(columns)] AS …`.
pub fn create_view(view: &View) -> String {
    let columns = if view.columns.is_empty() {
        String::new()
    } else {
        format!(" ({})", ident_list(&view.columns))
    };
    format!(
        "CREATE {}VIEW {}{columns} AS {}",
        if view.materialized {
            "MATERIALIZED "
        } else {
            ""
        },
        qualified(view.schema.as_deref(), &view.name),
        view.definition
    )
}

/// `CREATE INDEX` for each index of a materialized view.
pub(crate) fn view_indexes(view: &View) -> Vec<String> {
    let shape = Table {
        schema: view.schema.clone(),
        name: view.name.clone(),
        ..Table::default()
    };
    view.indexes
        .iter()
        .map(|index| create_index(&shape, index, false))
        .collect()
}

/// `ALTER TABLE … ENABLE|DISABLE ROW LEVEL SECURITY` and `… [NO] FORCE ROW LEVEL
/// SECURITY`, for what differs between `from` and `to`.
pub(crate) fn row_security(
    schema: Option<&str>,
    table: &str,
    from: RowSecurity,
    to: RowSecurity,
) -> Vec<String> {
    let target = qualified(schema, table);
    let mut sql = Vec::new();
    if from.enabled != to.enabled {
        let verb = if to.enabled { "ENABLE" } else { "DISABLE" };
        sql.push(format!("ALTER TABLE {target} {verb} ROW LEVEL SECURITY"));
    }
    if from.forced != to.forced {
        let verb = if to.forced { "FORCE" } else { "NO FORCE" };
        sql.push(format!("ALTER TABLE {target} {verb} ROW LEVEL SECURITY"));
    }
    sql
}

/// The roles of a policy: `PUBLIC`, or the role names quoted.
fn policy_roles(policy: &Policy) -> String {
    if policy.roles.is_empty() || policy.roles.iter().any(|r| r == PUBLIC_ROLE) {
        "PUBLIC".to_string()
    } else {
        ident_list(&policy.roles)
    }
}

/// `CREATE POLICY … ON table AS PERMISSIVE|RESTRICTIVE FOR command TO roles [USING (…)]
/// [WITH CHECK (…)]`.
pub(crate) fn create_policy(schema: Option<&str>, table: &str, policy: &Policy) -> String {
    let mut sql = format!(
        "CREATE POLICY {} ON {} AS {} FOR {} TO {}",
        quote_ident(&policy.name),
        qualified(schema, table),
        if policy.restrictive {
            "RESTRICTIVE"
        } else {
            "PERMISSIVE"
        },
        policy.command.as_sql(),
        policy_roles(policy)
    );
    if let Some(using) = &policy.using {
        sql.push_str(&format!(" USING ({using})"));
    }
    if let Some(check) = &policy.with_check {
        sql.push_str(&format!(" WITH CHECK ({check})"));
    }
    sql
}

/// `ALTER POLICY … ON table [TO roles] [USING (…)] [WITH CHECK (…)]` with what differs
/// between `from` and `to`; `None` when PostgreSQL cannot make the change in place (the
/// command or kind changes, or an expression is removed): the policy is recreated.
pub(crate) fn alter_policy(
    schema: Option<&str>,
    table: &str,
    from: &Policy,
    to: &Policy,
) -> Option<String> {
    let removed = |a: &Option<String>, b: &Option<String>| a.is_some() && b.is_none();
    if from.command != to.command
        || from.restrictive != to.restrictive
        || removed(&from.using, &to.using)
        || removed(&from.with_check, &to.with_check)
    {
        return None;
    }
    let mut sql = format!(
        "ALTER POLICY {} ON {}",
        quote_ident(&to.name),
        qualified(schema, table)
    );
    if from.roles != to.roles {
        sql.push_str(&format!(" TO {}", policy_roles(to)));
    }
    if let (true, Some(using)) = (from.using != to.using, &to.using) {
        sql.push_str(&format!(" USING ({using})"));
    }
    if let (true, Some(check)) = (from.with_check != to.with_check, &to.with_check) {
        sql.push_str(&format!(" WITH CHECK ({check})"));
    }
    Some(sql)
}

/// `DROP POLICY … ON table`.
pub(crate) fn drop_policy(schema: Option<&str>, table: &str, name: &str) -> String {
    format!(
        "DROP POLICY {} ON {}",
        quote_ident(name),
        qualified(schema, table)
    )
}

/// `ALTER POLICY … ON table RENAME TO …`.
pub(crate) fn rename_policy(schema: Option<&str>, table: &str, from: &str, to: &str) -> String {
    format!(
        "ALTER POLICY {} ON {} RENAME TO {}",
        quote_ident(from),
        qualified(schema, table),
        quote_ident(to)
    )
}

/// How `COMMENT ON` and `ALTER … RENAME` name an object: `TYPE "app"."mood"`,
/// `FUNCTION "f"(integer)`, `MATERIALIZED VIEW "v"`, `SCHEMA "app"`, `POLICY "p" ON "t"`.
pub(crate) fn object_reference(object: &Commented) -> String {
    let (schema, name) = object.name();
    let name = qualified(schema, name);
    match object {
        Commented::Namespace(_) => format!("SCHEMA {name}"),
        Commented::Enum(_) | Commented::CompositeType(_) | Commented::RangeType(_) => {
            format!("TYPE {name}")
        }
        Commented::Function(function) => {
            format!("{} {name}({})", routine_kind(function), function.arguments)
        }
        Commented::View(view) if view.materialized => format!("MATERIALIZED VIEW {name}"),
        Commented::View(_) => format!("VIEW {name}"),
        Commented::Domain(_) => format!("DOMAIN {name}"),
        Commented::Collation(_) => format!("COLLATION {name}"),
        Commented::TextSearchConfig(_) => format!("TEXT SEARCH CONFIGURATION {name}"),
        Commented::Policy { schema, table, .. } => format!(
            "POLICY {} ON {}",
            quote_ident(object.name().1),
            qualified(schema.as_deref(), table)
        ),
    }
}

/// `COMMENT ON` a schema, type, domain, collation, text search configuration, routine,
/// view or policy (`None` removes the comment).
pub(crate) fn comment_on_object(object: &Commented, comment: Option<&str>) -> String {
    format!(
        "COMMENT ON {} IS {}",
        object_reference(object),
        comment_literal(comment)
    )
}

/// `ALTER … RENAME TO`: the object named `from` gets `object`'s name.
pub(crate) fn rename_object(object: &Commented, from: &str) -> String {
    format!(
        "ALTER {} RENAME TO {}",
        object_reference(&object.clone().with_name(from.to_string())),
        quote_ident(object.name().1)
    )
}

/// `create`, then `COMMENT ON` the object it creates when the object carries a comment.
pub(crate) fn created_with_comment(create: String, object: &Commented) -> Vec<String> {
    std::iter::once(create)
        .chain(comment_if_any(object))
        .collect()
}

/// `COMMENT ON` the object, when it carries a comment.
pub(crate) fn comment_if_any(object: &Commented) -> Option<String> {
    object.comment().map(|c| comment_on_object(object, Some(c)))
}

/// `COMMENT ON TABLE … IS …` (`IS NULL` removes the comment).
pub(crate) fn comment_on_table(schema: Option<&str>, table: &str, comment: Option<&str>) -> String {
    format!(
        "COMMENT ON TABLE {} IS {}",
        qualified(schema, table),
        comment_literal(comment)
    )
}

/// `COMMENT ON COLUMN table.column IS …` (`IS NULL` removes the comment).
pub(crate) fn comment_on_column(
    schema: Option<&str>,
    table: &str,
    column: &str,
    comment: Option<&str>,
) -> String {
    format!(
        "COMMENT ON COLUMN {}.{} IS {}",
        qualified(schema, table),
        quote_ident(column),
        comment_literal(comment)
    )
}

/// The `COMMENT ON` statements for a table and its columns, each with a label.
pub(crate) fn table_comments(table: &Table) -> Vec<(String, String)> {
    let name = label_name(table.schema.as_deref(), &table.name);
    let schema = table.schema.as_deref();
    let mut out = Vec::new();
    if let Some(comment) = &table.comment {
        out.push((
            format!("comment on table {name}"),
            comment_on_table(schema, &table.name, Some(comment)),
        ));
    }
    for column in &table.columns {
        if let Some(comment) = &column.comment {
            out.push((
                format!("comment on column {name}.{}", column.name),
                comment_on_column(schema, &table.name, &column.name, Some(comment)),
            ));
        }
    }
    out
}

/// `FUNCTION`, `PROCEDURE` or `AGGREGATE`: what `DROP`/`COMMENT ON` call the routine,
/// read from its canonical definition.
pub(crate) fn routine_kind(function: &Function) -> &'static str {
    let definition = function.definition.trim_start();
    if definition.starts_with("CREATE OR REPLACE PROCEDURE") {
        "PROCEDURE"
    } else if definition.starts_with("CREATE OR REPLACE AGGREGATE") {
        "AGGREGATE"
    } else {
        "FUNCTION"
    }
}

/// `DROP FUNCTION|PROCEDURE|AGGREGATE name(arguments)`.
pub(crate) fn drop_routine(function: &Function) -> String {
    format!(
        "DROP {} {}({})",
        routine_kind(function),
        qualified(function.schema.as_deref(), &function.name),
        function.arguments
    )
}

/// `CREATE DOMAIN …` with its default, NOT NULL and CHECKs.
pub(crate) fn create_domain(domain: &Domain) -> String {
    let mut sql = format!(
        "CREATE DOMAIN {} AS {}",
        qualified(domain.schema.as_deref(), &domain.name),
        domain.data_type
    );
    if let Some(collation) = &domain.collation {
        sql.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(default) = &domain.default {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if domain.not_null {
        sql.push_str(" NOT NULL");
    }
    for check in &domain.checks {
        sql.push_str(&domain_check(check));
    }
    sql
}

/// ` [CONSTRAINT name] CHECK (expression)` for a domain.
pub(crate) fn domain_check(check: &Check) -> String {
    let name = check
        .name
        .as_ref()
        .map(|n| format!(" CONSTRAINT {}", quote_ident(n)))
        .unwrap_or_default();
    format!("{name} CHECK ({})", check.expression)
}

/// `CREATE EXTENSION IF NOT EXISTS name [WITH SCHEMA s]`.
pub(crate) fn create_extension(extension: &Extension) -> String {
    let schema = extension
        .schema
        .as_ref()
        .map(|s| format!(" WITH SCHEMA {}", quote_ident(s)))
        .unwrap_or_default();
    format!(
        "CREATE EXTENSION IF NOT EXISTS {}{schema}",
        quote_ident(&extension.name)
    )
}

/// A comment as an SQL literal, or `NULL`.
fn comment_literal(comment: Option<&str>) -> String {
    comment.map_or("NULL".to_string(), quote_literal)
}

/// Every comment the schema carries, labelled.
fn comments(schema: &Schema) -> Vec<(String, String)> {
    let objects = schema
        .namespaces
        .iter()
        .cloned()
        .map(Commented::Namespace)
        .chain(schema.collations.iter().cloned().map(Commented::Collation))
        .chain(schema.enums.iter().cloned().map(Commented::Enum))
        .chain(schema.range_types.iter().cloned().map(Commented::RangeType))
        .chain(schema.domains.iter().cloned().map(Commented::Domain))
        .chain(
            schema
                .composite_types
                .iter()
                .cloned()
                .map(Commented::CompositeType),
        )
        .chain(schema.functions.iter().cloned().map(Commented::Function))
        .chain(
            schema
                .text_search_configs
                .iter()
                .cloned()
                .map(Commented::TextSearchConfig),
        );
    let mut out: Vec<(String, String)> = objects
        .filter_map(|object| {
            let comment = object.comment()?;
            Some((
                format!("comment on {}", object.describe()),
                comment_on_object(&object, Some(comment)),
            ))
        })
        .collect();
    for table in &schema.tables {
        out.extend(table_comments(table));
    }
    out.extend(schema.views.iter().filter_map(|view| {
        let object = Commented::View(view.clone());
        let comment = object.comment()?;
        Some((
            format!("comment on {}", object.describe()),
            comment_on_object(&object, Some(comment)),
        ))
    }));
    out
}

/// `CREATE COLLATION … (provider = …, locale = … | lc_collate = …, lc_ctype = …,
/// deterministic = false)`.
pub(crate) fn create_collation(collation: &Collation) -> String {
    let mut options = vec![format!("provider = {}", quote_ident(&collation.provider))];
    let settings = [
        ("locale", &collation.locale),
        ("lc_collate", &collation.lc_collate),
        ("lc_ctype", &collation.lc_ctype),
    ];
    for (key, value) in settings {
        if let Some(value) = value {
            options.push(format!("{key} = {}", quote_literal(value)));
        }
    }
    if !collation.deterministic {
        options.push("deterministic = false".to_string());
    }
    format!(
        "CREATE COLLATION {} ({})",
        qualified(collation.schema.as_deref(), &collation.name),
        options.join(", ")
    )
}

/// The type of a composite type's attribute: `type [COLLATE c]`.
pub(crate) fn attribute_type(attribute: &Attribute) -> String {
    let collation = attribute
        .collation
        .as_deref()
        .map(|c| format!(" COLLATE {}", collation_sql(c)))
        .unwrap_or_default();
    format!("{}{collation}", attribute.data_type)
}

/// One attribute of a composite type: `"name" type [COLLATE c]`.
pub(crate) fn attribute_definition(attribute: &Attribute) -> String {
    format!(
        "{} {}",
        quote_ident(&attribute.name),
        attribute_type(attribute)
    )
}

/// `CREATE TYPE … AS (attribute type, …)`.
pub(crate) fn create_composite_type(composite: &CompositeType) -> String {
    let attributes: Vec<String> = composite
        .attributes
        .iter()
        .map(attribute_definition)
        .collect();
    format!(
        "CREATE TYPE {} AS ({})",
        qualified(composite.schema.as_deref(), &composite.name),
        attributes.join(", ")
    )
}

/// `CREATE TYPE … AS RANGE (SUBTYPE = …, …)`.
pub(crate) fn create_range_type(range: &RangeType) -> String {
    let mut options = vec![format!("SUBTYPE = {}", range.subtype)];
    if let Some(collation) = &range.collation {
        options.push(format!("COLLATION = {}", collation_sql(collation)));
    }
    if let Some(canonical) = &range.canonical {
        options.push(format!("CANONICAL = {canonical}"));
    }
    if let Some(subtype_diff) = &range.subtype_diff {
        options.push(format!("SUBTYPE_DIFF = {subtype_diff}"));
    }
    format!(
        "CREATE TYPE {} AS RANGE ({})",
        qualified(range.schema.as_deref(), &range.name),
        options.join(", ")
    )
}

/// `CREATE TEXT SEARCH CONFIGURATION … (PARSER = …)` and its `ADD MAPPING`s.
pub(crate) fn create_text_search_config(config: &TextSearchConfig) -> Vec<String> {
    let mut sql = vec![format!(
        "CREATE TEXT SEARCH CONFIGURATION {} (PARSER = {})",
        qualified(config.schema.as_deref(), &config.name),
        collation_sql(&config.parser)
    )];
    sql.extend(text_search_mappings(config, "ADD", &config.mappings));
    sql
}

/// `ALTER TEXT SEARCH CONFIGURATION … {ADD|ALTER} MAPPING FOR … WITH …`, one statement
/// per run of token types that share their dictionaries.
pub(crate) fn text_search_mappings(
    config: &TextSearchConfig,
    verb: &str,
    mappings: &[TextSearchMapping],
) -> Vec<String> {
    let mut groups: Vec<(Vec<&str>, &[String])> = Vec::new();
    for mapping in mappings {
        match groups.last_mut() {
            Some((tokens, dictionaries)) if *dictionaries == mapping.dictionaries.as_slice() => {
                tokens.push(&mapping.token)
            }
            _ => groups.push((vec![&mapping.token], &mapping.dictionaries)),
        }
    }
    groups
        .into_iter()
        .map(|(tokens, dictionaries)| {
            let tokens: Vec<String> = tokens.into_iter().map(quote_ident).collect();
            format!(
                "ALTER TEXT SEARCH CONFIGURATION {} {verb} MAPPING FOR {} WITH {}",
                qualified(config.schema.as_deref(), &config.name),
                tokens.join(", "),
                dictionaries.join(", ")
            )
        })
        .collect()
}
