//! Apache ZooKeeper, for Flink's ZooKeeper high availability.

use crate::catalog::render::{Object, RenderError, RenderInput, in_apply_order};
use crate::catalog::workload::{Workload, env, exec_probe, run_as, timed};

use crate::catalog::contract::{Check, ContainerContract, Contract};
use crate::catalog::params::{Choice, Param, ParamKind};
use crate::catalog::{AppDefinition, Category, no_rules};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "zookeeper",
    display_name: "Apache ZooKeeper",
    icon: "ZK",
    category: Category::Coordination,
    summary: "Coordination service: leader election for Flink high availability.",
    description: "A ZooKeeper ensemble (a StatefulSet with a headless Service on port 2181). \
        Flink clusters with ZooKeeper high availability elect their JobManager leader and \
        keep pointers to their HA metadata in it.",
    versions: &["3.9.3", "3.8.4"],
    version_notes: &[],
    dependencies: &[],
    web_ui: None,
    homepage: "https://zookeeper.apache.org/",
    groups: &[],
    params: &[
        Param {
            key: "replicas",
            label: "Servers",
            help: "Servers in the ensemble: an odd number, so that a majority can always be formed.",
            kind: ParamKind::Choice {
                options: &[
                    Choice {
                        value: "3",
                        label: "3 (tolerates 1 failure)",
                    },
                    Choice {
                        value: "1",
                        label: "1 (no fault tolerance)",
                    },
                    Choice {
                        value: "5",
                        label: "5 (tolerates 2 failures)",
                    },
                ],
            },
            default: Some("3"),
            shown_when: &[],
        },
        Param::cpu("cpu", "CPU", "500m", "Cores per server."),
        Param::bytes(
            "memory",
            "Memory",
            "1Gi",
            ("256Mi", "32Gi"),
            "Memory per server.",
        ),
        Param::bytes(
            "storage",
            "Storage",
            "10Gi",
            ("1Gi", "1Ti"),
            "Persistent volume per server.",
        ),
    ],
    rules: no_rules,
    scope: None,
    render,
    contract: &CONTRACT,
};

/// ZooKeeper's own health check: the `ruok` four-letter word (whitelisted
/// through ZOO_4LW_COMMANDS_WHITELIST) over the image's netcat.
const RUOK: &str = "echo ruok | nc -w 2 127.0.0.1 2181 | grep -q imok";

/// A StatefulSet of servers behind a headless Service: clients reach the
/// ensemble at `<name>.<namespace>.svc:2181`.
fn render(input: &RenderInput) -> Result<Vec<Object>, RenderError> {
    let name = &input.target.name;
    let namespace = &input.target.namespace;
    let replicas: i32 = input
        .text("replicas")?
        .parse()
        .map_err(|_| RenderError::Missing("replicas"))?;
    let servers: Vec<String> = (0..replicas)
        .map(|i| {
            format!(
                "server.{}={name}-{i}.{name}.{namespace}.svc:2888:3888;2181",
                i + 1
            )
        })
        .collect();
    let workload = Workload {
        replicas,
        image: format!("zookeeper:{}", input.target.version),
        // The image takes its server id from ZOO_MY_ID: derive it from the pod's
        // ordinal. A command, not args: args would run through the image's
        // entrypoint first, which writes myid (1) before ZOO_MY_ID is set.
        command: vec![
            "sh".into(),
            "-c".into(),
            "export ZOO_MY_ID=$((${HOSTNAME##*-}+1)) && exec /docker-entrypoint.sh zkServer.sh start-foreground".into(),
        ],
        ports: vec![("client", 2181), ("follower", 2888), ("election", 3888)],
        env: vec![env("ZOO_SERVERS", servers.join(" ")), env("ZOO_4LW_COMMANDS_WHITELIST", "srvr,ruok,mntr")],
        cpu: Some(input.text("cpu")?.into()),
        memory: Some(input.text("memory")?.into()),
        storage: Some((input.text("storage")?.into(), "/data")),
        // `ruok` answers once the server runs, before a quorum forms: a
        // readiness that waited for the quorum would hold back the next pod.
        readiness: Some(exec_probe(RUOK)),
        liveness: Some(timed(exec_probe(RUOK), 15, 10, 3)),
        pod_security: Some(run_as(1000, 1000, 1000)),
        ..Workload::default()
    };
    Ok(in_apply_order(workload.render(input)?))
}

