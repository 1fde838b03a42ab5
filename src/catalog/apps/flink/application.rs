//! Apache Flink application cluster: a FlinkDeployment with its job
//! (application mode). The cluster's parameters, rules and render are the
//! session cluster's; the job's come from [`crate::catalog::jobs`].

use super::{CLUSTER, DEFINITION as SESSION, HA_INGRESS_HIVE, is_on, render, rules};
use crate::catalog::jobs::{JOB_PARAMS, JOB_STATE, job_rules};
use crate::catalog::params::{Param, concat};
use crate::catalog::{AppDefinition, FieldErrors, Values};

pub(in crate::catalog::apps) const DEFINITION: AppDefinition = AppDefinition {
    name: "flink-application",
    display_name: "Flink application",
    icon: "Fa",
    category: SESSION.category,
    summary: "One Flink job with a cluster of its own (application mode), upgraded through savepoints.",
    description: "A FlinkDeployment with its job: the cluster starts the job from its JAR and \
        goes away with it. Suspend and resume it, or upgrade it, through a savepoint or its \
        last checkpoint when high availability keeps them on HDFS or S3 (MinIO).",
    versions: SESSION.versions,
    dependencies: SESSION.dependencies,
    web_ui: SESSION.web_ui,
    homepage: SESSION.homepage,
    params: &APPLICATION_PARAMS,
    rules: application_rules,
    render: render::render,
};

/// The cluster's fields, then the job's, then HA, ingress and Hive.
static APPLICATION_PARAMS: [Param; 24] =
    concat(&[CLUSTER, JOB_PARAMS, &[JOB_STATE], HA_INGRESS_HIVE]);

/// The session cluster's rules, and a job that keeps state needs HA storage.
fn application_rules(version: &str, values: &Values) -> FieldErrors {
    let mut errors = rules(version, values);
    let storage = is_on(values, "highAvailability");
    for (key, message) in job_rules(values, storage, "turn high availability on") {
        errors.entry(key).or_insert(message);
    }
    errors
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const JAR: &str = "local:///opt/flink/examples/streaming/StateMachineExample.jar";

    #[test]
    fn savepoint_without_ha_is_refused_next_to_the_upgrade_mode() {
        let form = raw(&[
            ("operator", "op"),
            ("jarURI", JAR),
            ("upgradeMode", "savepoint"),
        ]);
        let errors = DEFINITION.validate("1.20", &form).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["upgradeMode"]);
        assert_eq!(
            errors["upgradeMode"],
            "Upgrade mode savepoint needs high availability with checkpoint storage: \
             turn high availability on, or use stateless"
        );

        let mut with_ha = form.clone();
        with_ha.extend(raw(&[("highAvailability", "on"), ("minio", "minio")]));
        let values = DEFINITION.validate("1.20", &with_ha).unwrap();
        assert_eq!(values["jobState"], "running");
        assert!(!values.contains_key("taskManagerReplicas"));
    }
}
