//! The registry: every revision, checked as a graph (no duplicate ids, no missing
//! parents, no cycles), in topological order; targets and the upgrade and downgrade
//! paths between sets of applied revisions.

use super::revision::Revision;
use crate::error::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

/// Where `upgrade`, `downgrade` or `stamp` should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The single head (an error when there are several).
    Head,
    /// Every head.
    Heads,
    /// No revision applied.
    Base,
    /// A revision id, a unique id prefix, or a branch label.
    Revision(String),
    /// `+N` (upgrade N revisions) or `-N` (downgrade N revisions).
    Relative(i64),
    /// `label@head`: the head of the branch a label starts.
    BranchHead(String),
}

impl FromStr for Target {
    type Err = Error;

    fn from_str(text: &str) -> Result<Target> {
        let text = text.trim();
        Ok(match text {
            "" => return Err(Error::Usage("the migration target is empty".to_string())),
            "head" => Target::Head,
            "heads" => Target::Heads,
            "base" => Target::Base,
            _ if text.starts_with('+') || text.starts_with('-') => {
                let n: i64 = text.parse().map_err(|_| {
                    Error::Usage(format!(
                        "target `{text}` is not a number of steps like +1 or -2"
                    ))
                })?;
                if n == 0 {
                    return Err(Error::Usage(format!("target `{text}` moves zero steps")));
                }
                Target::Relative(n)
            }
            _ => match text.strip_suffix("@head") {
                Some(label) if !label.is_empty() => Target::BranchHead(label.to_string()),
                _ => Target::Revision(text.to_string()),
            },
        })
    }
}

/// Every known revision, in topological order (parents first, ties by id).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    revisions: Vec<Revision>,
    index: BTreeMap<String, usize>,
}

