//! The Flink configuration as the validator reads it: flat keys, the old
//! and new names of the checkpoint and savepoint directories, high
//! availability, and Flink's memory sizes.

use std::collections::BTreeMap;

use serde_json::Value;

/// `spec.flinkConfiguration` as flat `key → value` text: nested maps are
/// joined with dots, as Flink's YAML configuration reads them.
pub fn flat_configuration(spec: &Value) -> BTreeMap<String, String> {
    match spec.get("flinkConfiguration") {
        Some(Value::Object(map)) => crate::crd::flink_configuration::flat(map.clone()),
        _ => BTreeMap::new(),
    }
}

pub(super) fn is_true(configuration: &BTreeMap<String, String>, key: &str) -> bool {
    configuration
        .get(key)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// High availability is on: `high-availability.type` (or the old
/// `high-availability`) names a mode other than NONE.
pub fn ha_enabled(configuration: &BTreeMap<String, String>) -> bool {
    configuration
        .get("high-availability.type")
        .or_else(|| configuration.get("high-availability"))
        .is_some_and(|mode| !mode.trim().is_empty() && !mode.trim().eq_ignore_ascii_case("none"))
}

fn first_key<'a>(configuration: &'a BTreeMap<String, String>, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|key| configuration.get(*key))
        .map(String::as_str)
}

/// Checkpoint directory under its Flink 1.20 key or the deprecated ones.
pub fn checkpoint_dir(configuration: &BTreeMap<String, String>) -> Option<&str> {
    first_key(
        configuration,
        &[
            "execution.checkpointing.dir",
            "state.checkpoints.dir",
            "state.backend.fs.checkpointdir",
        ],
    )
}

/// Savepoint directory under its Flink 1.20 key or the deprecated ones.
pub fn savepoint_dir(configuration: &BTreeMap<String, String>) -> Option<&str> {
    first_key(
        configuration,
        &[
            "execution.checkpointing.savepoint-dir",
            "state.savepoints.dir",
            "savepoints.state.backend.fs.dir",
        ],
    )
}

pub(super) const SAVEPOINT_DIR_KEY: &str = "execution.checkpointing.savepoint-dir";

/// Bytes of a memory size as the operator reads `resource.memory`: a
/// Kubernetes binary quantity (`1Gi`, `512Mi`) or Flink's `MemorySize`
/// (`2048m`, `2g`, `1024 mb`, plain bytes; units case-insensitive).
pub fn parse_memory(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("argument is an empty- or whitespace-only string".to_owned());
    }
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    if digits_end == 0 {
        return Err("text does not start with a number".to_owned());
    }
    let number: u64 = trimmed[..digits_end].parse().map_err(|_| {
        format!(
            "The value '{trimmed}' cannot be re represented as 64bit number (numeric overflow)."
        )
    })?;
    let unit = trimmed[digits_end..].trim();
    let factor: u64 = match unit {
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "Ti" => 1 << 40,
        "Pi" => 1 << 50,
        "Ei" => 1 << 60,
        _ => match unit.to_ascii_lowercase().as_str() {
            "" | "b" | "bytes" => 1,
            "k" | "kb" | "kibibytes" => 1 << 10,
            "m" | "mb" | "mebibytes" => 1 << 20,
            "g" | "gb" | "gibibytes" => 1 << 30,
            "t" | "tb" | "tebibytes" => 1 << 40,
            _ => {
                return Err(format!(
                    "Memory size unit '{unit}' does not match any of the recognized units: \
                     (b | bytes) / (k | kb | kibibytes) / (m | mb | mebibytes) / \
                     (g | gb | gibibytes) / (t | tb | tebibytes)"
                ));
            }
        },
    };
    number.checked_mul(factor).ok_or_else(|| {
        format!("The value '{trimmed}' cannot be re represented as 64bit number of bytes (numeric overflow).")
    })
}
