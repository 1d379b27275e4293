//! Multi-sentence reassembly by the standards (IEC 61162-1 sentence order,
//! NMEA 0183 v4.10 TAG block `g:` groups), on real sentences: TAG blocks on
//! the first sentence only, stray continuations, and the real national
//! network and pyais recordings in `fixtures/ais/`.

use lookout_ais::messages::Body;
use lookout_ais::nmea::checksum;
use lookout_ais::{Decoded, Decoder, DecoderOptions, LineContext};

/// A real type 5 (from the Kystverket recording) in two sentences.
const T5_1: &str = "53ufeF826Lb9<mET001<CK;:1H4pMD58@000000N1p733t0Ht;ARDj2CQp2C";
const T5_2: &str = "`4jhAiDP@jh";
/// Another real type 5 from the same recording.
const U5_1: &str = "53m8lf`00000hS;;ST0Hu<p605@h5<000000001?0H<56t@pt6@j<McH531`";
const U5_2: &str = ">LNL=MMtP00";

fn fixture(name: &str) -> String {
    let path = format!("{}/../../fixtures/ais/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn sentence(
    talker: &str,
    count: u8,
    num: u8,
    seq: &str,
    chan: &str,
    payload: &str,
    fill: u8,
) -> String {
    let body = format!("{talker}VDM,{count},{num},{seq},{chan},{payload},{fill}");
    format!("!{body}*{:02X}", checksum(body.as_bytes()))
}

fn tagged(tag: &str, line: &str) -> String {
    format!("\\{tag}*{:02X}\\{line}", checksum(tag.as_bytes()))
}

fn decode(decoder: &mut Decoder, lines: &[String]) -> Vec<Decoded> {
    let mut out = Vec::new();
    for l in lines {
        let _ = decoder.decode_line_with(l.as_bytes(), &LineContext::default(), |d| out.push(d));
    }
    out
}

fn shipname(d: &Decoded) -> &str {
    match &d.message.body {
        Body::StaticVoyage(v) => &v.shipname,
        other => panic!("not type 5: {other:?}"),
    }
}

/// The message `p1`+`p2` decodes to on its own.
fn alone(p1: &str, p2: &str) -> Decoded {
    let mut d = Decoder::new(DecoderOptions::default());
    let out = decode(
        &mut d,
        &[
            sentence("AI", 2, 1, "4", "B", p1, 0),
            sentence("AI", 2, 2, "4", "B", p2, 2),
        ],
    );
    assert_eq!(out.len(), 1);
    out.into_iter().next().unwrap()
}

#[test]
fn tag_group_with_station_and_time_on_the_first_sentence_only() {
    let expected = alone(T5_1, T5_2);
    // The NMEA 4.10 framing from the issue, exactly: `s:` and `c:` on the
    // first sentence only, `g:` on both.
    let lines = [
        tagged(
            "g:1-2-42,s:rx1,c:1718431326",
            &sentence("AI", 2, 1, "4", "B", T5_1, 0),
        ),
        tagged("g:2-2-42", &sentence("AI", 2, 2, "4", "B", T5_2, 2)),
    ];
    assert!(lines[0].starts_with("\\g:1-2-42,s:rx1,c:1718431326*"));
    assert!(lines[1].starts_with("\\g:2-2-42*"));
    let mut d = Decoder::new(DecoderOptions::default());
    let out = decode(&mut d, &lines);
    assert_eq!(out.len(), 1, "{:?}", d.stats());
    assert_eq!(out[0].message, expected.message);
    assert_eq!(out[0].payload_hash, expected.payload_hash);
    assert_eq!(out[0].fragments, 2);
    let tag = out[0].tag.as_ref().unwrap();
    assert_eq!(tag.source.as_deref(), Some("rx1"));
    assert_eq!(tag.time, Some(1718431326));
    assert_eq!(out[0].time_ms(None), Some(1_718_431_326_000));

    // Interleaved with another station's message on the other channel with
    // the same sequence id and a group of its own, and a single-sentence
    // report in between.
    let other = alone(U5_1, U5_2);
    let lines = [
        tagged(
            "g:1-2-42,s:rx1,c:1718431326",
            &sentence("AI", 2, 1, "4", "B", T5_1, 0),
        ),
        tagged(
            "g:1-2-7,s:rx2,c:1718431327",
            &sentence("AI", 2, 1, "4", "A", U5_1, 0),
        ),
        tagged(
            "s:rx3,c:1718431327",
            "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A",
        ),
        tagged("g:2-2-7", &sentence("AI", 2, 2, "4", "A", U5_2, 2)),
        tagged("g:2-2-42", &sentence("AI", 2, 2, "4", "B", T5_2, 2)),
    ];
    let out = decode(&mut d, &lines);
    assert_eq!(out.len(), 3);
    assert_eq!(out[1].message, other.message);
    assert_eq!(out[1].tag.as_ref().unwrap().source.as_deref(), Some("rx2"));
    assert_eq!(out[2].message, expected.message);
    assert_eq!(out[2].tag.as_ref().unwrap().source.as_deref(), Some("rx1"));
    assert_eq!(
        (d.stats().orphaned_groups, d.stats().stray_fragments),
        (0, 0)
    );
}

#[test]
fn tag_block_on_the_first_sentence_only_without_a_group_on_the_rest() {
    let expected = alone(T5_1, T5_2);
    for first_tag in ["g:1-2-42,s:rx1,c:1718431326", "s:rx1,c:1718431326"] {
        let lines = [
            tagged(first_tag, &sentence("AI", 2, 1, "4", "B", T5_1, 0)),
            sentence("AI", 2, 2, "4", "B", T5_2, 2),
        ];
        let mut d = Decoder::new(DecoderOptions::default());
        let out = decode(&mut d, &lines);
        assert_eq!(out.len(), 1, "{first_tag}: {:?}", d.stats());
        assert_eq!(out[0].message, expected.message);
        assert_eq!(out[0].tag.as_ref().unwrap().source.as_deref(), Some("rx1"));
    }
}

#[test]
fn a_stray_continuation_before_a_message_with_the_same_key_is_dropped() {
    // The second sentence of some other message whose first sentence was
    // lost, then a complete message with the same talker, channel,
    // sequence id and count. The stray must not become part of it.
    let expected = alone(T5_1, T5_2);
    for tags in [
        None,
        Some(("g:2-2-99", "g:1-2-100,s:rx1,c:1718431326", "g:2-2-100")),
    ] {
        let (stray, first, second) = match tags {
            None => (
                sentence("AI", 2, 2, "4", "B", U5_2, 2),
                sentence("AI", 2, 1, "4", "B", T5_1, 0),
                sentence("AI", 2, 2, "4", "B", T5_2, 2),
            ),
            Some((s, f, c)) => (
                tagged(s, &sentence("AI", 2, 2, "4", "B", U5_2, 2)),
                tagged(f, &sentence("AI", 2, 1, "4", "B", T5_1, 0)),
                tagged(c, &sentence("AI", 2, 2, "4", "B", T5_2, 2)),
            ),
        };
        let mut d = Decoder::new(DecoderOptions::default());
        let out = decode(&mut d, &[stray, first, second]);
        assert_eq!(out.len(), 1, "{tags:?}: {:?}", d.stats());
        assert_eq!(out[0].message, expected.message);
        assert_eq!(out[0].payload_hash, expected.payload_hash);
        assert_eq!(d.stats().stray_fragments, 1);
        assert_eq!(d.stats().orphaned_groups, 0);
        assert_eq!(d.pending_groups(), 0);
    }
}

#[test]
fn pyais_group_27300_decodes_to_the_type_5_with_its_name() {
    // `\g:1-2-27300,n:636994,s:b003669710,c:1428621738*5F\!SAVDM,2,1,…`
    // then `\g:2-2-27300,n:636995*15\!SAVDM,2,2,…`: station and time on
    // the first sentence only.
    let text = fixture("pyais_sample.nmea");
    let lines: Vec<String> = text
        .lines()
        .filter(|l| l.contains("-27300,"))
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 2);
    let mut d = Decoder::new(DecoderOptions::default());
    let out = decode(&mut d, &lines);
    assert_eq!(out.len(), 1, "{:?}", d.stats());
    assert_eq!(out[0].message.msg_type, 5);
    assert_eq!(out[0].message.mmsi, 366_989_380);
    assert_eq!(shipname(&out[0]), "MARE ISLAND");
    let Body::StaticVoyage(v) = &out[0].message.body else {
        unreachable!()
    };
    assert_eq!((v.callsign.as_str(), v.imo), ("WDC2198", Some(914_466_500)));
    let tag = out[0].tag.as_ref().unwrap();
    assert_eq!(tag.source.as_deref(), Some("b003669710"));
    assert_eq!(tag.time, Some(1428621738));
    assert_eq!(tag.line_count, Some(636994));

    // And within the whole recording.
    let mut d = Decoder::new(DecoderOptions::default());
    let mut names = Vec::new();
    d.decode_buffer(text.as_bytes(), |m| {
        if m.message.mmsi == 366_989_380 && m.message.msg_type == 5 {
            names.push(shipname(&m).to_string());
        }
    });
    assert_eq!(names, ["MARE ISLAND"]);
}

