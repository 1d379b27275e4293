//! The vessel table: records in a slab, found by MMSI.
//!
//! Records live in a `Vec` of slots so that the R-trees, zone member sets
//! and the staleness queue can refer to them by a 32-bit slot number; a
//! map takes an MMSI to its slot. A removed record's slot is reused, and
//! its generation counter bumped, so a stale reference (say, an old
//! staleness-queue entry) can tell that the slot now holds someone else.
//!
//! ```
//! use spatial_index::table::VesselTable;
//! use spatial_index::vessel::Vessel;
//! let mut t = VesselTable::default();
//! let s = t.insert(Vessel::new(247_123_456, 0));
//! assert_eq!(t.get(247_123_456).unwrap().mmsi, 247_123_456);
//! let g = t.generation(s);
//! t.remove(s);
//! assert!(t.get(247_123_456).is_none());
//! assert_ne!(t.generation(s), g);
//! ```

use crate::hash::FastMap;
use crate::vessel::Vessel;

/// Records by slot and by MMSI.
#[derive(Debug, Clone, Default)]
pub struct VesselTable {
    slots: Vec<Option<Vessel>>,
    generations: Vec<u32>,
    free: Vec<u32>,
    by_mmsi: FastMap<u32, u32>,
}

impl VesselTable {
    /// The record of an MMSI.
    #[inline]
    pub fn get(&self, mmsi: u32) -> Option<&Vessel> {
        self.slot_of(mmsi).and_then(|s| self.by_slot(s))
    }

    /// The slot of an MMSI.
    #[inline]
    pub fn slot_of(&self, mmsi: u32) -> Option<u32> {
        self.by_mmsi.get(&mmsi).copied()
    }

    /// The record in a slot.
    #[inline]
    pub fn by_slot(&self, slot: u32) -> Option<&Vessel> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    /// The record in a slot, mutable.
    #[inline]
    pub fn by_slot_mut(&mut self, slot: u32) -> Option<&mut Vessel> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    /// Generation of a slot: changes every time its record is removed.
    #[inline]
    pub fn generation(&self, slot: u32) -> u32 {
        self.generations.get(slot as usize).copied().unwrap_or(0)
    }

    /// Add a record whose MMSI is not in the table; returns its slot. A
    /// record already present under the MMSI is replaced.
    pub fn insert(&mut self, v: Vessel) -> u32 {
        if let Some(s) = self.slot_of(v.mmsi) {
            self.slots[s as usize] = Some(v);
            return s;
        }
        let mmsi = v.mmsi;
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(v);
                s
            }
            None => {
                self.slots.push(Some(v));
                self.generations.push(0);
                (self.slots.len() - 1) as u32
            }
        };
        self.by_mmsi.insert(mmsi, slot);
        slot
    }

    /// Remove the record in a slot.
    pub fn remove(&mut self, slot: u32) -> Option<Vessel> {
        let v = self.slots.get_mut(slot as usize)?.take()?;
        self.by_mmsi.remove(&v.mmsi);
        self.generations[slot as usize] = self.generations[slot as usize].wrapping_add(1);
        self.free.push(slot);
        Some(v)
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.by_mmsi.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.by_mmsi.is_empty()
    }

    /// Every record with its slot, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Vessel)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(s, v)| v.as_ref().map(|v| (s as u32, v)))
    }

    /// Every record, mutable, with its slot.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (u32, &mut Vessel)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(s, v)| v.as_mut().map(|v| (s as u32, v)))
    }
}
