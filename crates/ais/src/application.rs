//! Decoders for application-specific payloads of binary messages (types 6,
//! 8, 25, 26), selected by designated area code (DAC) and function id (FI).
//! Payloads Lookout does not know are kept as raw bits by the caller.

use crate::bits::BitBuf;

/// A decoded application payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Application {}

/// Decode the payload at `start` (length `nbits`) of a message of type
/// `msg_type` if its DAC/FI is known.
pub fn decode(
    _msg_type: u8,
    _dac: u16,
    _fid: u8,
    _b: &BitBuf,
    _start: usize,
    _nbits: usize,
) -> Option<Application> {
    None
}

/// Write the decoded application fields into a gpsd-style JSON object.
pub fn write_json(_w: &mut crate::json::ObjectWriter<'_>, app: &Application) {
    match *app {}
}
