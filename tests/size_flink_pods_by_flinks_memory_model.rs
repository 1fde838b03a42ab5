//! A user sizes Flink's pods: a TaskManager too small for Flink's memory
//! model (900Mi) is refused by the JSON API and the form, next to its field,
//! with Flink's breakdown and Flink's own words; a size Flink accepts shows
//! how Flink splits it next to the memory fields.

mod common;

use std::process::Command;

use common::Portal;
use dataport::catalog::flink_memory::{
    JobManagerMemory, JobManagerOptions, MIB, TaskManagerMemory, TaskManagerOptions,
};
use serde_json::{Value, json};

async fn portal_with_an_operator() -> (Portal, common::TestDatabase) {
    let (portal, database) = Portal::on_sqlite().await;
    common::seed_instance(
        &database.store().await,
        "flink-kubernetes-operator",
        "op",
        "data",
    )
    .await;
    (portal, database)
}

fn flink_with(params: Value) -> Value {
    let mut body = json!({"app": "flink", "name": "analytics", "namespace": "data", "params": {"operator": "op"}});
    for (key, value) in params.as_object().unwrap() {
        body["params"][key] = value.clone();
    }
    body
}

#[tokio::test]
async fn a_task_manager_flink_would_refuse_is_refused_with_its_breakdown() {
    let (portal, database) = portal_with_an_operator().await;

    for path in ["/api/v1/instances", "/api/v1/preview"] {
        let (status, answer) = portal
            .post_json(path, &flink_with(json!({"taskManagerMemory": "900Mi"})))
            .await;
        assert_eq!(status, 400, "{path}: {answer}");
        let fields = answer["error"]["fields"].as_object().unwrap();
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            ["taskManagerMemory"],
            "{answer}"
        );
        let message = fields["taskManagerMemory"].as_str().unwrap();
        assert!(
            message.starts_with(
                "900Mi leaves Flink no task heap: the other parts take 949 MiB (JVM overhead \
                 192 MiB, metaspace 256 MiB, framework 256 MiB, network 64 MiB, managed 181 \
                 MiB). A TaskManager needs at least 982Mi (managed memory and JVM overhead \
                 grow with it)."
            ),
            "{message}"
        );
        // Flink 1.20.0's own refusal of a 900m TaskManager (BashJavaUtils).
        assert!(
            message.ends_with(
                "Managed Memory (180.800mb (189582543 bytes)) and Network Memory \
                 (64.000mb (67108864 bytes)) exceed configured Total Flink Memory \
                 (452.000mb (473956352 bytes))."
            ),
            "{message}"
        );
    }

    // The smallest size Flink takes passes; one mebibyte less does not.
    let (status, answer) = portal
        .post_json(
            "/api/v1/preview",
            &flink_with(json!({"taskManagerMemory": "982Mi"})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, _) = portal
        .post_json(
            "/api/v1/preview",
            &flink_with(json!({"taskManagerMemory": "981Mi"})),
        )
        .await;
    assert_eq!(status, 400);

    // The HTML form shows it next to the field and keeps what was typed.
    let (status, _, html) = portal
        .post_form(
            "/catalog/flink/install",
            &[
                ("name", "analytics"),
                ("namespace", "data"),
                ("operator", "op"),
                ("taskManagerMemory", "900Mi"),
                ("action", "install"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    let error = html
        .split("id=\"e-taskManagerMemory\" role=\"alert\">")
        .nth(1)
        .and_then(|rest| rest.split("</span>").next())
        .unwrap_or_else(|| panic!("no error next to the TaskManager memory: {html}"));
    assert!(
        error.starts_with(
            "900Mi leaves Flink no task heap: the other parts take 949 MiB (JVM overhead 192 MiB"
        ),
        "{error}"
    );
    assert!(html.contains("value=\"900Mi\""));
    assert!(
        !html.contains("id=\"n-taskManagerMemory\""),
        "no breakdown note on a refused size"
    );

    // Nothing was written.
    let instances = database.store().await.instances(None).await.unwrap();
    assert_eq!(instances.len(), 1, "only the operator fixture");
}

#[tokio::test]
async fn the_form_shows_how_flink_splits_the_memory() {
    let (portal, _database) = portal_with_an_operator().await;
    // Defaults (2Gi each), as Flink 1.20.0 split them: task heap 563714445,
    // managed 665719939, network 166429984, JVM overhead 214748368 bytes;
    // JobManager heap 1530082096 bytes.
    let (status, html) = portal.get("/catalog/flink/install").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(
            "id=\"n-taskManagerMemory\">Flink splits 2Gi into task heap 538 MiB, managed 635 MiB, \
             network 159 MiB, framework 256 MiB, metaspace 256 MiB, JVM overhead 205 MiB.</span>"
        ),
        "{html}"
    );
    assert!(
        html.contains(
            "id=\"n-jobManagerMemory\">Flink splits 2Gi into heap 1459 MiB, off-heap 128 MiB, \
             metaspace 256 MiB, JVM overhead 205 MiB.</span>"
        ),
        "{html}"
    );
    // What the user typed is split, not the default (the preview keeps the form).
    let (status, _, html) = portal
        .post_form(
            "/catalog/flink/install",
            &[
                ("name", "analytics"),
                ("namespace", "data"),
                ("operator", "op"),
                ("taskManagerMemory", "1280Mi"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Flink splits 1280Mi into task heap 160 MiB, managed 333 MiB"),
        "{html}"
    );
}

/// What `BashJavaUtils GET_TM_RESOURCE_PARAMS` (or `GET_JM_…`) of the Flink
/// release at `home` says of `key: size`: the `-D key=<n>b` it derived, or
/// its `IllegalConfigurationException` message.
fn ask_flink(
    home: &str,
    command: &str,
    key: &str,
    size: &str,
) -> Result<Vec<(String, u64)>, String> {
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("config.yaml"),
        format!("{key}: {size}\n"),
    )
    .unwrap();
    let output = Command::new("java")
        .arg("-cp")
        .arg(format!("{home}/lib/*"))
        .arg("org.apache.flink.runtime.util.bash.BashJavaUtils")
        .arg(command)
        .arg("--configDir")
        .arg(config.path())
        .output()
        .expect("run java");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    if let Some(line) = text
        .lines()
        .find(|l| l.starts_with("BASH_JAVA_UTILS_EXEC_RESULT:-D"))
    {
        return Ok(line
            .split("-D ")
            .filter_map(|pair| pair.trim().split_once('='))
            .filter_map(|(k, v)| Some((k.to_owned(), v.strip_suffix('b')?.parse().ok()?)))
            .collect());
    }
    let refusal = text
        .lines()
        .find_map(|l| l.split_once("IllegalConfigurationException: "))
        .map(|(_, message)| message.to_owned());
    Err(refusal.unwrap_or_else(|| format!("no answer from Flink: {text}")))
}

fn derived(answer: &[(String, u64)], key: &str) -> u64 {
    answer
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("{key} not in {answer:?}"))
}

/// The module's figures are checked against Flink itself, run from the
/// releases testenv/flink assembles (the same the real local cluster runs).
#[test]
fn flink_itself_splits_and_refuses_the_same_sizes() {
    let repo = env!("CARGO_MANIFEST_DIR");
    for release in ["1.20.0", "2.0.0"] {
        let assembled = Command::new(format!("{repo}/testenv/flink/assemble.sh"))
            .arg(release)
            .output()
            .expect("run testenv/flink/assemble.sh");
        assert!(assembled.status.success(), "assemble Flink {release}");
        let home = String::from_utf8_lossy(&assembled.stdout).trim().to_owned();
        for mebibytes in [900, 981, 982, 1280, 4096] {
            let size = format!("{mebibytes}m");
            let ours = TaskManagerMemory::derive(mebibytes * MIB, &TaskManagerOptions::default());
            let flink = ask_flink(
                &home,
                "GET_TM_RESOURCE_PARAMS",
                "taskmanager.memory.process.size",
                &size,
            );
            match (ours, flink) {
                (Ok(ours), Ok(flink)) => {
                    for (key, value) in [
                        ("taskmanager.memory.task.heap.size", ours.task_heap),
                        ("taskmanager.memory.managed.size", ours.managed),
                        ("taskmanager.memory.network.min", ours.network),
                        ("taskmanager.memory.jvm-overhead.min", ours.jvm_overhead),
                    ] {
                        assert_eq!(
                            derived(&flink, key),
                            value,
                            "Flink {release}, {size}: {key}"
                        );
                    }
                }
                (Err(ours), Err(flink)) => {
                    assert!(
                        flink.ends_with(&ours.to_string()),
                        "Flink {release}, {size}: {flink} / {ours}"
                    );
                }
                (ours, flink) => {
                    panic!("Flink {release}, {size}: ours {ours:?}, Flink's {flink:?}")
                }
            }
        }
        for mebibytes in [576, 577, 2048] {
            let size = format!("{mebibytes}m");
            let ours = JobManagerMemory::derive(mebibytes * MIB, &JobManagerOptions::default());
            let flink = ask_flink(
                &home,
                "GET_JM_RESOURCE_PARAMS",
                "jobmanager.memory.process.size",
                &size,
            );
            match (ours, flink) {
                (Ok(ours), Ok(flink)) => {
                    assert_eq!(
                        derived(&flink, "jobmanager.memory.heap.size"),
                        ours.heap,
                        "Flink {release}, {size}"
                    );
                    assert_eq!(
                        derived(&flink, "jobmanager.memory.jvm-overhead.min"),
                        ours.jvm_overhead,
                        "Flink {release}, {size}"
                    );
                }
                (Err(ours), Err(flink)) => {
                    assert!(
                        flink.ends_with(&ours.to_string()),
                        "Flink {release}, {size}: {flink} / {ours}"
                    );
                }
                (ours, flink) => {
                    panic!("Flink {release}, {size}: ours {ours:?}, Flink's {flink:?}")
                }
            }
        }
    }
}
