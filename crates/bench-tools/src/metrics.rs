//! Prometheus text format, just enough to read Lookout's `/metrics`:
//! `name{labels} value` lines into a map keyed by `name{labels}`.

use std::collections::BTreeMap;

/// One scrape.
#[derive(Debug, Clone, Default)]
pub struct Scrape(pub BTreeMap<String, f64>);

impl Scrape {
    pub fn parse(text: &str) -> Scrape {
        let mut m = BTreeMap::new();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some((k, v)) = line.rsplit_once(' ') {
                if let Ok(v) = v.trim().parse::<f64>() {
                    m.insert(k.trim().to_string(), v);
                }
            }
        }
        Scrape(m)
    }

    /// The value of an exact series (`name` or `name{label="x"}`), 0 if
    /// absent. Counters may carry a `_total` suffix; both are tried.
    pub fn get(&self, series: &str) -> f64 {
        if let Some(v) = self.0.get(series) {
            return *v;
        }
        let with_total = match series.split_once('{') {
            Some((n, l)) => format!("{n}_total{{{l}"),
            None => format!("{series}_total"),
        };
        self.0.get(&with_total).copied().unwrap_or(0.0)
    }

    /// Sum of every series of a metric family (all label values).
    pub fn sum(&self, name: &str) -> f64 {
        let total = format!("{name}_total");
        self.0
            .iter()
            .filter(|(k, _)| {
                let n = k.split('{').next().unwrap_or(k);
                n == name || n == total
            })
            .map(|(_, v)| *v)
            .sum()
    }
}

/// Scrape `/metrics`.
pub async fn scrape(addr: std::net::SocketAddr) -> anyhow::Result<Scrape> {
    let r = crate::http::get(addr, "/metrics", std::time::Duration::from_secs(10)).await?;
    if r.status != 200 {
        anyhow::bail!("/metrics: HTTP {}", r.status);
    }
    Ok(Scrape::parse(&r.text()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_families_and_totals() {
        let s = Scrape::parse(
            "# HELP x\nlookout_queue_dropped_total 3\nlookout_source_lines_total{source=\"u\"} 10\nlookout_source_lines_total{source=\"t\"} 5\nlookout_vessels 7\n",
        );
        assert_eq!(s.get("lookout_queue_dropped"), 3.0);
        assert_eq!(s.get("lookout_source_lines{source=\"u\"}"), 10.0);
        assert_eq!(s.sum("lookout_source_lines"), 15.0);
        assert_eq!(s.get("lookout_vessels"), 7.0);
    }
}
