//! The Flink releases dataport offers, and what differs between them: the
//! image, the operator's `flinkVersion`, the S3 plugin jar, the names of the
//! checkpoint and savepoint keys, the configuration file, and whether the
//! Flink community still maintains the line.

use crate::crd::FlinkVersion;

/// One Flink line (`major.minor`) as dataport runs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlinkRelease {
    /// The version offered on the form, e.g. `1.20`.
    pub version: &'static str,
    /// The newest patch release of the line: the image tag `flink:<patch>`
    /// (CONTRACTS.md "Flink releases and images", 2026-11).
    pub patch: &'static str,
    /// The operator's `spec.flinkVersion` for it.
    pub flink_version: FlinkVersion,
    /// The key of the checkpoint directory. Flink 1.20 renamed the
    /// checkpointing options (FLINK-34482, "Rename checkpointing options",
    /// 2024-06): `execution.checkpointing.dir` with `state.checkpoints.dir`
    /// kept as a deprecated alias; 1.19 knows only the old name.
    pub checkpoint_dir_key: &'static str,
    /// The key of the savepoint directory (renamed with the checkpoint key).
    pub savepoint_dir_key: &'static str,
    /// The file the operator writes the cluster's configuration to: Flink
    /// 2.x reads only `config.yaml`, 1.x the legacy `flink-conf.yaml`.
    pub config_file: &'static str,
    /// Whether the Flink community still maintains the line (publishes
    /// patch releases); the form notes the others ([`VERSION_NOTES`]).
    pub maintained: bool,
}

impl FlinkRelease {
    /// The image the cluster runs.
    pub fn image(&self) -> String {
        format!("flink:{}", self.patch)
    }

    /// The Hive connector jar for this release: Hive 3.1.3's bundle, released
    /// with every Flink 1.x patch (org.apache.flink:
    /// flink-sql-connector-hive-3.1.3_2.12; none exists for Flink 2.x).
    pub fn hive_connector_jar(&self) -> String {
        format!("flink-sql-connector-hive-3.1.3_2.12-{}.jar", self.patch)
    }

    /// The S3 filesystem plugin in the image's `opt/`, enabled per pod with
    /// `ENABLE_BUILT_IN_PLUGINS`: named after the exact release in the image.
    pub fn s3_plugin_jar(&self) -> String {
        format!("flink-s3-fs-presto-{}.jar", self.patch)
    }
}

const OLD_KEYS: (&str, &str) = ("state.checkpoints.dir", "state.savepoints.dir");
const NEW_KEYS: (&str, &str) = (
    "execution.checkpointing.dir",
    "execution.checkpointing.savepoint-dir",
);

/// The versions offered, the default first. 2.3.0 is released but cannot be
/// offered: the CRDs shipped with operator 1.15.0 stop their `flinkVersion`
/// enum at `v2_2`, so an API server with them refuses `v2_3` (docs/flink-operator-facts.md §5).
pub const VERSIONS: &[&str] = &["1.20", "1.19", "2.0", "2.1", "2.2"];

/// Every offered line, in [`VERSIONS`] order.
pub const RELEASES: &[FlinkRelease] = &[
    FlinkRelease {
        version: "1.20",
        patch: "1.20.5",
        flink_version: FlinkVersion::v1_20,
        checkpoint_dir_key: NEW_KEYS.0,
        savepoint_dir_key: NEW_KEYS.1,
        config_file: "flink-conf.yaml",
        maintained: true,
    },
    FlinkRelease {
        version: "1.19",
        patch: "1.19.3",
        flink_version: FlinkVersion::v1_19,
        checkpoint_dir_key: OLD_KEYS.0,
        savepoint_dir_key: OLD_KEYS.1,
        config_file: "flink-conf.yaml",
        maintained: false,
    },
    FlinkRelease {
        version: "2.0",
        patch: "2.0.2",
        flink_version: FlinkVersion::v2_0,
        checkpoint_dir_key: NEW_KEYS.0,
        savepoint_dir_key: NEW_KEYS.1,
        config_file: "config.yaml",
        maintained: false,
    },
    FlinkRelease {
        version: "2.1",
        patch: "2.1.3",
        flink_version: FlinkVersion::v2_1,
        checkpoint_dir_key: NEW_KEYS.0,
        savepoint_dir_key: NEW_KEYS.1,
        config_file: "config.yaml",
        maintained: true,
    },
    FlinkRelease {
        version: "2.2",
        patch: "2.2.1",
        flink_version: FlinkVersion::v2_2,
        checkpoint_dir_key: NEW_KEYS.0,
        savepoint_dir_key: NEW_KEYS.1,
        config_file: "config.yaml",
        maintained: true,
    },
];

/// The notes shown next to the version choice: `(version, note)` for each
/// line the Flink community no longer maintains.
pub const VERSION_NOTES: &[(&str, &str)] = &[
    (
        "1.19",
        "No longer maintained by the Flink community: prefer 1.20.",
    ),
    (
        "2.0",
        "No longer maintained by the Flink community: prefer a newer 2.x.",
    ),
];

/// The release behind an offered version.
pub fn release(version: &str) -> Option<&'static FlinkRelease> {
    RELEASES.iter().find(|release| release.version == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_offered_version_has_one_release_in_order() {
        let listed: Vec<_> = RELEASES.iter().map(|r| r.version).collect();
        assert_eq!(listed, VERSIONS);
        for release in RELEASES {
            assert!(
                release.patch.starts_with(&format!("{}.", release.version)),
                "{} is a patch of {}",
                release.patch,
                release.version
            );
            let enum_name = serde_json::to_value(release.flink_version).unwrap();
            assert_eq!(
                enum_name,
                format!("v{}", release.version.replace('.', "_")),
                "{}",
                release.version
            );
        }
        assert_eq!(release("1.18"), None, "1.18 is no longer offered");
        assert_eq!(release("2.3"), None, "the shipped CRD stops at v2_2");
    }

    #[test]
    fn images_and_plugins_name_the_newest_patches() {
        let tags: Vec<_> = RELEASES.iter().map(FlinkRelease::image).collect();
        assert_eq!(
            tags,
            [
                "flink:1.20.5",
                "flink:1.19.3",
                "flink:2.0.2",
                "flink:2.1.3",
                "flink:2.2.1"
            ]
        );
        assert_eq!(
            release("2.2").unwrap().s3_plugin_jar(),
            "flink-s3-fs-presto-2.2.1.jar"
        );
    }

    #[test]
    fn keys_and_files_follow_the_release() {
        let old = release("1.19").unwrap();
        assert_eq!(old.checkpoint_dir_key, "state.checkpoints.dir");
        assert_eq!(old.savepoint_dir_key, "state.savepoints.dir");
        assert_eq!(old.config_file, "flink-conf.yaml");
        let lts = release("1.20").unwrap();
        assert_eq!(lts.checkpoint_dir_key, "execution.checkpointing.dir");
        assert_eq!(
            lts.savepoint_dir_key,
            "execution.checkpointing.savepoint-dir"
        );
        assert_eq!(lts.config_file, "flink-conf.yaml");
        assert_eq!(release("2.0").unwrap().config_file, "config.yaml");
    }

    #[test]
    fn unmaintained_lines_carry_a_note_the_form_shows() {
        let noted: Vec<_> = RELEASES
            .iter()
            .filter(|r| !r.maintained)
            .map(|r| r.version)
            .collect();
        assert_eq!(noted, ["1.19", "2.0"]);
        let shown: Vec<_> = VERSION_NOTES.iter().map(|(v, _)| *v).collect();
        assert_eq!(shown, noted);
    }
}
