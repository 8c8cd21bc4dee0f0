//! The resources of a state, keyed by name, remembering which entries changed since the state was
//! last saved. Reading is a plain map; every way to change an entry marks it, so a save writes only
//! what changed and its cost does not grow with the stack.

use super::ResourceState;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Deref;

#[derive(Debug, Clone, Default)]
pub struct Resources {
    entries: BTreeMap<String, ResourceState>,
    /// Names inserted, changed or removed since the last [`Resources::take_changed`].
    changed: BTreeSet<String>,
}

impl Resources {
    pub fn get_mut(&mut self, name: &str) -> Option<&mut ResourceState> {
        let entry = self.entries.get_mut(name)?;
        self.changed.insert(name.to_string());
        Some(entry)
    }

    pub fn insert(&mut self, name: String, entry: ResourceState) -> Option<ResourceState> {
        self.changed.insert(name.clone());
        self.entries.insert(name, entry)
    }

    pub fn remove(&mut self, name: &str) -> Option<ResourceState> {
        let removed = self.entries.remove(name)?;
        self.changed.insert(name.to_string());
        Some(removed)
    }

    /// Keeps only the entries `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &ResourceState) -> bool) {
        let dropped: Vec<String> = self
            .entries
            .iter()
            .filter(|(name, entry)| !keep(name, entry))
            .map(|(name, _)| name.clone())
            .collect();
        for name in dropped {
            self.remove(&name);
        }
    }

    /// Changes, with `change`, every entry `select` picks (and only those are marked).
    pub fn update_where(
        &mut self,
        select: impl Fn(&ResourceState) -> bool,
        mut change: impl FnMut(&mut ResourceState),
    ) {
        for (name, entry) in self.entries.iter_mut().filter(|(_, e)| select(e)) {
            change(entry);
            self.changed.insert(name.clone());
        }
    }

    /// The names changed since the last call, forgetting them.
    pub fn take_changed(&mut self) -> BTreeSet<String> {
        std::mem::take(&mut self.changed)
    }

    /// Marks `names` as changed again (a save that failed must not forget what it did not write).
    pub fn mark_changed(&mut self, names: impl IntoIterator<Item = String>) {
        self.changed.extend(names);
    }
}

impl Deref for Resources {
    type Target = BTreeMap<String, ResourceState>;

    fn deref(&self) -> &Self::Target {
        &self.entries
    }
}

/// Equal when the entries are: what changed since a save is bookkeeping, not content.
impl<'a> IntoIterator for &'a Resources {
    type Item = (&'a String, &'a ResourceState);
    type IntoIter = std::collections::btree_map::Iter<'a, String, ResourceState>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

impl PartialEq for Resources {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl From<BTreeMap<String, ResourceState>> for Resources {
    fn from(entries: BTreeMap<String, ResourceState>) -> Self {
        Resources {
            changed: entries.keys().cloned().collect(),
            entries,
        }
    }
}

impl FromIterator<(String, ResourceState)> for Resources {
    fn from_iter<I: IntoIterator<Item = (String, ResourceState)>>(iter: I) -> Self {
        Resources::from(iter.into_iter().collect::<BTreeMap<_, _>>())
    }
}

impl Serialize for Resources {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.entries.serialize(serializer)
    }
}

/// A state read from storage has nothing unsaved.
impl<'de> Deserialize<'de> for Resources {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Resources {
            entries: BTreeMap::deserialize(deserializer)?,
            changed: BTreeSet::new(),
        })
    }
}