/// ZooKeeper's contract with the official `zookeeper` image.
///
/// | | server (StatefulSet) |
/// |---|---|
/// | image | `zookeeper:<major.minor.patch>`, the offered release |
/// | entrypoint | replaced: `sh -c` exports `ZOO_MY_ID` from the pod ordinal, then execs `/docker-entrypoint.sh zkServer.sh start-foreground` |
/// | env | `ZOO_SERVERS`, `ZOO_4LW_COMMANDS_WHITELIST` (and `ZOO_MY_ID`, exported) |
/// | files | `/data` (`ZOO_DATA_DIR`: `myid`, snapshots); `/conf/zoo.cfg` written by the entrypoint |
/// | ports | `client` 2181, `follower` 2888, `election` 3888 |
/// | user | 1000 (`zookeeper`), fsGroup 1000 |
/// | probes | `ruok` answered `imok` on 2181 (the image has netcat) |
pub(super) const CONTRACT: Contract = Contract {
    tags: "the offered major.minor.patch tag of the official image",
    first_start: "the entrypoint writes zoo.cfg (from ZOO_*) and myid (from ZOO_MY_ID) only \
                  when missing: ZOO_MY_ID must be set before the entrypoint first runs",
    lacks: "nothing dataport asks of it",
    sources: &[
        "31z4/zookeeper-docker 3.9.3/Dockerfile @17bab0d1 (uid/gid 1000, ZOO_DATA_DIR=/data, \
         netcat, EXPOSE 2181 2888 3888 8080)",
        "31z4/zookeeper-docker 3.9.3/docker-entrypoint.sh @1f342284 (ZOO_SERVERS, \
         ZOO_4LW_COMMANDS_WHITELIST, ZOO_MY_ID, gosu only as root)",
    ],
    containers: &[ContainerContract {
        kind: "StatefulSet",
        suffix: "",
        container: "zookeeper",
        image: "zookeeper",
        command: &[
            "sh",
            "-c",
            "export ZOO_MY_ID=$((${HOSTNAME##*-}+1)) && exec /docker-entrypoint.sh zkServer.sh start-foreground",
        ],
        args: &[],
        env: &["ZOO_SERVERS", "ZOO_4LW_COMMANDS_WHITELIST"],
        mounts: &["/data"],
        library_dir: None,
        ports: &[("client", 2181), ("follower", 2888), ("election", 3888)],
        user: Some(1000),
        fs_group: Some(1000),
        readiness: Check::Exec("echo ruok | nc -w 2 127.0.0.1 2181"),
        liveness: Check::Exec("echo ruok | nc -w 2 127.0.0.1 2181"),
    }],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::contract::testing::render;
    use crate::catalog::contract::{Coverage, violations};

    #[test]
    fn zookeeper_keeps_its_contract() {
        let objects = render(&DEFINITION, &[], &[]);
        let faults = violations(&CONTRACT, "zookeeper-main", &objects, Coverage::Exact);
        assert!(faults.is_empty(), "{faults:#?}");
        let env = &objects.iter().find(|o| o["kind"] == "StatefulSet").unwrap()["spec"]["template"]
            ["spec"]["containers"][0]["env"];
        let whitelist = env
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == "ZOO_4LW_COMMANDS_WHITELIST")
            .unwrap();
        assert!(
            whitelist["value"]
                .as_str()
                .unwrap()
                .split(',')
                .any(|w| w == "ruok"),
            "the probe's command is allowed"
        );
    }
}
