//! The address points of a gazetteer, held compactly: every id, number and unit in
//! one string, and each street name, city and postcode once. A million points take
//! some 60 MB this way instead of the 320 MB they take as [`AddressPoint`]s.

use std::collections::HashMap;

use super::AddressPoint;
use crate::geo::Point;

/// No city or postcode (an index into the names that is never used).
const NONE: u32 = u32::MAX;

/// One point: where its texts are, and the indexes of its names.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Where its id starts in [`Points::text`]; its number and unit follow.
    at: u32,
    id: u16,
    number: u16,
    unit: u16,
    street: u32,
    city: u32,
    postcode: u32,
    point: Point,
}

/// The points, in the order they were added.
#[derive(Debug, Default)]
pub(super) struct Points {
    text: String,
    entries: Vec<Entry>,
    /// Street names, cities and postcodes as written, each once.
    names: Vec<Box<str>>,
    /// Each name's index in `names`, while points are added.
    name_ids: HashMap<Box<str>, u32>,
}

/// A point, borrowed from [`Points`].
#[derive(Debug, Clone, Copy)]
pub(super) struct PointRef<'a> {
    pub id: &'a str,
    pub number: &'a str,
    pub street: &'a str,
    pub unit: Option<&'a str>,
    pub city: Option<&'a str>,
    pub postcode: Option<&'a str>,
    pub point: Point,
}

impl PointRef<'_> {
    /// How a person reads the address (see [`AddressPoint::label`]).
    pub fn label(&self) -> String {
        super::label(self.number, self.street, self.unit)
    }

    /// The point as an [`AddressPoint`] of its own.
    pub fn to_point(self) -> AddressPoint {
        AddressPoint {
            id: self.id.to_owned(),
            number: self.number.to_owned(),
            street: self.street.to_owned(),
            unit: self.unit.map(str::to_owned),
            city: self.city.map(str::to_owned),
            postcode: self.postcode.map(str::to_owned),
            point: self.point,
        }
    }
}

impl Points {
    /// Adds `p`; its index and the index of its street's name, or `None` when its texts
    /// are too long to hold (ids, numbers and units are checked to be short at import)
    /// or the layer too large.
    pub fn push(&mut self, p: &AddressPoint) -> Option<(u32, u32)> {
        let index = u32::try_from(self.entries.len()).ok()?;
        let unit = p.unit.as_deref().unwrap_or("");
        let at = u32::try_from(self.text.len()).ok()?;
        let len = |s: &str| u16::try_from(s.len()).ok();
        let (id, number, unit_len) = (len(&p.id)?, len(&p.number)?, len(unit)?);
        u32::try_from(self.text.len() + p.id.len() + p.number.len() + unit.len()).ok()?;
        let street = self.name(&p.street);
        let city = p.city.as_deref().map_or(NONE, |c| self.name(c));
        let postcode = p.postcode.as_deref().map_or(NONE, |c| self.name(c));
        self.text.push_str(&p.id);
        self.text.push_str(&p.number);
        self.text.push_str(unit);
        self.entries.push(Entry { at, id, number, unit: unit_len, street, city, postcode, point: p.point });
        Some((index, street))
    }

    /// The index of `name` among the names, added if new.
    fn name(&mut self, name: &str) -> u32 {
        if let Some(i) = self.name_ids.get(name) {
            return *i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(NONE);
        self.names.push(name.into());
        self.name_ids.insert(name.into(), i);
        i
    }

    /// The name at `i` (a street's as written, a city, a postcode).
    pub fn name_at(&self, i: u32) -> &str {
        self.names.get(i as usize).map_or("", |n| n)
    }

    /// Lets go of what only adding needed, and of spare capacity.
    pub fn finish(&mut self) {
        self.name_ids = HashMap::new();
        self.text.shrink_to_fit();
        self.entries.shrink_to_fit();
        self.names.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Each point's position, in order.
    pub fn positions(&self) -> impl Iterator<Item = Point> + '_ {
        self.entries.iter().map(|e| e.point)
    }

    /// The point at `i`; `None` past the end.
    pub fn get(&self, i: u32) -> Option<PointRef<'_>> {
        let e = self.entries.get(i as usize)?;
        let text = |from: usize, len: u16| self.text.get(from..from + usize::from(len)).unwrap_or("");
        let at = e.at as usize;
        let unit = text(at + usize::from(e.id) + usize::from(e.number), e.unit);
        let name = |i: u32| (i != NONE).then(|| self.name_at(i));
        Some(PointRef {
            id: text(at, e.id),
            number: text(at + usize::from(e.id), e.number),
            street: self.name_at(e.street),
            unit: (!unit.is_empty()).then_some(unit),
            city: name(e.city),
            postcode: name(e.postcode),
            point: e.point,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_come_back_as_they_went_in() {
        let mut points = Points::default();
        let first = AddressPoint {
            id: "a-1".into(),
            number: "120A".into(),
            street: "North Oak Street".into(),
            unit: Some("4".into()),
            city: Some("Riverton".into()),
            postcode: None,
            point: Point::new(40.1, -104.6).expect("point"),
        };
        let second = AddressPoint { id: "Ü-2".into(), unit: None, postcode: Some("80601".into()), ..first.clone() };
        assert_eq!(points.push(&first), Some((0, 0)));
        assert_eq!(points.push(&second), Some((1, 0)), "the same street's name is held once");
        points.finish();
        assert_eq!(points.get(0).map(PointRef::to_point), Some(first));
        assert_eq!(points.get(1).map(PointRef::to_point), Some(second));
        assert!(points.get(2).is_none());
        let long =
            AddressPoint { id: "x".repeat(70_000), ..AddressPoint::clone(&points.get(0).expect("one").to_point()) };
        assert_eq!(points.push(&long), None);
        assert_eq!(points.len(), 2);
    }
}
