//! Apache ZooKeeper, for Flink's ZooKeeper high availability.

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
    dependencies: &[],
    web_ui: None,
    homepage: "https://zookeeper.apache.org/",
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
};
