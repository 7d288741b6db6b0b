//! Named catalog objects other than tables (enum, composite and range types, domains,
//! collations, text search configurations): what the diff needs to pair, compare and
//! rename them alike, and how a rename reaches the columns, types and domains that name
//! the renamed object.
//!
//! References are the engine's canonical text (`format_type`, collation names), which
//! names an object `name` in the default namespace and `schema.name` elsewhere, with
//! `[]` after an array type. This module never quotes: a name the engine prints quoted
//! (`"Mood"`) is matched by its unquoted form only where [`names_type`] says so.

use crate::change::{qualify, Commented};
use crate::model::{
    Collation, CompositeType, Domain, EnumType, RangeType, Schema, TextSearchConfig,
};

/// A catalog object the diff pairs by namespace and name, and that a hint may rename.
pub(crate) trait CatalogObject: Clone {
    /// The object as a [`Commented`] value.
    fn commented(&self) -> Commented;
    /// Its rename hint.
    fn renamed_from(&self) -> Option<&str>;
    /// The object without its comment and hint: what must match for it to stay as is.
    fn definition(&self) -> Self;
}

macro_rules! catalog_object {
    ($type:ty, $variant:ident) => {
        impl CatalogObject for $type {
            fn commented(&self) -> Commented {
                Commented::$variant(self.clone())
            }
            fn renamed_from(&self) -> Option<&str> {
                self.renamed_from.as_deref()
            }
            fn definition(&self) -> Self {
                Self {
                    comment: None,
                    renamed_from: None,
                    ..self.clone()
                }
            }
        }
    };
}

catalog_object!(EnumType, Enum);
catalog_object!(Domain, Domain);
catalog_object!(Collation, Collation);
catalog_object!(CompositeType, CompositeType);
catalog_object!(RangeType, RangeType);
catalog_object!(TextSearchConfig, TextSearchConfig);

/// Whether the type text `data_type` (or its element type, for an array) is the type
/// `name` in `schema`, as the engine prints it: `mood`, `"Mood"`, `app.mood`, `mood[]`.
/// A bare name matches in any namespace (the engine prints a type on the search path
/// unqualified).
///
/// ```
/// use schemasync_core::catalog::names_type;
/// assert!(names_type("app.mood[]", Some("app"), "mood"));
/// assert!(names_type("\"Mood\"", None, "Mood"));
/// assert!(!names_type("moods", None, "mood"));
/// ```
pub fn names_type(data_type: &str, schema: Option<&str>, name: &str) -> bool {
    let bare = data_type.trim_end_matches("[]").trim_matches('"');
    bare == name || schema.is_some_and(|s| bare == format!("{s}.{name}"))
}

/// Whether the definition of `user` names `used` (a type, domain or collation of the same
/// diff): a domain's base type or collation, a range's subtype or collation, a composite
/// type's attribute types and collations. So `used` must exist first.
pub(crate) fn uses(user: &Commented, used: &Commented) -> bool {
    let (schema, name) = used.name();
    let names = |text: &str| names_type(text, schema, name);
    let names_any = |text: &Option<String>| text.as_deref().is_some_and(names);
    match user {
        Commented::Domain(domain) => names(&domain.data_type) || names_any(&domain.collation),
        Commented::RangeType(range) => names(&range.subtype) || names_any(&range.collation),
        Commented::CompositeType(composite) => composite
            .attributes
            .iter()
            .any(|a| names(&a.data_type) || names_any(&a.collation)),
        _ => false,
    }
}

/// `text` with the reference to `schema.from` replaced by `schema.to` (keeping an array
/// suffix), when `text` is exactly such a reference.
fn renamed_reference(text: &mut String, schema: Option<&str>, from: &str, to: &str) {
    let bare = text.trim_end_matches("[]");
    if bare == qualify(schema, from) {
        let suffix = text[bare.len()..].to_string();
        *text = format!("{}{suffix}", qualify(schema, to));
    }
}

fn rename_reference(text: &mut Option<String>, schema: Option<&str>, from: &str, to: &str) {
    if let Some(text) = text {
        renamed_reference(text, schema, from, to);
    }
}

