//! The rules' and the book's state as data, for a checkpoint: an engine
//! restored from [`crate::AlertEngine::save_state`] continues exactly as
//! the one that saved it (same timers, same open situations, same alerts).
//!
//! Serde helpers for the state's maps whose keys are not strings (JSON
//! objects only have string keys): they are written as lists of pairs.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A map as a list of `[key, value]` pairs.
pub(crate) mod pairs {
    use super::*;

    pub fn serialize<'a, M, K, V, S>(m: &'a M, s: S) -> Result<S::Ok, S::Error>
    where
        &'a M: IntoIterator<Item = (&'a K, &'a V)>,
        K: Serialize + 'a,
        V: Serialize + 'a,
        S: Serializer,
    {
        s.collect_seq(m)
    }

    pub fn deserialize<'de, M, K, V, D>(d: D) -> Result<M, D::Error>
    where
        M: FromIterator<(K, V)>,
        K: Deserialize<'de>,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

/// A zone kind as its word.
pub(crate) mod zone_kind {
    use super::*;
    use spatial_index::ZoneKind;

    pub fn serialize<S: Serializer>(k: &ZoneKind, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(k.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ZoneKind, D::Error> {
        let w = String::deserialize(d)?;
        ZoneKind::parse(&w).ok_or_else(|| serde::de::Error::custom(format!("zone kind {w:?}")))
    }
}
