//! The one place that decides how `/metrics` is written: OpenMetrics 1.0
//! text or the classic Prometheus text format 0.0.4, chosen from the
//! scraper's `Accept` header.
//!
//! Every metric is registered once, in a prometheus-client [`Registry`];
//! only the encoding differs:
//!
//! * **OpenMetrics** (`application/openmetrics-text; version=1.0.0`), when
//!   the client prefers `application/openmetrics-text` (any `version`, with
//!   its q-value at least that of anything else we could answer — the
//!   header Prometheus itself sends): prometheus-client's OpenMetrics
//!   encoder, counter families named without `_total`, `# UNIT` lines,
//!   `info` families, ending `# EOF`.
//! * **Classic** (`text/plain; version=0.0.4`), for everything else (no
//!   `Accept`, `*/*`, `text/plain`, a browser, an OpenMetrics q-value below
//!   the others): prometheus-client's encoder of the classic format, which
//!   names each family after its samples — a counter's `# HELP`/`# TYPE`
//!   carry its `_total` name, so the classic parsers and `promtool check
//!   metrics` keep its help text — writes an `info` family as a gauge
//!   `<name>_info` whose sample is 1, `unknown` as `untyped`, and drops
//!   what the format has no room for (`# UNIT`, exemplars, `# EOF`; no
//!   `_created` samples are produced). Label values keep their escapes
//!   (`\\`, `\"`, `\n`). prometheus-client has no stateset, gauge
//!   histogram or summary types, so none can reach either encoder.
//!
//! Writing the classic format from the same registry, rather than
//! rewriting OpenMetrics text after the fact, means the two expositions
//! carry the same samples by construction; `tests/metrics_serve.rs` checks
//! that with both of the Prometheus project's Python parsers.

use prometheus_client::registry::Registry;

/// `Content-Type` of the OpenMetrics answer.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `Content-Type` of the classic answer.
pub const CLASSIC_CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// An exposition format `/metrics` can answer in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0 text.
    OpenMetrics,
    /// Prometheus text format 0.0.4.
    Classic,
}

/// How well one media range of an `Accept` header matches a format:
/// `(q, specificity)`, specificity 2 for the exact type, 1 for `type/*`,
/// 0 for `*/*`.
type Match = (f32, u8);