/// Renames the object `from` of the kind and namespace of `object` to `object`'s name in
/// `schema` (recording `from` as its rename hint), and every type or collation
/// reference to it. Returns whether an object named `from` was found.
pub(crate) fn rename_object(schema: &mut Schema, object: &Commented, from: &str) -> bool {
    let (namespace, to) = object.name();
    let to = to.to_string();
    let ns = namespace.map(str::to_string);
    macro_rules! rename_in {
        ($items:expr) => {{
            match $items.iter_mut().find(|o| o.schema == ns && o.name == from) {
                Some(found) => {
                    found.name = to.clone();
                    found.renamed_from = Some(from.to_string());
                    true
                }
                None => false,
            }
        }};
    }
    let (found, is_type) = match object {
        Commented::Enum(_) => (rename_in!(schema.enums), true),
        Commented::Domain(_) => (rename_in!(schema.domains), true),
        Commented::CompositeType(_) => (rename_in!(schema.composite_types), true),
        Commented::RangeType(_) => (rename_in!(schema.range_types), true),
        Commented::Collation(_) => (rename_in!(schema.collations), false),
        Commented::TextSearchConfig(_) => return rename_in!(schema.text_search_configs),
        // Policies are renamed on their table (`RenamePolicy`); these kinds have no hint.
        Commented::Namespace(_)
        | Commented::Function(_)
        | Commented::View(_)
        | Commented::Policy { .. } => return false,
    };
    if found {
        rename_references(schema, is_type, namespace, from, &to);
    }
    found
}

/// Points every type (`is_type`) or collation reference to `schema.from` at `schema.to`.
fn rename_references(schema: &mut Schema, is_type: bool, ns: Option<&str>, from: &str, to: &str) {
    for table in &mut schema.tables {
        for column in &mut table.columns {
            if is_type {
                renamed_reference(&mut column.data_type, ns, from, to);
            } else {
                rename_reference(&mut column.collation, ns, from, to);
            }
        }
        if !is_type {
            for index in &mut table.indexes {
                for part in &mut index.parts {
                    rename_reference(&mut part.collation, ns, from, to);
                }
            }
        }
    }
    for domain in &mut schema.domains {
        if is_type {
            renamed_reference(&mut domain.data_type, ns, from, to);
        } else {
            rename_reference(&mut domain.collation, ns, from, to);
        }
    }
    for composite in &mut schema.composite_types {
        for attribute in &mut composite.attributes {
            if is_type {
                renamed_reference(&mut attribute.data_type, ns, from, to);
            } else {
                rename_reference(&mut attribute.collation, ns, from, to);
            }
        }
    }
    for range in &mut schema.range_types {
        if is_type {
            renamed_reference(&mut range.subtype, ns, from, to);
        } else {
            rename_reference(&mut range.collation, ns, from, to);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Attribute, Column, Table};

    #[test]
    fn renaming_a_type_renames_the_columns_and_attributes_that_use_it() {
        let mut table = Table::new("t");
        table.columns = vec![
            Column::new("a", "app.addr"),
            Column::new("b", "app.addr[]"),
            Column::new("c", "app.address_line"),
        ];
        let addr = CompositeType {
            schema: Some("app".into()),
            name: "addr".into(),
            attributes: vec![Attribute {
                name: "street".into(),
                data_type: "text".into(),
                collation: None,
            }],
            comment: None,
            renamed_from: None,
        };
        let mut schema = Schema {
            tables: vec![table],
            composite_types: vec![addr.clone()],
            ..Schema::default()
        };
        let renamed = Commented::CompositeType(CompositeType {
            name: "address".into(),
            ..addr
        });
        assert!(rename_object(&mut schema, &renamed, "addr"));
        assert_eq!(schema.composite_types[0].name, "address");
        let types: Vec<&str> = schema.tables[0]
            .columns
            .iter()
            .map(|c| c.data_type.as_str())
            .collect();
        assert_eq!(types, ["app.address", "app.address[]", "app.address_line"]);
        assert!(!rename_object(&mut schema, &renamed, "addr"));
    }
}
