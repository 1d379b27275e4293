//! Checkpoints in the key-value bucket, against a real nats-server: a
//! checkpoint larger than NATS' max payload is written in chunks and read
//! back whole; the newest valid one wins, a damaged one is skipped for the
//! one before it; only the newest two are kept; nodes do not see each
//! other's.

use bus::testkit::NatsServer;
use bus::{Bus, BusConfig, Role};
use std::time::Duration;

fn cfg(url: &str, node: &str) -> BusConfig {
    BusConfig {
        url: Some(url.into()),
        role: Role::Core,
        node: node.into(),
        ..BusConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpoints_are_chunked_verified_and_bounded() {
    let Some(nats) = NatsServer::start() else {
        return;
    };
    let bus = Bus::connect(&cfg(&nats.url(), "core-a"), Duration::from_secs(10))
        .await
        .unwrap();
    let cps = bus.checkpoints().await.unwrap();
    assert_eq!(cps.newest(u64::MAX).await.unwrap(), None);
    // 2.5 MiB: five chunks, each under the 1 MiB max payload.
    let big: Vec<u8> = (0..(5 << 19)).map(|i| (i % 251) as u8).collect();
    let m = cps.put(100, 1, &big).await.unwrap();
    assert_eq!((m.seq, m.chunks, m.bytes), (100, 5, big.len() as u64));
    let (got, bytes) = cps.newest(u64::MAX).await.unwrap().unwrap();
    assert_eq!(got, m);
    assert_eq!(bytes, big);
    cps.put(200, 2, b"two").await.unwrap();
    cps.put(300, 3, b"three").await.unwrap();
    // Only the newest two are kept.
    assert_eq!(cps.list().await.unwrap(), vec![300, 200]);
    assert_eq!(cps.newest(u64::MAX).await.unwrap().unwrap().1, b"three");
    // Never one beyond what the caller asks for.
    assert_eq!(cps.newest(250).await.unwrap().unwrap().1, b"two");
    // A damaged chunk: the newest is refused, the one before it is used.
    cps.put_raw(&format!("core-a.{:020}.0", 300), b"thrEE".to_vec())
        .await
        .unwrap();
    let (m, b) = cps.newest(u64::MAX).await.unwrap().unwrap();
    assert_eq!((m.seq, b.as_slice()), (200, &b"two"[..]));
    // A manifest without its chunks (a writer killed between them is the
    // other way round, and has no manifest at all): refused.
    cps.put_raw(
        &format!("core-a.{:020}.manifest", 400),
        serde_json::to_vec(&bus::checkpoint::Manifest {
            seq: 400,
            taken_ms: 4,
            chunks: 1,
            bytes: 4,
            sha256: "00".into(),
        })
        .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(cps.newest(u64::MAX).await.unwrap().unwrap().0.seq, 200);
    // Another node has none of them.
    let other = Bus::connect(&cfg(&nats.url(), "core-b"), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(
        other
            .checkpoints()
            .await
            .unwrap()
            .newest(u64::MAX)
            .await
            .unwrap(),
        None
    );
}
