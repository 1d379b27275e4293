//! Picture checkpoints of a core, in the key-value bucket
//! `lookout_checkpoints`.
//!
//! A checkpoint is opaque bytes here (the core's picture and alert rules as
//! of a raw-stream sequence, `server::snapshot`'s text). KV values are
//! limited by the server's max payload (1 MiB by default), so one is
//! written as chunks, then a manifest that names them:
//!
//! ```text
//! <node>.<seq, 20 digits>.<n>         chunk n (≤ 512 KiB), n = 0 … chunks-1
//! <node>.<seq, 20 digits>.manifest    {"seq":…,"taken_ms":…,"chunks":…,"bytes":…,"sha256":"…"}
//! ```
//!
//! The manifest is written last, so it exists only once every chunk does;
//! a reader trusts a checkpoint only when its manifest parses, every chunk
//! is there and the bytes' length and SHA-256 match — anything else (a
//! writer killed half-way, a chunk lost) is skipped for the next older
//! one. After a write the node keeps its newest [`KEEP`] checkpoints and
//! purges the older ones (manifest first, then chunks).

use crate::conn::Bus;
use crate::subjects;
use async_nats::jetstream::{kv, stream};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Largest chunk, bytes (well under NATS' default 1 MiB max payload).
pub const CHUNK_BYTES: usize = 512 * 1024;
/// Checkpoints kept per node.
pub const KEEP: usize = 2;

/// What a checkpoint's manifest says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Raw-stream sequence the checkpoint covers (everything up to it
    /// applied, nothing after).
    pub seq: u64,
    /// Wall-clock time it was taken, ms.
    pub taken_ms: i64,
    pub chunks: u32,
    pub bytes: u64,
    /// SHA-256 of the whole checkpoint, hex.
    pub sha256: String,
}

/// One node's checkpoints.
#[derive(Clone)]
pub struct Checkpoints {
    kv: kv::Store,
    node: String,
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

impl Bus {
    /// The checkpoint bucket (created if absent), for this node. Declared
    /// as a stream directly, like the alert bucket (Debian's nats-server
    /// 2.9).
    pub async fn checkpoints(&self) -> Result<Checkpoints, String> {
        let bucket = subjects::CHECKPOINT_BUCKET;
        self.js
            .get_or_create_stream(stream::Config {
                name: format!("KV_{bucket}"),
                subjects: vec![format!("$KV.{bucket}.>")],
                max_messages_per_subject: 1,
                storage: stream::StorageType::File,
                discard: stream::DiscardPolicy::New,
                allow_rollup: true,
                allow_direct: true,
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("bus: bucket {bucket}: {e}"))?;
        let kv = self
            .js
            .get_key_value(bucket)
            .await
            .map_err(|e| format!("bus: bucket {bucket}: {e}"))?;
        Ok(Checkpoints {
            kv,
            node: self.node.clone(),
        })
    }
}

impl Checkpoints {
    fn prefix(&self, seq: u64) -> String {
        format!("{}.{seq:020}", self.node)
    }

    /// This node's checkpoint sequences, newest first.
    async fn sequences(&self) -> Result<Vec<u64>, String> {
        let mut keys = self
            .kv
            .keys()
            .await
            .map_err(|e| format!("checkpoints: keys: {e}"))?;
        let head = format!("{}.", self.node);
        let mut seqs = Vec::new();
        while let Some(k) = keys.next().await {
            let k = k.map_err(|e| format!("checkpoints: keys: {e}"))?;
            if let Some(seq) = k
                .strip_prefix(&head)
                .and_then(|r| r.strip_suffix(".manifest"))
                .and_then(|s| s.parse::<u64>().ok())
            {
                seqs.push(seq);
            }
        }
        seqs.sort_unstable_by(|a, b| b.cmp(a));
        Ok(seqs)
    }

