//! Flink's contract with the `flink` image, for the pod template dataport
//! gives the operator (the operator builds the JobManager and the JobManager
//! the TaskManagers; Flink's native Kubernetes mode sets no probes).
//!
//! | | flink-main-container (FlinkDeployment pod template) |
//! |---|---|
//! | image | `spec.image`: `flink:<major.minor.patch>` of the chosen line |
//! | entrypoint | the image's `/docker-entrypoint.sh`, with the arguments the operator gives |
//! | env | `ENABLE_BUILT_IN_PLUGINS` (links `opt/<jar>` into `plugins/`), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (the S3 filesystem's credential chain), `HIVE_CONF_DIR` (where HiveConf finds hive-site.xml) |
//! | files | `/opt/hive-conf` (hive-site.xml); Hadoop's configuration through `kubernetes.hadoop.conf.config-map.name` |
//! | ports | `metrics` 9249 (the Prometheus reporter) |
//! | user | the image's: 9999 (`flink`) |
//! | probes | none (pods built by the operator and the JobManager) |

use crate::catalog::contract::{Check, ContainerContract, Contract};

/// See the module's table.
pub(super) const CONTRACT: Contract = Contract {
    tags: "flink:<newest patch of the line> (versions.rs), never a moving major.minor tag",
    first_start: "nothing beyond its configuration; HA, checkpoints and savepoints are \
                  created under the configured storage paths",
    lacks: "the Hive connector (flink-sql-connector-hive-*, Flink 1.x only) and any Hadoop \
            classes (hdfs:// paths): neither is in the image's lib/",
    sources: &[
        "apache/flink-docker 1.20/scala_2.12-java17-ubuntu/Dockerfile @126315d4 (uid/gid \
         9999, FLINK_HOME=/opt/flink, ENTRYPOINT /docker-entrypoint.sh, EXPOSE 6123 8081)",
        "apache/flink-docker docker-entrypoint.sh (ENABLE_BUILT_IN_PLUGINS)",
    ],
    containers: &[ContainerContract {
        kind: "FlinkDeployment",
        suffix: "",
        container: "flink-main-container",
        image: "flink",
        command: &[],
        args: &[],
        env: &[
            "ENABLE_BUILT_IN_PLUGINS",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "HIVE_CONF_DIR",
        ],
        mounts: &["/opt/hive-conf"],
        library_dir: Some("/opt/flink/lib"),
        ports: &[("metrics", 9249)],
        user: None,
        fs_group: None,
        readiness: Check::None,
        liveness: Check::None,
    }],
};

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::json;

    use super::super::DEFINITION;
    use super::*;
    use crate::catalog::contract::testing::{render, resolved};
    use crate::catalog::contract::{Coverage, violations};

    const LIBRARIES: &str = "https://repo.example/hadoop-client-api-3.4.1.jar \
        https://repo.example/hadoop-client-runtime-3.4.1.jar \
        https://repo.example/flink-sql-connector-hive-3.1.3_2.12-1.20.5.jar";

    #[test]
    fn flink_keeps_its_contract() {
        let references = [
            ("operator", resolved("op", json!({}))),
            ("minio", resolved("minio", json!({"bucket": "flink"}))),
            ("hdfs", resolved("hdfs", json!({}))),
            ("hiveMetastore", resolved("metastore", json!({}))),
            ("hiveHdfs", resolved("hdfs", json!({}))),
        ];
        let mut env = BTreeSet::new();
        let mut mounts = BTreeSet::new();
        for storage in [
            &[("storage", "s3"), ("minio", "minio")],
            &[("storage", "hdfs"), ("hdfs", "hdfs")],
        ] {
            let mut form = vec![
                ("operator", "op"),
                ("highAvailability", "on"),
                ("hive", "on"),
                ("hiveMetastore", "metastore"),
                ("hiveHdfs", "hdfs"),
                ("extraLibraries", LIBRARIES),
            ];
            form.extend_from_slice(storage);
            let objects = render(&DEFINITION, &form, &references);
            let faults = violations(&CONTRACT, "flink-main", &objects, Coverage::Within);
            assert!(faults.is_empty(), "{storage:?}: {faults:#?}");
            let deployment = objects
                .iter()
                .find(|o| o["kind"] == "FlinkDeployment")
                .unwrap();
            let container = &deployment["spec"]["podTemplate"]["spec"]["containers"][0];
            env.extend(
                container["env"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["name"].to_string()),
            );
            mounts.extend(
                container["volumeMounts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["mountPath"].to_string())
                    .filter(|path| !path.contains("/opt/flink/lib/")),
            );
        }
        let named = |items: &[&str]| {
            items
                .iter()
                .map(|i| format!("\"{i}\""))
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(
            env,
            named(CONTRACT.containers[0].env),
            "every variable is rendered by some form"
        );
        assert_eq!(mounts, named(CONTRACT.containers[0].mounts));
    }
}
