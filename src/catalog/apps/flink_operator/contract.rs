//! The operator's contract with the `apache/flink-kubernetes-operator` image.
//!
//! | | operator (Deployment) |
//! |---|---|
//! | image | `apache/flink-kubernetes-operator:<x.y.z>`, the offered release |
//! | entrypoint | `/docker-entrypoint.sh operator`, as the chart |
//! | env | `OPERATOR_NAMESPACE`, `HOST_IP`, `POD_IP`, `POD_NAME` (from the pod), `OPERATOR_NAME`, `FLINK_CONF_DIR`, `FLINK_PLUGINS_DIR`, `LOGGING_FRAMEWORK`, `LOG_CONFIG`, `JVM_ARGS` |
//! | files | `/opt/flink/conf` (`flink-conf.yaml`, the log4j files), `/opt/flink/artifacts` (session jobs' jars) |
//! | ports | `health-port` 8085, `metrics` 9999 |
//! | user | 9999 (chart's `podSecurityContext`; its `fsGroup` is commented out) |
//! | probes | `/` on `health-port`: the chart's liveness and startup; readiness added by dataport |

use crate::catalog::contract::{Check, ContainerContract, Contract};

/// See the module's table.
pub(super) const CONTRACT: Contract = Contract {
    tags: "the offered release tag of apache/flink-kubernetes-operator (the chart's default \
           is a ghcr.io commit tag)",
    first_start: "registers a controller per Flink kind: the four CRDs must be installed \
                  (dataport crds --install); its health server answers once informers sync",
    lacks: "nothing dataport asks of it",
    sources: &[
        "flink-kubernetes-operator release-1.15.0 helm/flink-kubernetes-operator/templates/\
         controller/deployment.yaml and values.yaml (notes/operator-facts.md §1)",
    ],
    containers: &[ContainerContract {
        kind: "Deployment",
        suffix: "",
        container: "flink-kubernetes-operator",
        image: "apache/flink-kubernetes-operator",
        command: &["/docker-entrypoint.sh", "operator"],
        args: &[],
        env: &[
            "OPERATOR_NAMESPACE",
            "HOST_IP",
            "POD_IP",
            "POD_NAME",
            "OPERATOR_NAME",
            "FLINK_CONF_DIR",
            "FLINK_PLUGINS_DIR",
            "LOGGING_FRAMEWORK",
            "LOG_CONFIG",
            "JVM_ARGS",
        ],
        mounts: &["/opt/flink/conf", "/opt/flink/artifacts"],
        library_dir: None,
        ports: &[("health-port", 8085), ("metrics", 9999)],
        user: Some(9999),
        fs_group: None,
        readiness: Check::Http("/", "health-port"),
        liveness: Check::Http("/", "health-port"),
    }],
};

#[cfg(test)]
mod tests {
    use super::super::DEFINITION;
    use super::*;
    use crate::catalog::contract::testing::render;
    use crate::catalog::contract::{Coverage, violations};

    #[test]
    fn flink_operator_keeps_its_contract() {
        let objects = render(&DEFINITION, &[], &[]);
        let faults = violations(
            &CONTRACT,
            "flink-kubernetes-operator-main",
            &objects,
            Coverage::Exact,
        );
        assert!(faults.is_empty(), "{faults:#?}");
    }
}