impl Registry {
    /// Builds a registry, checking ids, parents and cycles.
    pub fn new(revisions: Vec<Revision>) -> Result<Registry> {
        let mut by_id: BTreeMap<String, Revision> = BTreeMap::new();
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        for revision in revisions {
            if let Some(label) = &revision.branch_label {
                if let Some(other) = labels.insert(label.clone(), revision.id.clone()) {
                    return Err(Error::Revision(format!(
                        "branch label {label} is used by revisions {other} and {}",
                        revision.id
                    )));
                }
            }
            if let Some(existing) = by_id.get(&revision.id) {
                return Err(Error::Revision(format!(
                    "revision id {} is used twice ({} and {})",
                    revision.id,
                    existing.origin(),
                    revision.origin()
                )));
            }
            by_id.insert(revision.id.clone(), revision);
        }
        for revision in by_id.values() {
            for parent in &revision.parents {
                if !by_id.contains_key(parent) {
                    return Err(Error::Revision(format!(
                        "revision {} names parent {parent}, which does not exist",
                        revision.id
                    )));
                }
            }
        }
        // Kahn's algorithm; what is left over lies on a cycle.
        let mut waiting: BTreeMap<&str, usize> = by_id
            .values()
            .map(|r| {
                (
                    r.id.as_str(),
                    r.parents.iter().collect::<BTreeSet<_>>().len(),
                )
            })
            .collect();
        let mut order: Vec<String> = Vec::new();
        let mut ready: BTreeSet<&str> = waiting
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(id, _)| *id)
            .collect();
        while let Some(id) = ready.pop_first() {
            waiting.remove(id);
            order.push(id.to_string());
            for child in by_id.values() {
                if child.parents.iter().any(|p| p == id) {
                    if let Some(n) = waiting.get_mut(child.id.as_str()) {
                        *n -= 1;
                        if *n == 0 {
                            ready.insert(child.id.as_str());
                        }
                    }
                }
            }
        }
        if !waiting.is_empty() {
            let ids: Vec<&str> = waiting.keys().copied().collect();
            return Err(Error::Revision(format!(
                "the revision graph has a cycle through {}",
                ids.join(", ")
            )));
        }
        let mut revisions = Vec::with_capacity(order.len());
        let mut index = BTreeMap::new();
        for id in order {
            if let Some(revision) = by_id.remove(&id) {
                index.insert(id, revisions.len());
                revisions.push(revision);
            }
        }
        Ok(Registry { revisions, index })
    }

    /// Loads every `*.toml` revision file of `dir` (an empty registry when `dir` is missing).
    pub fn load(dir: &Path) -> Result<Registry> {
        Registry::load_with(dir, Vec::new())
    }

    /// Loads the revision files of `dir` together with revisions registered in code.
    pub fn load_with(dir: &Path, in_code: Vec<Revision>) -> Result<Registry> {
        if !dir.exists() {
            return Registry::new(in_code);
        }
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut paths = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        let mut revisions = paths
            .iter()
            .map(|p| Revision::load(p))
            .collect::<Result<Vec<_>>>()?;
        revisions.extend(in_code);
        Registry::new(revisions)
    }

    /// Every revision, parents before children.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// Whether there is no revision.
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// The revision with exactly this id.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.index.get(id).map(|&i| &self.revisions[i])
    }

    /// The revision an id, a unique id prefix or a branch label names.
    pub fn resolve(&self, name: &str) -> Result<&Revision> {
        if let Some(revision) = self.get(name) {
            return Ok(revision);
        }
        if let Some(revision) = self
            .revisions
            .iter()
            .find(|r| r.branch_label.as_deref() == Some(name))
        {
            return Ok(revision);
        }
        let matches: Vec<&Revision> = self
            .revisions
            .iter()
            .filter(|r| r.id.starts_with(name))
            .collect();
        match matches.as_slice() {
            [one] => Ok(one),
            [] => Err(Error::Revision(format!("no revision matches `{name}`"))),
            many => Err(Error::Revision(format!(
                "revision prefix `{name}` is ambiguous: it matches {}",
                many.iter()
                    .map(|r| r.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Revisions no other revision names as a parent, in topological order.
    pub fn heads(&self) -> Vec<&str> {
        let parents: BTreeSet<&str> = self
            .revisions
            .iter()
            .flat_map(|r| r.parents.iter().map(String::as_str))
            .collect();
        self.revisions
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| !parents.contains(id))
            .collect()
    }

    /// Revisions that name `id` as a parent.
    pub fn children(&self, id: &str) -> Vec<&str> {
        self.revisions
            .iter()
            .filter(|r| r.parents.iter().any(|p| p == id))
            .map(|r| r.id.as_str())
            .collect()
    }

    /// Revisions with more than one child: where branches start.
    pub fn branch_points(&self) -> Vec<&str> {
        self.revisions
            .iter()
            .map(|r| r.id.as_str())
            .filter(|id| self.children(id).len() > 1)
            .collect()
    }

    /// `ids` and all their ancestors.
    pub fn closure<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = ids.into_iter().map(str::to_string).collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            if let Some(revision) = self.get(&id) {
                stack.extend(revision.parents.iter().cloned());
            }
        }
        seen
    }

    /// The applied revisions that no other applied revision descends from: where the
    /// database is.
    pub fn current(&self, applied: &BTreeSet<String>) -> Vec<String> {
        let mut below = BTreeSet::new();
        for id in applied {
            if let Some(revision) = self.get(id) {
                below.extend(self.closure(revision.parents.iter().map(String::as_str)));
            }
        }
        self.in_order(applied.iter().filter(|id| !below.contains(*id)))
    }

    /// The single head, or an error listing the heads.
    pub fn single_head(&self) -> Result<&str> {
        match self.heads().as_slice() {
            [one] => Ok(one),
            [] => Err(Error::Revision("there are no revisions yet".to_string())),
            many => Err(Error::Revision(format!(
                "there are {} heads ({}); name one, use `heads`, or `merge` them",
                many.len(),
                many.join(", ")
            ))),
        }
    }

    /// The head of the branch that `label` names (a branch label or revision).
    pub fn branch_head(&self, label: &str) -> Result<&str> {
        let start = self.resolve(label)?.id.clone();
        let heads: Vec<&str> = self
            .heads()
            .into_iter()
            .filter(|h| self.closure([*h]).contains(&start))
            .collect();
        match heads.as_slice() {
            [one] => Ok(one),
            [] => Err(Error::Revision(format!("branch {label} has no head"))),
            many => Err(Error::Revision(format!(
                "branch {label} has {} heads ({}); merge them or name one",
                many.len(),
                many.join(", ")
            ))),
        }
    }

    /// The revisions `upgrade target` runs from `applied`, in order.
    pub fn upgrade_path(&self, applied: &BTreeSet<String>, target: &Target) -> Result<Vec<String>> {
        let goal: Vec<String> = match target {
            Target::Head => vec![self.single_head()?.to_string()],
            Target::Heads => self.heads().iter().map(|s| s.to_string()).collect(),
            Target::Base => Vec::new(),
            Target::Revision(name) => vec![self.resolve(name)?.id.clone()],
            Target::BranchHead(label) => vec![self.branch_head(label)?.to_string()],
            Target::Relative(n) if *n > 0 => {
                let pending = self.upgrade_path(applied, &Target::Heads)?;
                let n = usize::try_from(*n).unwrap_or(usize::MAX);
                if pending.len() < n {
                    return Err(Error::Revision(format!(
                        "cannot upgrade +{n}: only {} revision(s) are pending",
                        pending.len()
                    )));
                }
                return Ok(pending.into_iter().take(n).collect());
            }
            Target::Relative(n) => {
                return Err(Error::Usage(format!(
                    "upgrade cannot go {n} steps; use downgrade"
                )))
            }
        };
        let wanted = self.closure(goal.iter().map(String::as_str));
        Ok(self.in_order(wanted.iter().filter(|id| !applied.contains(*id))))
    }

    /// The revisions `downgrade target` undoes from `applied`, in order (children first):
    /// every applied revision for `base`, the last N for `-N`, and for a revision the
    /// applied revisions that descend from it (other branches are left alone).
    pub fn downgrade_path(
        &self,
        applied: &BTreeSet<String>,
        target: &Target,
    ) -> Result<Vec<String>> {
        let mut undo: Vec<String> = self.in_order(applied.iter());
        undo.reverse();
        let floor: String = match target {
            Target::Base => return Ok(undo),
            Target::Relative(n) if *n < 0 => {
                let n = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
                if undo.len() < n {
                    return Err(Error::Revision(format!(
                        "cannot downgrade -{n}: only {} revision(s) are applied",
                        undo.len()
                    )));
                }
                undo.truncate(n);
                return Ok(undo);
            }
            Target::Revision(name) => self.resolve(name)?.id.clone(),
            Target::BranchHead(label) => self.branch_head(label)?.to_string(),
            Target::Head | Target::Heads | Target::Relative(_) => {
                return Err(Error::Usage(
                    "downgrade goes to base, a revision or -N; use upgrade for head".to_string(),
                ))
            }
        };
        if !applied.contains(&floor) {
            return Err(Error::Revision(format!(
                "cannot downgrade to {floor}: it is not applied"
            )));
        }
        // Only the target's own descendants go: other branches stay where they are.
        undo.retain(|id| id != &floor && self.closure([id.as_str()]).contains(&floor));
        Ok(undo)
    }

    /// The set of revisions recorded as applied by `stamp target`.
    pub fn stamp_set(&self, target: &Target) -> Result<BTreeSet<String>> {
        Ok(match target {
            Target::Base => BTreeSet::new(),
            Target::Head => self.closure([self.single_head()?]),
            Target::Heads => self.closure(self.heads()),
            Target::Revision(name) => self.closure([self.resolve(name)?.id.as_str()]),
            Target::BranchHead(label) => self.closure([self.branch_head(label)?]),
            Target::Relative(_) => {
                return Err(Error::Usage(
                    "stamp takes head, heads, base or a revision, not +N/-N".to_string(),
                ))
            }
        })
    }

    /// `ids` in topological order; unknown ids come last, sorted.
    fn in_order<'a>(&self, ids: impl Iterator<Item = &'a String>) -> Vec<String> {
        let mut known: Vec<(usize, String)> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for id in ids {
            match self.index.get(id) {
                Some(&i) => known.push((i, id.clone())),
                None => unknown.push(id.clone()),
            }
        }
        known.sort();
        unknown.sort();
        known.into_iter().map(|(_, id)| id).chain(unknown).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn rev(id: &str, parents: &[&str]) -> Revision {
        Revision {
            id: id.to_string(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
            message: format!("revision {id}"),
            ..Revision::default()
        }
    }

    fn linear() -> Registry {
        Registry::new(vec![rev("c3", &["b2"]), rev("a1", &[]), rev("b2", &["a1"])]).unwrap()
    }

    fn set(ids: &[&str]) -> BTreeSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn target(text: &str) -> Target {
        text.parse().unwrap()
    }

    #[test]
    fn revisions_come_parents_first() {
        let registry = linear();
        let ids: Vec<&str> = registry.revisions().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a1", "b2", "c3"]);
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let err = Registry::new(vec![rev("a1", &[]), rev("a1", &[])]).unwrap_err();
        assert!(
            err.to_string().contains("revision id a1 is used twice"),
            "{err}"
        );
    }

    #[test]
    fn missing_parents_are_refused() {
        let err = Registry::new(vec![rev("a1", &["zz"])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "revision a1 names parent zz, which does not exist"
        );
    }

    #[test]
    fn cycles_are_refused_naming_their_revisions() {
        let err = Registry::new(vec![
            rev("a1", &[]),
            rev("b2", &["a1", "c3"]),
            rev("c3", &["b2"]),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the revision graph has a cycle through b2, c3"
        );
    }

    #[test]
    fn targets_parse_in_alembic_forms() {
        assert_eq!(target("head"), Target::Head);
        assert_eq!(target("heads"), Target::Heads);
        assert_eq!(target("base"), Target::Base);
        assert_eq!(target("+2"), Target::Relative(2));
        assert_eq!(target("-1"), Target::Relative(-1));
        assert_eq!(target("feature@head"), Target::BranchHead("feature".into()));
        assert_eq!(target("ab12"), Target::Revision("ab12".into()));
        assert!("+x".parse::<Target>().is_err());
    }

    #[test]
    fn prefixes_resolve_when_unique() {
        let registry = Registry::new(vec![rev("abc1", &[]), rev("abd2", &["abc1"])]).unwrap();
        assert_eq!(registry.resolve("abc").unwrap().id, "abc1");
        let err = registry.resolve("ab").unwrap_err().to_string();
        assert!(err.contains("ambiguous"), "{err}");
        assert_eq!(
            registry.resolve("x").unwrap_err().to_string(),
            "no revision matches `x`"
        );
    }

    #[test]
    fn upgrade_paths_follow_every_target_form() {
        let registry = linear();
        let none = set(&[]);
        assert_eq!(
            registry.upgrade_path(&none, &Target::Head).unwrap(),
            ["a1", "b2", "c3"]
        );
        assert_eq!(
            registry.upgrade_path(&none, &target("+2")).unwrap(),
            ["a1", "b2"]
        );
        assert_eq!(
            registry.upgrade_path(&none, &target("b")).unwrap(),
            ["a1", "b2"]
        );
        assert_eq!(
            registry.upgrade_path(&set(&["a1"]), &Target::Head).unwrap(),
            ["b2", "c3"]
        );
        assert!(registry
            .upgrade_path(&set(&["a1", "b2", "c3"]), &target("+1"))
            .is_err());
    }

    #[test]
    fn downgrade_paths_undo_children_first() {
        let registry = linear();
        let all = set(&["a1", "b2", "c3"]);
        assert_eq!(
            registry.downgrade_path(&all, &target("-1")).unwrap(),
            ["c3"]
        );
        assert_eq!(
            registry.downgrade_path(&all, &Target::Base).unwrap(),
            ["c3", "b2", "a1"]
        );
        assert_eq!(
            registry.downgrade_path(&all, &target("a1")).unwrap(),
            ["c3", "b2"]
        );
        assert!(registry
            .downgrade_path(&set(&["a1"]), &target("c3"))
            .is_err());
    }

    #[test]
    fn several_heads_without_a_merge_name_the_heads() {
        let registry =
            Registry::new(vec![rev("a1", &[]), rev("b2", &["a1"]), rev("c3", &["a1"])]).unwrap();
        let err = registry
            .upgrade_path(&set(&[]), &Target::Head)
            .unwrap_err()
            .to_string();
        assert!(err.contains("2 heads (b2, c3)"), "{err}");
        assert_eq!(
            registry.upgrade_path(&set(&[]), &Target::Heads).unwrap(),
            ["a1", "b2", "c3"]
        );
        assert_eq!(registry.branch_points(), ["a1"]);
    }

    #[test]
    fn merges_join_heads_and_current_shows_the_tips() {
        let mut feature = rev("c3", &["a1"]);
        feature.branch_label = Some("feature".into());
        let registry = Registry::new(vec![
            rev("a1", &[]),
            rev("b2", &["a1"]),
            feature,
            rev("d4", &["b2", "c3"]),
        ])
        .unwrap();
        assert_eq!(registry.single_head().unwrap(), "d4");
        assert_eq!(registry.current(&set(&["a1", "b2", "c3"])), ["b2", "c3"]);
        assert_eq!(registry.branch_head("feature").unwrap(), "d4");
        assert_eq!(
            registry
                .upgrade_path(&set(&[]), &target("feature@head"))
                .unwrap(),
            ["a1", "b2", "c3", "d4"]
        );
        assert_eq!(
            registry
                .downgrade_path(&set(&["a1", "b2", "c3", "d4"]), &target("-1"))
                .unwrap(),
            ["d4"]
        );
        assert_eq!(
            registry
                .downgrade_path(&set(&["a1", "b2", "c3", "d4"]), &target("b2"))
                .unwrap(),
            ["d4"],
            "downgrading to b2 leaves the c3 branch applied"
        );
        assert_eq!(
            registry.stamp_set(&target("c3")).unwrap(),
            set(&["a1", "c3"])
        );
    }
}
