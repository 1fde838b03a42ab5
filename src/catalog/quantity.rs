//! Kubernetes resource quantities (`500m`, `2`, `512Mi`, `2Gi`, `1.5G`), parsed
//! the way the API server reads them, so that the form refuses what the
//! cluster would refuse (`2Gb`, `-1`, `1..5`) before anything is applied.

use std::fmt;

/// What a quantity measures: it decides which suffixes make sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuantityKind {
    /// CPU cores: `1`, `0.5`, `500m`.
    Cpu,
    /// Bytes of memory or storage: `512Mi`, `2Gi`, `1G`, `1048576`.
    Bytes,
}

/// A parsed, non-negative quantity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity {
    /// Cores for CPU, bytes for memory.
    pub value: f64,
}

/// Why a quantity was refused, worded for the field's error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantityError(pub String);

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const BINARY: [(&str, f64); 6] = [
    ("Ki", 1024.0),
    ("Mi", 1024.0 * 1024.0),
    ("Gi", 1024.0 * 1024.0 * 1024.0),
    ("Ti", 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ("Pi", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
    ("Ei", 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0),
];

const DECIMAL: [(&str, f64); 8] = [
    ("n", 1e-9),
    ("u", 1e-6),
    ("m", 1e-3),
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
];

impl Quantity {
    /// Parses `text` as a quantity of `kind`.
    pub fn parse(text: &str, kind: QuantityKind) -> Result<Quantity, QuantityError> {
        let text = text.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, suffix) = text.split_at(split);
        let example = match kind {
            QuantityKind::Cpu => "1, 0.5 or 500m",
            QuantityKind::Bytes => "2Gi, 512Mi or 1G",
        };
        let refuse = || {
            QuantityError(format!(
                "{text:?} is not a quantity; write it like {example}"
            ))
        };
        if number.is_empty()
            || number.starts_with('.')
            || number.ends_with('.')
            || number.matches('.').count() > 1
        {
            return Err(refuse());
        }
        let number: f64 = number.parse().map_err(|_| refuse())?;
        let factor = BINARY
            .iter()
            .chain(DECIMAL.iter())
            .find(|(unit, _)| *unit == suffix)
            .map(|(_, factor)| *factor)
            .or(suffix.is_empty().then_some(1.0))
            .ok_or_else(refuse)?;
        if kind == QuantityKind::Bytes && factor < 1.0 {
            return Err(QuantityError(format!(
                "{text:?} is a fraction of a byte; write it like {example}"
            )));
        }
        Ok(Quantity {
            value: number * factor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_and_memory_like_the_api_server() {
        let cpu = |t| Quantity::parse(t, QuantityKind::Cpu).map(|q| q.value);
        let mem = |t| Quantity::parse(t, QuantityKind::Bytes).map(|q| q.value);
        assert_eq!(cpu("500m"), Ok(0.5));
        assert_eq!(cpu("2"), Ok(2.0));
        assert_eq!(cpu("0.25"), Ok(0.25));
        assert_eq!(mem("2Gi"), Ok(2.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(mem("512Mi"), Ok(512.0 * 1024.0 * 1024.0));
        assert_eq!(mem("1G"), Ok(1e9));
        assert_eq!(mem("1048576"), Ok(1048576.0));
    }

    #[test]
    fn refuses_what_the_api_server_refuses() {
        for bad in [
            "2Gb", "", "-1", "1..5", ".5", "5.", "Gi", "2 Gi", "two", "1e3x", "2GI",
        ] {
            assert!(
                Quantity::parse(bad, QuantityKind::Bytes).is_err(),
                "{bad:?}"
            );
        }
        let error = Quantity::parse("2Gb", QuantityKind::Bytes).unwrap_err();
        assert_eq!(
            error.0,
            "\"2Gb\" is not a quantity; write it like 2Gi, 512Mi or 1G"
        );
        assert!(
            Quantity::parse("500m", QuantityKind::Bytes).is_err(),
            "no milli-bytes"
        );
    }
}
