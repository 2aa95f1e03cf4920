//! The object of a [`Value`](super::Value): its entries in one vector, sorted by key.
//!
//! A plan of 50,000 resources holds millions of small objects (attribute maps, tags, nested
//! blocks). A `BTreeMap` gives each of them a node of room for eleven entries, about 630 bytes
//! even for a map of two tags; a sorted vector costs the entries it holds and one allocation.
//! Objects are built once and then only read, so lookups by binary search are all they need;
//! inserting into a large object one key at a time is slower than in a tree (each insert
//! shifts the entries after it), which is why loaders collect instead.
//!
//! The methods mirror `BTreeMap`'s, so code reads the same: iteration is in key order, and a
//! key inserted twice keeps its last value.

use super::Value;
use std::cmp::Ordering;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Map {
    /// Sorted by key, each key once.
    entries: Vec<(String, Value)>,
}

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|(candidate, _)| compare_keys(candidate, key))
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).ok().map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.position(key).ok().map(|i| &mut self.entries[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets a key, returning the value it replaced.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.position(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// The value of a key, inserted with `make` first when the key is absent.
    pub fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> Value) -> &mut Value {
        let i = match self.position(key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key.to_string(), make()));
                i
            }
        };
        &mut self.entries[i].1
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&String, &Value)> + ExactSizeIterator {
        self.entries.iter().map(|(key, value)| (key, value))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut Value)> {
        self.entries.iter_mut().map(|(key, value)| (&*key, value))
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator {
        self.entries.iter().map(|(key, _)| key)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator {
        self.entries.iter().map(|(_, value)| value)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.entries.iter_mut().map(|(_, value)| value)
    }

    pub fn into_values(self) -> impl Iterator<Item = Value> {
        self.entries.into_iter().map(|(_, value)| value)
    }

    pub fn into_keys(self) -> impl Iterator<Item = String> {
        self.entries.into_iter().map(|(key, _)| key)
    }

    /// Takes entries that are in key order already, each key once, as a `BTreeMap` yields
    /// them: sorting them again and copying them into a vector of the kept ones would cost
    /// two more passes and two more allocations for every object a load converts.
    pub(crate) fn from_sorted(entries: Vec<(String, Value)>) -> Map {
        debug_assert!(
            entries.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "entries out of order or repeated"
        );
        Map { entries }
    }

    /// Puts entries gathered in any order into key order, the last of equal keys winning.
    fn from_unsorted(mut entries: Vec<(String, Value)>) -> Map {
        into_key_order(&mut entries);
        entries.shrink_to_fit();
        Map { entries }
    }
}

/// Sorts entries gathered in any order by key, keeping the last of equal keys: the one order of
/// the sorted-vector maps of the model ([`Map`], and a resource's references).
pub fn into_key_order<V>(entries: &mut Vec<(String, V)>) {
    // Terraform writes object keys in order, so a plan's objects usually arrive sorted;
    // checking costs one comparison per entry, sorting many more.
    let in_order = entries
        .windows(2)
        .all(|pair| compare_keys(&pair[0].0, &pair[1].0) == Ordering::Less);
    if in_order {
        return;
    }

    // Stable, so equal keys stay in the order given; the last of each run is kept by moving
    // it into the place of the first before the others are dropped.
    entries.sort_by(|(a, _), (b, _)| compare_keys(a, b));
    entries.dedup_by(|later, kept| {
        if later.0 != kept.0 {
            return false;
        }
        std::mem::swap(later, kept);
        true
    });
}

/// Orders two keys as `str::cmp` does, byte by byte, in line: the one order of the sorted-vector
/// maps of the model. Keys are short and most differ in their first bytes; the library
/// comparison calls `memcmp` for each pair, and in profiles of a large plan those calls were
/// about a quarter of the time spent judging it.
#[inline]
pub fn compare_keys(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

impl FromIterator<(String, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(entries: I) -> Map {
        Map::from_unsorted(entries.into_iter().collect())
    }
}

impl<const N: usize> From<[(String, Value); N]> for Map {
    fn from(entries: [(String, Value); N]) -> Map {
        entries.into_iter().collect()
    }
}

impl Extend<(String, Value)> for Map {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, more: I) {
        let mut entries = std::mem::take(&mut self.entries);
        entries.extend(more);
        *self = Map::from_unsorted(entries);
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, Value)>,
        fn(&'a (String, Value)) -> (&'a String, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(key, value)| (key, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_keys_in_order_and_the_last_of_a_repeated_key() {
        let map: Map = [
            ("b".to_string(), Value::from("first")),
            ("a".to_string(), Value::Null),
            ("b".to_string(), Value::from("last")),
        ]
        .into_iter()
        .collect();
        assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(map.get("b"), Some(&Value::from("last")));

        // Sorted but repeated, three times over: still the last.
        let repeated: Map = ["first", "second", "last"]
            .map(|text| ("k".to_string(), Value::from(text)))
            .into_iter()
            .chain([("z".to_string(), Value::Null)])
            .collect();
        assert_eq!(repeated.len(), 2);
        assert_eq!(repeated.get("k"), Some(&Value::from("last")));
    }

    #[test]
    fn keys_compare_as_strings_do() {
        let keys = [
            "", "a", "ab", "abc", "abd", "b", "B", "tags", "tags_all", "tag", "é", "e\u{301}", "z",
        ];
        for a in keys {
            for b in keys {
                assert_eq!(compare_keys(a, b), a.cmp(b), "{a:?} against {b:?}");
            }
        }
    }

    #[test]
    fn insert_and_remove_keep_the_order() {
        let mut map = Map::new();
        assert_eq!(map.insert("z".into(), Value::Null), None);
        assert_eq!(map.insert("m".into(), Value::Bool(true)), None);
        assert_eq!(
            map.insert("z".into(), Value::Bool(false)),
            Some(Value::Null)
        );
        map.get_or_insert_with("a", || Value::Unknown);
        assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "m", "z"]);
        assert_eq!(map.remove("m"), Some(Value::Bool(true)));
        assert!(!map.contains_key("m"));
        map.extend([
            ("b".to_string(), Value::Null),
            ("a".to_string(), Value::Null),
        ]);
        assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "b", "z"]);
        assert_eq!(map.get("a"), Some(&Value::Null));
    }
}
