//! Cursor-on-Target on the wire, one behaviour in one place for both CoT
//! producers: the alert sink (`alert-sinks`, alerts) and the picture
//! output (`outputs`, vessel tracks and SAR markers).
//!
//! * [`xml`]: text escaping (and the characters XML 1.0 forbids dropped),
//!   CoT times, the "unknown" error value.
//! * [`conn`]: one connection to a TAK server, plain TCP or TLS with a
//!   client certificate (rustls, ring), with a reader task that notices
//!   at once when the server closes it; [`Backoff`] for reconnecting.

pub mod conn;
pub mod xml;

pub use conn::{Backoff, Conn, TlsFiles, TlsSettings};
pub use xml::{esc, time, UNKNOWN_ERROR};