#[test]
fn kystverket_every_multipart_message_decodes() {
    // A national network feed: `s:` station and `c:` time on every
    // sentence, `1G2:` groups on some, BS/B2 talkers, both channels.
    let text = fixture("kystverket_tagblocks.nmea");
    let lines: Vec<&str> = text.lines().collect();
    let firsts: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("VDM,2,1,"))
        .collect();
    assert_eq!(firsts.len(), 27);
    assert!(text.contains("1G2:") && text.contains("2G2:"));
    // Each multipart message decoded on its own …
    let mut expected = Vec::new();
    for &i in &firsts {
        let mut d = Decoder::new(DecoderOptions::default());
        let pair = [lines[i].to_string(), lines[i + 1].to_string()];
        let out = decode(&mut d, &pair);
        assert_eq!(out.len(), 1, "line {}", i + 1);
        expected.push(out.into_iter().next().unwrap());
    }
    // … comes out of the whole feed, in order, unmixed.
    let mut d = Decoder::new(DecoderOptions::default());
    let mut got = Vec::new();
    d.decode_buffer(text.as_bytes(), |m| {
        if m.fragments > 1 {
            got.push(m)
        }
    });
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g.message, e.message);
        assert_eq!(g.payload_hash, e.payload_hash);
        assert_eq!(g.tag, e.tag);
    }
    let st = d.stats();
    assert_eq!((st.orphaned_groups, st.stray_fragments), (0, 0));
    assert_eq!(d.pending_groups(), 0);
}
