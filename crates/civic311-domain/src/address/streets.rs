//! The street names of an address layer, indexed to find what a typed name may mean
//! without comparing it to every street: by core name (the name without its
//! direction and type, `n oak st` → `oak`), by the core's first letter for typos, and
//! in order for names typed only partway.

use std::collections::HashMap;

use super::{edits, is_direction, is_type};

/// What a street typed only partway costs in confidence.
const PARTIAL: f64 = 0.3;
/// What a left-out street type or direction costs; one typed that the street lacks
/// costs twice as much.
const LEFT_OUT: f64 = 0.05;
/// The most streets offered for a name typed partway.
const PREFIXED: usize = 30;

/// A normalised street name taken apart: direction, core, type (`n`, `oak`, `st`).
fn parts(key: &str) -> (Option<&str>, &str, Option<&str>) {
    // The type first, so that `n st` (North Street) keeps `n` as its name.
    let mut rest = key;
    let mut kind = None;
    if let Some((before, last)) = rest.rsplit_once(' ')
        && is_type(last)
    {
        kind = Some(last);
        rest = before;
    }
    let mut dir = None;
    if let Some((first, after)) = rest.split_once(' ')
        && is_direction(first)
    {
        dir = Some(first);
        rest = after;
    }
    (dir, rest, kind)
}

#[derive(Debug)]
struct Street {
    /// The normalised name (`n oak st`).
    key: String,
    dir: Option<String>,
    kind: Option<String>,
}

/// Streets by name; see the module's documentation.
#[derive(Debug, Default)]
pub(super) struct StreetIndex {
    streets: Vec<Street>,
    by_key: HashMap<String, u32>,
    /// Core names and the streets that have them.
    cores: Vec<(String, Vec<u32>)>,
    core_ids: HashMap<String, u32>,
    /// Core ids by the core's first letter.
    by_initial: HashMap<char, Vec<u32>>,
    /// Core ids in the order of their names.
    sorted: Vec<u32>,
}

impl StreetIndex {
    /// The id of the street with this normalised `key`, added if new.
    pub(super) fn insert(&mut self, key: String) -> u32 {
        if let Some(id) = self.by_key.get(&key) {
            return *id;
        }
        let id = u32::try_from(self.streets.len()).unwrap_or(u32::MAX);
        let (dir, core, kind) = parts(&key);
        let core_id = match self.core_ids.get(core) {
            Some(c) => *c,
            None => {
                let c = u32::try_from(self.cores.len()).unwrap_or(u32::MAX);
                self.cores.push((core.to_owned(), Vec::new()));
                self.core_ids.insert(core.to_owned(), c);
                if let Some(initial) = core.chars().next() {
                    self.by_initial.entry(initial).or_default().push(c);
                }
                c
            }
        };
        self.cores[core_id as usize].1.push(id);
        self.streets.push(Street { key: key.clone(), dir: dir.map(str::to_owned), kind: kind.map(str::to_owned) });
        self.by_key.insert(key, id);
        id
    }

    /// The normalised name of street `id`.
    pub(super) fn key(&self, id: u32) -> &str {
        self.streets.get(id as usize).map_or("", |s| s.key.as_str())
    }

    /// Orders the core names for lookups by prefix; call once every street is in.
    pub(super) fn finish(&mut self) {
        let mut sorted: Vec<u32> = (0..self.cores.len()).filter_map(|c| u32::try_from(c).ok()).collect();
        sorted.sort_by(|a, b| self.cores[*a as usize].0.cmp(&self.cores[*b as usize].0));
        self.sorted = sorted;
    }

