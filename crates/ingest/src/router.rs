//! The step after the queue: each line to the AIS decoder or, for an own
//! asset's `$` sentences, to its GNSS tracker.
//!
//! ```text
//! QueueReceiver ─batch─▶ Recorder::record_batch   (tap: raw lines to the archive)
//!               └──────▶ Router::handle ─▶ Event::Ais        (lookout-ais Decoder)
//!                                       └─▶ Event::OwnAssetFix (GnssTracker per source)
//! ```
//!
//! One [`Router`] runs on the consumer side of the queue, so the decoder
//! stays a plain single-threaded state machine. The decoder gets each
//! line's source id and receive time ([`crate::line::Line::context`]), so
//! multi-sentence messages only combine within a feed and fragment expiry
//! follows receive time, not the wall clock. The router also completes each
//! source's status with what only decoding can tell: AIS sentences framed
//! (`messages`), decode errors by kind, own-asset fixes.

use std::collections::HashMap;
use std::sync::Arc;

use lookout_ais::{Decoded, Decoder, DecoderOptions};

use crate::gnss::{is_gnss_line, GnssTracker, OwnAssetFix};
use crate::line::{Line, SourceId};
use crate::status::{SourceErrorKind, SourceRegistry, SourceStatus};

/// A decoded AIS message with where and when it was received.
#[derive(Debug, Clone, PartialEq)]
pub struct AisEvent {
    pub source: SourceId,
    pub received_ms: i64,
    pub decoded: Decoded,
}

impl AisEvent {
    /// Message time: TAG block `c:` if present, else the receive time.
    pub fn time_ms(&self) -> i64 {
        self.decoded
            .time_ms(Some(self.received_ms))
            .unwrap_or(self.received_ms)
    }
}

/// What the pipeline gets out of a line.
// AIS messages are by far the common case and an event goes straight to the
// sink, never stored in bulk: boxing would cost an allocation per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// An AIS message.
    Ais(AisEvent),
    /// A position of one of our own assets.
    OwnAssetFix(OwnAssetFix),
}

/// Lines in, events out.
pub struct Router {
    registry: Arc<SourceRegistry>,
    decoder: Decoder,
    statuses: Vec<Arc<SourceStatus>>,
    gnss: HashMap<SourceId, GnssTracker>,
}

impl Router {
    /// A router with a fresh decoder.
    pub fn new(registry: Arc<SourceRegistry>, options: DecoderOptions) -> Self {
        Router {
            registry,
            decoder: Decoder::new(options),
            statuses: Vec::new(),
            gnss: HashMap::new(),
        }
    }

    /// The decoder (for its statistics).
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// The decoder, to change its options.
    pub fn decoder_mut(&mut self) -> &mut Decoder {
        &mut self.decoder
    }

    fn status(&mut self, id: SourceId) -> Option<Arc<SourceStatus>> {
        if id.index() >= self.statuses.len() {
            // New sources were registered: refresh the cache.
            self.statuses = self.registry.all();
        }
        self.statuses.get(id.index()).cloned()
    }

    /// Route one line; events go to `sink`.
    pub fn handle(&mut self, line: &Line, mut sink: impl FnMut(Event)) {
        let status = self.status(line.source);
        if let Some(asset) = status.as_ref().and_then(|s| s.own_asset()) {
            if is_gnss_line(&line.bytes) {
                let tracker = self
                    .gnss
                    .entry(line.source)
                    .or_insert_with(|| GnssTracker::new(asset.clone(), line.source));
                match tracker.handle(&line.bytes, line.received_ms) {
                    Ok(Some(fix)) => {
                        if let Some(s) = &status {
                            s.count_fix(line.received_ms);
                        }
                        sink(Event::OwnAssetFix(fix));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        if let Some(s) = &status {
                            s.count_error(SourceErrorKind::Gnss, e);
                        }
                    }
                }
                return;
            }
        }
        let before = self.decoder.stats().sentences;
        let ctx = line.context();
        let result = self.decoder.decode_line_with(&line.bytes, &ctx, |decoded| {
            sink(Event::Ais(AisEvent {
                source: line.source,
                received_ms: line.received_ms,
                decoded,
            }))
        });
        if let Some(s) = &status {
            s.count_messages(self.decoder.stats().sentences - before, line.received_ms);
            if let Err(e) = result {
                if let Some(kind) = e.kind() {
                    s.count_error(SourceErrorKind::Decode(kind), e);
                }
            }
        }
    }

    /// Decode a line that belongs to no registered source (a recording
    /// replayed outside a server): AIS only, the caller's context.
    pub fn handle_raw(
        &mut self,
        raw: &[u8],
        ctx: &lookout_ais::LineContext,
        sink: impl FnMut(Decoded),
    ) -> Result<(), lookout_ais::DecodeError> {
        self.decoder.decode_line_with(raw, ctx, sink)
    }

    /// Route a batch.
    pub fn handle_batch(&mut self, lines: &[Line], mut sink: impl FnMut(Event)) {
        for line in lines {
            self.handle(line, &mut sink);
        }
    }
}
