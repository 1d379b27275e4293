//! The bus against a real nats-server (started here on 127.0.0.1 with
//! JetStream in a temp folder): raw batches published by the bounded
//! publisher land once each on the stream, in order, and a durable consumer
//! resumes after what was acknowledged; the alert bucket creates a key once.

use bus::payload::{RawBatch, RawLine};
use bus::publish::RawPublisher;
use bus::testkit::NatsServer;
use bus::{Bus, BusConfig, Role};
use futures_util::StreamExt;
use std::time::Duration;

fn cfg(url: &str, node: &str) -> BusConfig {
    BusConfig {
        url: Some(url.into()),
        role: Role::Ingest,
        node: node.into(),
        ack_wait: Duration::from_secs(2),
        ..Default::default()
    }
}

fn batch(i: usize) -> RawBatch {
    RawBatch {
        node: "ingest-a".into(),
        source: "feed one".into(),
        own_asset: None,
        live: false,
        lines: (0..10)
            .map(|j| RawLine {
                received_ms: (i * 10 + j) as i64,
                line: format!("!AIVDM,1,1,,A,line{i}-{j},0*00"),
            })
            .collect(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_consume_resume_and_dedupe() {
    let Some(server) = NatsServer::start() else {
        return;
    };
    let c = cfg(&server.url(), "a");
    let bus = Bus::connect(&c, Duration::from_secs(5)).await.unwrap();
    let stream = bus.raw_stream(&c).await.unwrap();
    let (publisher, task) = RawPublisher::start(&bus, 64, 8);
    for i in 0..50 {
        assert!(publisher.publish(batch(i)).await);
    }
    drop(publisher);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        bus.stats.to_json()["published_lines"],
        500,
        "{}",
        bus.stats.to_json()
    );
    let mut info = bus.js.get_stream(bus::subjects::RAW_STREAM).await.unwrap();
    assert_eq!(info.info().await.unwrap().state.messages, 50);
    drop(stream);

    // A durable consumer: take 20, acknowledge the 20th (ack-all), stop.
    let stream = bus.raw_stream(&c).await.unwrap();
    let consumer = bus.core_consumer(&stream, &c).await.unwrap();
    let mut msgs = consumer.messages().await.unwrap();
    for i in 0..20 {
        let m = msgs.next().await.unwrap().unwrap();
        let b: RawBatch = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(b, batch(i));
        assert_eq!(&*m.subject, "lookout.raw.feed_one");
        if i == 19 {
            m.ack().await.unwrap();
        }
    }
    drop(msgs);
    drop(consumer);
    // A restart gets every batch after the acknowledged one again (the
    // unacknowledged ones once their ack wait ran out; redelivery order is
    // not guaranteed, which is why the core rebuilds in stream order), and
    // none of the acknowledged ones.
    let consumer = bus.core_consumer(&stream, &c).await.unwrap();
    let mut msgs = consumer.messages().await.unwrap();
    let mut seqs = Vec::new();
    while seqs.len() < 30 {
        let m = tokio::time::timeout(Duration::from_secs(10), msgs.next())
            .await
            .expect("redelivery")
            .unwrap()
            .unwrap();
        let seq = m.info().unwrap().stream_sequence;
        let b: RawBatch = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(b, batch(seq as usize - 1));
        if !seqs.contains(&seq) {
            seqs.push(seq);
        }
    }
    seqs.sort();
    assert_eq!(seqs, (21..=50).collect::<Vec<u64>>());

    // Alert changes are created once across the cluster.
    let store = bus.alert_bucket().await.unwrap();
    assert!(Bus::create_once(&store, "a-000001.raised.1000")
        .await
        .unwrap());
    assert!(!Bus::create_once(&store, "a-000001.raised.1000")
        .await
        .unwrap());
    let other = Bus::connect(&cfg(&server.url(), "b"), Duration::from_secs(5))
        .await
        .unwrap();
    let store_b = other.alert_bucket().await.unwrap();
    assert!(!Bus::create_once(&store_b, "a-000001.raised.1000")
        .await
        .unwrap());
    assert!(Bus::create_once(&store_b, "a-000002.raised.1000")
        .await
        .unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_drops_and_counts() {
    // No server: the publisher cannot publish, the buffer fills, and what
    // does not fit is counted as dropped rather than blocking the caller.
    let port = bus::testkit::free_port();
    let c = cfg(&format!("nats://127.0.0.1:{port}"), "lonely");
    let err = Bus::connect(&c, Duration::from_millis(300)).await;
    assert!(err.is_err(), "no server listens there");
    let Some(server) = NatsServer::start() else {
        return;
    };
    let c = cfg(&server.url(), "a");
    let bus = Bus::connect(&c, Duration::from_secs(5)).await.unwrap();
    // No stream declared: publishes get no ack and are retried, so the
    // small buffer fills.
    let (publisher, _task) = RawPublisher::start(&bus, 4, 1);
    let mut refused = 0;
    for i in 0..100 {
        if !publisher.try_publish(batch(i)) {
            refused += 1;
        }
    }
    assert!(refused >= 90, "{refused}");
    assert_eq!(
        bus.stats.to_json()["publish_dropped_lines"],
        refused * 10,
        "each refused batch's lines are counted"
    );
}
