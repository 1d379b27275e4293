//! TCP listener and UDP sources over real sockets on 127.0.0.1: several
//! senders, many sentences per datagram, hostile input, slow and bursty
//! senders.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use ingest::router::{Event, Router};
use ingest::status::{SourceErrorKind, SourceState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

#[tokio::test]
async fn tcp_listener_serves_several_senders_at_once() {
    let mut h = Harness::new(100_000);
    let src = h
        .start(Harness::from_json(
            r#"{"type":"tcp_listener","name":"receivers","address":"127.0.0.1:0"}"#,
        ))
        .await;
    let addr = src.local_addr.unwrap();
    assert_eq!(src.status.local_addr(), Some(addr));
    assert_eq!(src.status.state(), SourceState::Listening);

    // Five receivers, each writing 200 lines in odd-sized pieces that cut
    // lines in the middle, all connected at the same time.
    let mut conns = Vec::new();
    for _ in 0..5 {
        conns.push(TcpStream::connect(addr).await.unwrap());
    }
    wait_until("five connections", || src.status.connections() == 5).await;
    let mut writers = Vec::new();
    for (k, mut c) in conns.into_iter().enumerate() {
        writers.push(tokio::spawn(async move {
            let mut text = String::new();
            for i in 0..200 {
                text.push_str(&numbered_sentence(k * 1000 + i));
                text.push_str("\r\n");
            }
            for piece in text.as_bytes().chunks(37 + k) {
                c.write_all(piece).await.unwrap();
            }
            c
        }));
    }
    let mut open = Vec::new();
    for w in writers {
        open.push(w.await.unwrap());
    }
    let lines = h.collect(1000).await;
    // Per sender, lines arrive whole and in order.
    let mut by_sender: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let index: BTreeMap<String, usize> = (0..5)
        .flat_map(|k| (0..200).map(move |i| (numbered_sentence(k * 1000 + i), k * 1000 + i)))
        .collect();
    for t in texts(&lines) {
        let n = *index
            .get(&t)
            .unwrap_or_else(|| panic!("mangled line {t:?}"));
        by_sender.entry(n / 1000).or_default().push(t);
    }
    for k in 0..5 {
        let want: Vec<String> = (0..200).map(|i| numbered_sentence(k * 1000 + i)).collect();
        assert_eq!(by_sender[&k], want, "sender {k}");
    }
    assert_eq!(src.status.lines(), 1000);
    assert_eq!(src.status.total_errors(), 0);
    drop(open);
    wait_until("all closed", || src.status.connections() == 0).await;
    h.trigger.trigger();
    within("stop", src.task).await.unwrap();
    assert_eq!(src.status.state(), SourceState::Stopped);
}

#[tokio::test]
async fn tcp_listener_refuses_connections_over_its_limit() {
    let h = Harness::new(100);
    let src = h
        .start(Harness::from_json(
            r#"{"type":"tcp_listener","name":"limited","address":"127.0.0.1:0","max_connections":2}"#,
        ))
        .await;
    let addr = src.local_addr.unwrap();
    let a = TcpStream::connect(addr).await.unwrap();
    let b = TcpStream::connect(addr).await.unwrap();
    wait_until("two connections", || src.status.connections() == 2).await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    // The third is closed by the server: reading gives EOF (or a reset).
    let mut buf = [0u8; 1];
    let r = within("third closed", c.read(&mut buf)).await;
    assert!(matches!(r, Ok(0) | Err(_)));
    assert_eq!(src.status.errors(SourceErrorKind::ConnectionLimit), 1);
    assert_eq!(src.status.connections(), 2);
    drop((a, b));
    wait_until("slots free", || src.status.connections() == 0).await;
    let _d = TcpStream::connect(addr).await.unwrap();
    wait_until("accepted again", || src.status.connections() == 1).await;
    h.trigger.trigger();
    within("stop", src.task).await.unwrap();
}

#[tokio::test]
async fn udp_takes_one_or_many_sentences_per_datagram() {
    let mut h = Harness::new(10_000);
    let src = h
        .start(Harness::from_json(
            r#"{"type":"udp","name":"udp-many","address":"127.0.0.1:0"}"#,
        ))
        .await;
    let addr = src.local_addr.unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // 20 datagrams of 10 lines (mixed terminators, last one unterminated),
    // then 5 datagrams of a single line without terminator. Sent one at a
    // time, each after the previous one was counted, so the kernel's
    // socket buffer never overflows.
    let mut want = Vec::new();
    let mut n = 0;
    for d in 0..20 {
        let mut dg = String::new();
        for i in 0..10 {
            dg.push_str(&numbered_sentence(n));
            want.push(numbered_sentence(n));
            n += 1;
            if i < 9 {
                dg.push_str(if i % 2 == 0 { "\r\n" } else { "\n" });
            }
        }
        tx.send_to(dg.as_bytes(), addr).await.unwrap();
        wait_until("datagram counted", || src.status.lines() == (d + 1) * 10).await;
    }
    for _ in 0..5 {
        tx.send_to(numbered_sentence(n).as_bytes(), addr)
            .await
            .unwrap();
        want.push(numbered_sentence(n));
        n += 1;
        wait_until("datagram counted", || src.status.lines() as usize == n).await;
    }
    let got = h.collect(want.len()).await;
    assert_eq!(texts(&got), want);
    assert_eq!(src.status.total_errors(), 0);
    // A line never continues into the next datagram.
    tx.send_to(b"!AIVDM,1,1,,A,15RTgt0P", addr).await.unwrap();
    tx.send_to(b"Aso;90TKcjM8h6g208CQ,0*4A", addr)
        .await
        .unwrap();
    let got = h.collect(2).await;
    assert_eq!(
        texts(&got),
        vec!["!AIVDM,1,1,,A,15RTgt0P", "Aso;90TKcjM8h6g208CQ,0*4A"]
    );
    h.trigger.trigger();
    within("stop", src.task).await.unwrap();
}

#[test]
fn udp_binds_loopback_port_10110_by_default() {
    let c: ingest::SourceConfig = Harness::from_json(r#"{"type":"udp","name":"u"}"#);
    match c {
        ingest::SourceConfig::Udp(u) => assert_eq!(u.address, "127.0.0.1:10110"),
        other => panic!("{other:?}"),
    }
}

/// Binary garbage, overlong lines, broken sentences and good lines mixed:
/// everything bad is counted, nothing crashes, good lines still pass.
#[tokio::test]
async fn a_malformed_flood_is_counted_and_good_lines_still_pass() {
    let mut h = Harness::new(100_000);
    let tcp = h
        .start(Harness::from_json(
            r#"{"type":"tcp_listener","name":"flood-tcp","address":"127.0.0.1:0"}"#,
        ))
        .await;
    let udp = h
        .start(Harness::from_json(
            r#"{"type":"udp","name":"flood-udp","address":"127.0.0.1:0"}"#,
        ))
        .await;
    let mut rng = 0x9e37_79b9_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut garbage = vec![0u8; 64 * 1024];
    for b in garbage.iter_mut() {
        // Binary bytes, but never a newline: one huge overlong binary line.
        *b = (next() % 256) as u8;
        if *b == b'\n' || *b == b'\r' {
            *b = 0;
        }
    }
    let mut stream = TcpStream::connect(tcp.local_addr.unwrap()).await.unwrap();
    let mut good = Vec::new();
    let mut expect_too_long = 0u64;
    let mut expect_not_text = 0u64;
    for round in 0..20 {
        // Good line.
        let ok = numbered_sentence(round);
        stream
            .write_all(format!("{ok}\n").as_bytes())
            .await
            .unwrap();
        good.push(ok);
        // 64 KiB without a newline: one overlong line.
        stream.write_all(&garbage).await.unwrap();
        stream.write_all(b"\n").await.unwrap();
        expect_too_long += 1;
        // A short binary line.
        stream
            .write_all(b"\x00\x01\x02\xff\xfe!AIVDM\n")
            .await
            .unwrap();
        expect_not_text += 1;
        // Broken sentences: bad checksum, truncated, junk text.
        stream
            .write_all(b"!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*00\n!AIVDM,1,1,,A,15RT\nhello world\n")
            .await
            .unwrap();
    }
    // The final good line proves the stream is still in sync.
    let last = numbered_sentence(999);
    stream
        .write_all(format!("{last}\n").as_bytes())
        .await
        .unwrap();
    good.push(last);
    // UDP: datagrams of garbage, an overlong datagram, then a good one.
    let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let udp_addr = udp.local_addr.unwrap();
    for k in 0..10 {
        tx.send_to(&garbage[k * 100..k * 100 + 100], udp_addr)
            .await
            .unwrap();
        wait_until("udp datagram seen", || {
            udp.status.bytes() as usize == (k + 1) * 100
        })
        .await;
    }
    tx.send_to(&[b'A'; 5000], udp_addr).await.unwrap();
    let udp_good = numbered_sentence(5000);
    tx.send_to(udp_good.as_bytes(), udp_addr).await.unwrap();

    // Run the lines through the router as the pipeline would.
    let want_lines = 20 * 4 + 1 + 1; // good + 3 broken per round, the last good, the udp good
    let lines = h.collect(want_lines).await;
    let mut router = Router::new(h.registry.clone(), Default::default());
    let mut decoded = Vec::new();
    router.handle_batch(&lines, |e| {
        if let Event::Ais(m) = e {
            decoded.push(m);
        }
    });
    let all = texts(&lines);
    for g in good.iter().chain([&udp_good]) {
        assert!(all.contains(g), "good line {g} lost");
    }
    assert_eq!(decoded.len(), good.len() + 1, "every good sentence decodes");

    let s = &tcp.status;
    assert_eq!(s.errors(SourceErrorKind::LineTooLong), expect_too_long);
    assert_eq!(s.errors(SourceErrorKind::NotText), expect_not_text);
    assert_eq!(
        s.errors(SourceErrorKind::Decode(lookout_ais::ErrorKind::BadChecksum)),
        20
    );
    assert!(
        s.errors(SourceErrorKind::Decode(
            lookout_ais::ErrorKind::MissingFields
        )) >= 20
    );
    assert_eq!(s.messages(), 21, "AIS sentences that framed: the good ones");
    let u = &udp.status;
    assert!(u.errors(SourceErrorKind::NotText) >= 1);
    assert_eq!(u.errors(SourceErrorKind::LineTooLong), 1);
    assert_eq!(u.lines(), 1);
    h.trigger.trigger();
    within("stop tcp", tcp.task).await.unwrap();
    within("stop udp", udp.task).await.unwrap();
}

#[tokio::test]
async fn slow_and_bursty_senders_lose_nothing() {
    let mut h = Harness::new(100_000);
    let src = h
        .start(Harness::from_json(
            r#"{"type":"tcp_listener","name":"paced","address":"127.0.0.1:0"}"#,
        ))
        .await;
    let addr = src.local_addr.unwrap();

    // Slow: a byte at a time with pauses, each piece acknowledged by the
    // byte counter before the next (so it really arrives in pieces).
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.set_nodelay(true).unwrap();
    let text = format!("{}\r\n{}\n", numbered_sentence(1), numbered_sentence(2));
    let before = src.status.bytes();
    for (i, b) in text.bytes().enumerate() {
        slow.write_all(&[b]).await.unwrap();
        wait_until("byte arrived", || {
            src.status.bytes() == before + i as u64 + 1
        })
        .await;
        if i % 16 == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let got = h.collect(2).await;
    assert_eq!(
        texts(&got),
        vec![numbered_sentence(1), numbered_sentence(2)]
    );

    // Bursty: silence, then 20 000 lines in one write, three times.
    let mut bursty = TcpStream::connect(addr).await.unwrap();
    let mut want = Vec::new();
    for burst in 0..3 {
        let mut text = String::new();
        for i in 0..20_000 {
            let s = numbered_sentence(10_000 + burst * 20_000 + i);
            text.push_str(&s);
            text.push('\n');
            want.push(s);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        bursty.write_all(text.as_bytes()).await.unwrap();
    }
    let got = h.collect(want.len()).await;
    assert_eq!(texts(&got), want);
    assert_eq!(src.status.dropped(), 0);
    assert_eq!(src.status.total_errors(), 0);
    h.trigger.trigger();
    within("stop", src.task).await.unwrap();
}

#[tokio::test]
async fn binding_a_port_in_use_is_a_startup_error() {
    let h = Harness::new(10);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let cfg = Harness::from_json(&format!(
        r#"{{"type":"tcp_listener","name":"clash","address":"{}"}}"#,
        taken.local_addr().unwrap()
    ));
    let err = ingest::source::start_source(
        &cfg,
        &h.registry,
        h.queue.as_ref().unwrap(),
        h.clock.clone(),
        h.shutdown.clone(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("cannot bind"), "{err}");
    assert!(h.registry.find("clash").is_none());
}

#[tokio::test]
async fn duplicate_source_names_are_refused() {
    let h = Harness::new(10);
    let _a = h
        .start(Harness::from_json(
            r#"{"type":"udp","name":"same","address":"127.0.0.1:0"}"#,
        ))
        .await;
    let err = ingest::source::start_source(
        &Harness::from_json(r#"{"type":"udp","name":"same","address":"127.0.0.1:0"}"#),
        &h.registry,
        h.queue.as_ref().unwrap(),
        h.clock.clone(),
        h.shutdown.clone(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("two sources"), "{err}");
}