    /// The core ids whose names start with `prefix` (at most [`PREFIXED`]).
    fn prefixed<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = u32> + 'a {
        let from = self.sorted.partition_point(|c| self.cores[*c as usize].0.as_str() < prefix);
        self.sorted[from..]
            .iter()
            .copied()
            .take_while(move |c| self.cores[*c as usize].0.starts_with(prefix))
            .take(PREFIXED)
    }

    /// Streets that the normalised `typed` name may mean, with what each costs in
    /// confidence (0.0: exactly this street).
    pub(super) fn like(&self, typed: &str) -> Vec<(u32, f64)> {
        if let Some(id) = self.by_key.get(typed) {
            return vec![(*id, 0.0)];
        }
        let (dir, core, kind) = parts(typed);
        let allowed = if core.len() <= 5 { 1 } else { 2 };
        // An edit in a short name changes more of it.
        let per_edit = if core.len() <= 4 { 0.12 } else { 0.08 };
        let mut cores: Vec<(u32, f64)> = Vec::new();
        // Typos: cores sharing the first letter, or the second (two letters swapped).
        let initials: Vec<char> = core.chars().take(2).collect();
        for initial in initials.iter().enumerate().filter(|(i, c)| *i == 0 || **c != initials[0]).map(|(_, c)| c) {
            for c in self.by_initial.get(initial).into_iter().flatten() {
                let name = &self.cores[*c as usize].0;
                if let Some(e) = edits(core, name, allowed) {
                    cores.push((*c, per_edit * e as f64));
                }
            }
        }
        if core.chars().count() >= 2 && kind.is_none() {
            cores.extend(self.prefixed(core).map(|c| (c, PARTIAL)));
        }
        let mut out: HashMap<u32, f64> = HashMap::new();
        for (c, cost) in cores {
            for s in &self.cores[c as usize].1 {
                let street = &self.streets[*s as usize];
                let Some(extra) = mismatch(kind, street.kind.as_deref()).zip(mismatch(dir, street.dir.as_deref()))
                else {
                    continue;
                };
                let cost = cost + extra.0 + extra.1;
                out.entry(*s).and_modify(|old| *old = old.min(cost)).or_insert(cost);
            }
        }
        out.into_iter().collect()
    }
}

/// What a typed direction or type costs against the street's: nothing when they agree,
/// a little when one was left out, `None` when they differ (another street).
fn mismatch(typed: Option<&str>, street: Option<&str>) -> Option<f64> {
    match (typed, street) {
        (Some(a), Some(b)) if a != b => None,
        (Some(_), None) => Some(2.0 * LEFT_OUT),
        (None, Some(_)) => Some(LEFT_OUT),
        _ => Some(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(keys: &[&str]) -> StreetIndex {
        let mut index = StreetIndex::default();
        for k in keys {
            index.insert((*k).to_owned());
        }
        index.finish();
        index
    }

    fn costs(index: &StreetIndex, typed: &str) -> Vec<(u32, i64)> {
        let mut found: Vec<(u32, i64)> =
            index.like(typed).into_iter().map(|(s, c)| (s, (c * 100.0).round() as i64)).collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn names_are_taken_apart_into_direction_core_and_type() {
        assert_eq!(parts("n 3rd ave"), (Some("n"), "3rd", Some("ave")));
        assert_eq!(parts("broadway"), (None, "broadway", None));
        assert_eq!(parts("n st"), (None, "n", Some("st")), "a street named North");
    }

    #[test]
    fn a_left_out_direction_or_type_costs_a_little_and_a_different_one_is_another_street() {
        let streets = index(&["n oak st", "oak ave", "elm st"]);
        assert_eq!(costs(&streets, "n oak st"), [(0, 0)]);
        assert_eq!(costs(&streets, "oak st"), [(0, 5)], "the direction left out");
        assert_eq!(costs(&streets, "oak"), [(0, 10), (1, 5)]);
        assert_eq!(costs(&streets, "s oak st"), [], "South Oak Street is another street");
        assert_eq!(costs(&streets, "oak rd"), [], "so is Oak Road");
    }

    #[test]
    fn typos_and_names_typed_partway_are_found_at_a_cost() {
        let streets = index(&["maple st", "main st", "oak ave"]);
        assert_eq!(costs(&streets, "mapel st"), [(0, 8)], "two letters swapped");
        assert_eq!(costs(&streets, "amin st"), [(1, 12)], "swapped at the start");
        assert_eq!(costs(&streets, "ma"), [(0, 35), (1, 35)], "typed partway, its type not yet");
    }
}
