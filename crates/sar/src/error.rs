//! Why a SAR command was refused: a kind the API maps to an HTTP status,
//! and a sentence for the operator.

use std::fmt;

/// What kind of refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input is malformed or out of range (HTTP 400/422).
    Invalid,
    /// The thing referred to does not exist (HTTP 404).
    NotFound,
    /// The command conflicts with the current state, e.g. an invalid
    /// status transition or linking twice (HTTP 409).
    Conflict,
}

/// A refused command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SarError {
    pub kind: ErrorKind,
    pub message: String,
}

impl SarError {
    pub fn invalid(m: impl Into<String>) -> Self {
        SarError {
            kind: ErrorKind::Invalid,
            message: m.into(),
        }
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        SarError {
            kind: ErrorKind::NotFound,
            message: m.into(),
        }
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        SarError {
            kind: ErrorKind::Conflict,
            message: m.into(),
        }
    }
}

impl fmt::Display for SarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SarError {}