impl Format {
    /// The format to answer a request whose `Accept` header is `accept`
    /// (`None`: no header, or not text).
    ///
    /// OpenMetrics when some `application/openmetrics-text` range has a
    /// q-value above 0 and at least as high as the best range the classic
    /// format matches (`text/plain`, `text/*`, `*/*`); on equal q-values
    /// the more specific range wins, then the one listed first. Classic in
    /// every other case: a scraper that names neither still gets an answer
    /// it can read.
    pub fn from_accept(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Classic;
        };
        // (q, specificity, -position) of the best range for each format.
        let mut best_om: Option<(f32, u8, i64)> = None;
        let mut best_classic: Option<(f32, u8, i64)> = None;
        for (pos, range) in accept.split(',').enumerate() {
            let Some((om, classic)) = Self::range_matches(range) else {
                continue;
            };
            let key = |m: Match| (m.0, m.1, -(pos as i64));
            let better = |cur: Option<(f32, u8, i64)>, new: (f32, u8, i64)| match cur {
                Some(c) if c >= new => Some(c),
                _ => Some(new),
            };
            if let Some(m) = om {
                best_om = better(best_om, key(m));
            }
            if let Some(m) = classic {
                best_classic = better(best_classic, key(m));
            }
        }
        match (best_om, best_classic) {
            (Some(om), _) if om.0 <= 0.0 => Format::Classic,
            (Some(om), Some(c)) if c > om => Format::Classic,
            (Some(_), _) => Format::OpenMetrics,
            (None, _) => Format::Classic,
        }
    }

    /// One media range: how it matches OpenMetrics and the classic format,
    /// `None` when it cannot be read.
    fn range_matches(range: &str) -> Option<(Option<Match>, Option<Match>)> {
        let mut parts = range.split(';');
        let media = parts.next()?.trim().to_ascii_lowercase();
        if media.is_empty() {
            return None;
        }
        let mut q = 1.0f32;
        for p in parts {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("q") {
                q = v.trim().trim_matches('"').parse::<f32>().ok()?;
                if !(0.0..=1.0).contains(&q) {
                    return None;
                }
            }
        }
        let (ty, sub) = media.split_once('/')?;
        // Only a range naming OpenMetrics asks for it: a wildcard is
        // answered in the classic format, the one every scraper reads.
        let om = (ty == "application" && sub == "openmetrics-text").then_some((q, 2));
        let classic = match (ty, sub) {
            ("text", "plain") => Some((q, 2)),
            ("text", "*") => Some((q, 1)),
            ("*", "*") => Some((q, 0)),
            _ => None,
        };
        Some((om, classic))
    }

    /// The answer's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Format::Classic => CLASSIC_CONTENT_TYPE,
        }
    }

    /// `reg` (and its sub-registries) in this format.
    pub fn encode(self, reg: &Registry) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        match self {
            Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut text, reg)?,
            Format::Classic => {
                prometheus_client::encoding::prometheus_text::encode(&mut text, reg)?
            }
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::EncodeLabelSet;
    use prometheus_client::metrics::counter::{ConstCounter, Counter};
    use prometheus_client::metrics::family::Family;
    use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
    use prometheus_client::metrics::histogram::Histogram;
    use prometheus_client::metrics::info::Info;
    use prometheus_client::registry::Unit;
    use proptest::prelude::*;

    fn om(accept: &str) -> bool {
        Format::from_accept(Some(accept)) == Format::OpenMetrics
    }

    #[test]
    fn negotiation_follows_accept_and_q_values() {
        assert_eq!(Format::from_accept(None), Format::Classic);
        // What Prometheus 2.x and 3.x send.
        assert!(om("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
        assert!(om("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"));
        assert!(om("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,application/openmetrics-text;version=1.0.0;q=0.6,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"));
        assert!(om("application/openmetrics-text"));
        assert!(om("Application/OpenMetrics-Text; Version=0.0.1"));
        assert!(om(
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        ));
        assert!(om("application/openmetrics-text, */*"));
        // Equal q: the more specific range, then the first listed.
        assert!(om("*/*;q=0.5, application/openmetrics-text;q=0.5"));
        assert!(om("application/openmetrics-text, text/plain"));
        assert!(!om("text/plain, application/openmetrics-text"));
        // Classic: asked for, preferred, or OpenMetrics refused.
        assert!(!om("text/plain; version=0.0.4"));
        assert!(!om(
            "text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.5"
        ));
        assert!(!om("application/openmetrics-text;q=0, */*"));
        assert!(!om("application/openmetrics-text;q=0"));
        assert!(!om("*/*"));
        assert!(!om("application/*"));
        assert!(!om(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(!om("application/json"));
        assert!(!om(""));
        assert!(!om(",,;;"));
        // An unreadable q-value drops that range only.
        assert!(!om("application/openmetrics-text;q=high, text/plain"));
        assert!(!om("application/openmetrics-text;q=2"));
        assert!(om("text/plain;q=x, application/openmetrics-text"));
    }

    #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
    struct Labels {
        sink: String,
    }

    /// A registry with every kind of metric `/metrics` registers.
    fn sample_registry() -> Registry {
        let mut root = Registry::default();
        root.register_with_unit(
            "process_cpu",
            "CPU time",
            Unit::Seconds,
            ConstCounter::new(1.5f64),
        );
        let reg = root.sub_registry_with_prefix("lookout");
        reg.register("lines", "Lines read", ConstCounter::new(7u64));
        reg.register("queue_depth", "Lines queued", ConstGauge::new(3i64));
        let fam = Family::<Labels, Counter>::default();
        fam.get_or_create(&Labels {
            sink: "a \"quoted\" \\ name\nwith a newline".into(),
        })
        .inc_by(2);
        reg.register("sink_delivered", "Delivered, by sink", fam);
        let g = Family::<Labels, Gauge>::default();
        g.get_or_create(&Labels { sink: "x".into() }).set(-4);
        reg.register("sink_pending", "Help with a \\ backslash", g);
        reg.register(
            "build",
            "Build",
            Info::new(vec![("version".to_string(), "1.2.3".to_string())]),
        );
        let h = Histogram::new([0.5, 1.0]);
        h.observe(0.7);
        reg.register("latency", "Latency", h);
        root
    }

    #[test]
    fn classic_names_families_after_their_samples() {
        let text = Format::Classic.encode(&sample_registry()).unwrap();
        let want = "\
# HELP process_cpu_seconds_total CPU time.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 1.5
# HELP lookout_lines_total Lines read.
# TYPE lookout_lines_total counter
lookout_lines_total 7
# HELP lookout_queue_depth Lines queued.
# TYPE lookout_queue_depth gauge
lookout_queue_depth 3
# HELP lookout_sink_delivered_total Delivered, by sink.
# TYPE lookout_sink_delivered_total counter
lookout_sink_delivered_total{sink=\"a \\\"quoted\\\" \\\\ name\\nwith a newline\"} 2
# HELP lookout_sink_pending Help with a \\\\ backslash.
# TYPE lookout_sink_pending gauge
lookout_sink_pending{sink=\"x\"} -4
# HELP lookout_build_info Build.
# TYPE lookout_build_info gauge
lookout_build_info{version=\"1.2.3\"} 1
# HELP lookout_latency Latency.
# TYPE lookout_latency histogram
lookout_latency_sum 0.7
lookout_latency_count 1
lookout_latency_bucket{le=\"0.5\"} 0
lookout_latency_bucket{le=\"1\"} 1
lookout_latency_bucket{le=\"+Inf\"} 1
";
        // Histogram sample order is the encoder's; compare as sets there.
        fn sorted(s: &str) -> Vec<&str> {
            let mut v: Vec<&str> = s.lines().collect();
            v.sort_unstable();
            v
        }
        assert_eq!(sorted(&text), sorted(want), "{text}");
        assert!(!text.contains("# EOF") && !text.contains("# UNIT"));
        // Every sample follows its own family's HELP and TYPE.
        check_classic_structure(&text);
    }

    #[test]
    fn openmetrics_is_the_library_encoding_with_eof() {
        let text = Format::OpenMetrics.encode(&sample_registry()).unwrap();
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(text.contains("# TYPE lookout_lines counter\nlookout_lines_total 7\n"));
        assert!(text
            .contains("# TYPE process_cpu_seconds counter\n# UNIT process_cpu_seconds seconds\n"));
        assert!(
            text.contains("# TYPE lookout_build info\nlookout_build_info{version=\"1.2.3\"} 1\n")
        );
        assert_eq!(
            samples(&text),
            samples(&Format::Classic.encode(&sample_registry()).unwrap())
        );
    }

    /// The sample lines (not comments), sorted; a histogram bucket's bound
    /// as a number (OpenMetrics writes `1.0` where the classic encoder
    /// writes Go's `1`).
    fn samples(text: &str) -> Vec<String> {
        let mut v: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(|l| match l.split_once("le=\"") {
                Some((head, rest)) => {
                    let (le, tail) = rest.split_once('"').unwrap();
                    let le: f64 = le.replace("+Inf", "inf").parse().unwrap();
                    format!("{head}le=\"{le}\"{tail}")
                }
                None => l.to_string(),
            })
            .collect();
        v.sort();
        v
    }

    /// Each family is `# HELP name`, `# TYPE name type`, then samples named
    /// `name` (histograms: `name_bucket`, `name_sum`, `name_count`); no
    /// family twice.
    fn check_classic_structure(text: &str) {
        let mut seen = std::collections::BTreeSet::new();
        let mut current: Option<(String, String)> = None;
        let mut lines = text.lines().peekable();
        while let Some(l) = lines.next() {
            if let Some(rest) = l.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap().to_string();
                let ty = lines
                    .next()
                    .and_then(|t| t.strip_prefix(&format!("# TYPE {name} ")))
                    .unwrap_or_else(|| panic!("HELP {name} without its TYPE: {text}"))
                    .to_string();
                assert!(
                    ["counter", "gauge", "histogram", "untyped"].contains(&ty.as_str()),
                    "{ty}"
                );
                if ty == "counter" {
                    assert!(name.ends_with("_total"), "{name}");
                }
                assert!(seen.insert(name.clone()), "{name} twice");
                current = Some((name, ty));
                continue;
            }
            assert!(!l.starts_with('#'), "unexpected comment {l:?}");
            let (name, ty) = current.as_ref().expect("a sample before any HELP");
            let sample = l.split(['{', ' ']).next().unwrap();
            let ok = if ty == "histogram" {
                ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| sample == format!("{name}{s}"))
            } else {
                sample == name
            };
            assert!(ok, "sample {sample} under family {name} ({ty})");
        }
    }

    fn name() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9_]{0,12}".prop_filter("no reserved suffix", |n| {
            !["_total", "_info", "_bucket", "_sum", "_count", "_created"]
                .iter()
                .any(|s| n.ends_with(s))
        })
    }

    #[derive(Debug, Clone)]
    enum Kind {
        Counter(u64),
        Gauge(i64),
        FloatGauge(f64),
        Info(String),
        Family(Vec<(String, u64)>),
    }

    fn kind() -> impl Strategy<Value = Kind> {
        prop_oneof![
            any::<u64>().prop_map(Kind::Counter),
            any::<i64>().prop_map(Kind::Gauge),
            (-1e12f64..1e12).prop_map(Kind::FloatGauge),
            "[ -~\n]{0,12}".prop_map(Kind::Info),
            prop::collection::vec(("[ -~\n\"\\\\]{0,10}", any::<u32>()), 0..4).prop_map(|v| {
                Kind::Family(v.into_iter().map(|(l, n)| (l, n as u64)).collect())
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// For any registry: the classic exposition has the same samples as
        /// the OpenMetrics one, each family announced once by HELP and TYPE
        /// under the name its samples carry; nothing OpenMetrics-only.
        #[test]
        fn classic_has_the_same_samples_under_well_formed_families(
            // Help texts without a backslash, `"` or a newline: prometheus-client's
            // OpenMetrics encoder writes help verbatim (the classic one
            // escapes it), so /metrics' help texts must avoid them.
            metrics in prop::collection::btree_map(name(), ("[ !#-\\[\\]-~]{0,20}", kind()), 0..8),
            prefix in prop::option::of(name()),
        ) {
            let mut root = Registry::default();
            let reg = match &prefix {
                Some(p) => root.sub_registry_with_prefix(p),
                None => &mut root,
            };
            for (name, (help, kind)) in &metrics {
                match kind {
                    Kind::Counter(v) => reg.register(name, help, ConstCounter::new(*v)),
                    Kind::Gauge(v) => reg.register(name, help, ConstGauge::new(*v)),
                    Kind::FloatGauge(v) => reg.register(name, help, ConstGauge::new(*v)),
                    Kind::Info(v) => reg.register(
                        name,
                        help,
                        Info::new(vec![("value".to_string(), v.clone())]),
                    ),
                    Kind::Family(entries) => {
                        let f = Family::<Labels, Counter>::default();
                        for (sink, n) in entries {
                            f.get_or_create(&Labels { sink: sink.clone() }).inc_by(*n);
                        }
                        reg.register(name, help, f);
                    }
                }
            }
            let classic = Format::Classic.encode(&root).unwrap();
            let open = Format::OpenMetrics.encode(&root).unwrap();
            prop_assert!(open.ends_with("# EOF\n"));
            prop_assert!(!classic.contains("# EOF") && !classic.contains("# UNIT"));
            prop_assert_eq!(samples(&classic), samples(&open));
            check_classic_structure(&classic);
            // A family without samples (a labelled family nothing was
            // counted in yet) is left out by both encoders.
            let families = classic.lines().filter(|l| l.starts_with("# TYPE ")).count();
            let empty = metrics
                .values()
                .filter(|(_, k)| matches!(k, Kind::Family(v) if v.is_empty()))
                .count();
            prop_assert_eq!(families, metrics.len() - empty);
        }
    }
}
