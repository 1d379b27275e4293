//! The bounded queue under overload, with real sources: drop policies count
//! what they drop, `block` pushes back on the reader and loses nothing.

mod common;

use std::io::Write;

use common::*;
use ingest::queue::Overload;
use ingest::status::{SourceErrorKind, SourceState};
use tokio::net::UdpSocket;

#[tokio::test]
async fn drop_policies_count_every_line_dropped_when_the_pipeline_stalls() {
    // The consumer does not read: a queue of 50 lines fills up.
    let mut h = Harness::new(50);
    let oldest = h
        .start(Harness::from_json(
            r#"{"type":"udp","name":"live-oldest","address":"127.0.0.1:0"}"#,
        ))
        .await;
    let newest = h
        .start(Harness::from_json(
            r#"{"type":"udp","name":"live-newest","address":"127.0.0.1:0","overload":"drop_newest"}"#,
        ))
        .await;
    assert_eq!(oldest.status.overload(), Overload::DropOldest);
    assert_eq!(newest.status.overload(), Overload::DropNewest);
    let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();

    // 40 lines to drop_newest: all fit.
    for i in 0..40 {
        tx.send_to(numbered_sentence(i).as_bytes(), newest.local_addr.unwrap())
            .await
            .unwrap();
        wait_until("counted", || newest.status.lines() == i as u64 + 1).await;
    }
    // 30 more to drop_newest: 10 fit, 20 are dropped (the new ones).
    for i in 40..70 {
        tx.send_to(numbered_sentence(i).as_bytes(), newest.local_addr.unwrap())
            .await
            .unwrap();
        wait_until("counted", || newest.status.lines() == i as u64 + 1).await;
    }
    assert_eq!(newest.status.dropped(), 20);
    assert_eq!(h.rx.stats().depth, 50);
    // 30 lines to drop_oldest: each evicts the oldest queued line, which
    // belongs to live-newest.
    for i in 0..30 {
        tx.send_to(
            numbered_sentence(100 + i).as_bytes(),
            oldest.local_addr.unwrap(),
        )
        .await
        .unwrap();
        wait_until("counted", || oldest.status.lines() == i as u64 + 1).await;
    }
    let stats = h.rx.stats();
    assert_eq!(stats.depth, 50);
    assert_eq!(stats.capacity, 50);
    assert_eq!(stats.max_depth, 50);
    assert_eq!(stats.dropped, 20 + 30);
    assert_eq!(
        newest.status.dropped(),
        20 + 30,
        "evicted lines count on their own source"
    );
    assert_eq!(oldest.status.dropped(), 0);
    // The queue holds the 20 newest lines of live-newest that survived
    // (30..50 of the first 50 accepted) and all 30 of live-oldest, in order.
    let got = h.collect(50).await;
    let want: Vec<String> = (30..50)
        .map(numbered_sentence)
        .chain((100..130).map(numbered_sentence))
        .collect();
    assert_eq!(texts(&got), want);
    // Counters balance: every line received is delivered or dropped.
    let received = newest.status.lines() + oldest.status.lines();
    assert_eq!(received, h.rx.stats().dequeued + h.rx.stats().dropped);
    // And the snapshot shows it for the status page.
    let snap = h.registry.snapshot();
    assert_eq!(snap[1].dropped, 50);
    assert_eq!(snap[1].overload, Overload::DropNewest);
    h.trigger.trigger();
}

#[tokio::test]
async fn block_pushes_back_on_a_file_reader_and_loses_nothing() {
    let dir = tempdir("block");
    let path = dir.join("big.nmea");
    let mut f = std::fs::File::create(&path).unwrap();
    let want: Vec<String> = (0..20_000).map(numbered_sentence).collect();
    for s in &want {
        writeln!(f, "{s}").unwrap();
    }
    drop(f);
    let mut h = Harness::new(100);
    let src = h
        .start(Harness::from_json(&format!(
            r#"{{"type":"file","name":"big","path":{:?}}}"#,
            path.to_str().unwrap()
        )))
        .await;
    // The queue fills and the reader waits: a blocked sender, no drops.
    wait_until("the reader is blocked", || {
        h.rx.stats().blocked_senders == 1
    })
    .await;
    assert_eq!(h.rx.stats().depth, 100);
    assert_eq!(src.status.state(), SourceState::Reading);
    let got = h.collect_all().await;
    assert_eq!(texts(&got), want);
    assert_eq!(h.rx.stats().dropped, 0);
    assert_eq!(src.status.dropped(), 0);
    assert_eq!(src.status.state(), SourceState::Finished);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_reader_keeps_up_with_a_burst_and_counts_what_the_kernel_drops() {
    // Bursts of 1,000 one-sentence datagrams, sent as fast as the socket
    // takes them, with a consumer reading: the dedicated reader thread and
    // the 4 MiB default receive buffer take them all. (Sustained rates are
    // the benchmark's business: scripts/bench-ingest.sh.)
    let mut h = Harness::new(65_536);
    let src = h
        .start(Harness::from_json(
            r#"{"type":"udp","name":"burst","address":"127.0.0.1:0"}"#,
        ))
        .await;
    let to = src.local_addr.unwrap();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let want: Vec<String> = (0..20_000).map(numbered_sentence).collect();
    let mut got = Vec::new();
    for burst in want.chunks(1_000) {
        for s in burst {
            tx.send_to(s.as_bytes(), to).unwrap();
        }
        got.extend(within("a burst", h.collect(burst.len())).await);
    }
    assert_eq!(texts(&got), want, "every line, in order");
    assert_eq!(src.status.errors(SourceErrorKind::KernelDrop), 0);

    // Now a reader that cannot keep up: `block` policy on a 10-line queue
    // nobody reads, and a tiny receive buffer. The kernel drops datagrams;
    // once the consumer reads again, the loss shows in the status.
    let mut h = Harness::new(10);
    let src = h
        .start(Harness::from_json(
            r#"{"type":"udp","name":"tiny","address":"127.0.0.1:0","overload":"block","recv_buffer_bytes":4096}"#,
        ))
        .await;
    let to = src.local_addr.unwrap();
    for s in &want[..2_000] {
        tx.send_to(s.as_bytes(), to).unwrap();
    }
    let mut got = Vec::new();
    let total = |got: &Vec<ingest::line::Line>| {
        got.len() as u64 + src.status.errors(SourceErrorKind::KernelDrop)
    };
    within("every datagram accounted for", async {
        while total(&got) < 2_000 {
            let mut batch = Vec::new();
            if let Ok(n) = tokio::time::timeout(
                std::time::Duration::from_millis(200),
                h.rx.recv_batch(&mut batch, 1024),
            )
            .await
            {
                assert!(n > 0);
                got.extend(batch);
            }
        }
    })
    .await;
    assert_eq!(total(&got), 2_000, "received + kernel drops = sent");
    assert!(src.status.errors(SourceErrorKind::KernelDrop) > 0);
    assert_eq!(src.status.lines(), got.len() as u64);
    let snap = h.registry.snapshot();
    assert!(snap[0].errors.iter().any(|(k, _)| *k == "kernel_drop"));
}