    /// Write a checkpoint covering the stream up to `seq`: its chunks,
    /// then its manifest; then forget all but the newest [`KEEP`].
    pub async fn put(&self, seq: u64, taken_ms: i64, bytes: &[u8]) -> Result<Manifest, String> {
        let prefix = self.prefix(seq);
        let chunks: Vec<&[u8]> = bytes.chunks(CHUNK_BYTES).collect();
        for (n, c) in chunks.iter().enumerate() {
            self.kv
                .put(format!("{prefix}.{n}"), bytes::Bytes::copy_from_slice(c))
                .await
                .map_err(|e| format!("checkpoint {prefix}.{n}: {e}"))?;
        }
        let m = Manifest {
            seq,
            taken_ms,
            chunks: chunks.len() as u32,
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        };
        let body = serde_json::to_vec(&m).map_err(|e| e.to_string())?;
        self.kv
            .put(format!("{prefix}.manifest"), body.into())
            .await
            .map_err(|e| format!("checkpoint {prefix}.manifest: {e}"))?;
        if let Err(e) = self.prune().await {
            tracing::warn!("{e}");
        }
        Ok(m)
    }

    /// Purge this node's checkpoints beyond the newest [`KEEP`].
    async fn prune(&self) -> Result<(), String> {
        for seq in self.sequences().await?.into_iter().skip(KEEP) {
            let prefix = self.prefix(seq);
            let chunks = match self.manifest(seq).await {
                Ok(Some(m)) => m.chunks,
                _ => 0,
            };
            self.kv
                .purge(format!("{prefix}.manifest"))
                .await
                .map_err(|e| format!("checkpoint {prefix}: purge: {e}"))?;
            for n in 0..chunks {
                let _ = self.kv.purge(format!("{prefix}.{n}")).await;
            }
        }
        Ok(())
    }

    async fn manifest(&self, seq: u64) -> Result<Option<Manifest>, String> {
        let key = format!("{}.manifest", self.prefix(seq));
        match self.kv.get(&key).await {
            Ok(Some(b)) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| format!("{key}: {e}")),
            Ok(None) => Ok(None),
            Err(e) => Err(format!("{key}: {e}")),
        }
    }

    /// The checkpoint with this manifest, when every chunk is there and
    /// the whole matches its length and hash.
    async fn read(&self, m: &Manifest) -> Result<Vec<u8>, String> {
        let prefix = self.prefix(m.seq);
        let mut out = Vec::with_capacity(m.bytes as usize);
        for n in 0..m.chunks {
            match self.kv.get(format!("{prefix}.{n}")).await {
                Ok(Some(b)) => out.extend_from_slice(&b),
                Ok(None) => return Err(format!("checkpoint {prefix}: chunk {n} missing")),
                Err(e) => return Err(format!("checkpoint {prefix}.{n}: {e}")),
            }
        }
        if out.len() as u64 != m.bytes || sha256_hex(&out) != m.sha256 {
            return Err(format!("checkpoint {prefix}: length or SHA-256 mismatch"));
        }
        Ok(out)
    }

    /// The newest valid checkpoint covering at most `max_seq`, with its
    /// manifest; invalid ones are logged and skipped.
    pub async fn newest(&self, max_seq: u64) -> Result<Option<(Manifest, Vec<u8>)>, String> {
        for seq in self.sequences().await? {
            if seq > max_seq {
                continue;
            }
            let m = match self.manifest(seq).await {
                Ok(Some(m)) if m.seq == seq => m,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!("{e}; trying an older checkpoint");
                    continue;
                }
            };
            match self.read(&m).await {
                Ok(b) => return Ok(Some((m, b))),
                Err(e) => tracing::warn!("{e}; trying an older checkpoint"),
            }
        }
        Ok(None)
    }

    /// Store a chunk or manifest value directly (tests: a damaged
    /// checkpoint).
    pub async fn put_raw(&self, key: &str, value: Vec<u8>) -> Result<(), String> {
        self.kv
            .put(key, value.into())
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// This node's checkpoint sequences, newest first (tests, tools).
    pub async fn list(&self) -> Result<Vec<u64>, String> {
        self.sequences().await
    }
}
