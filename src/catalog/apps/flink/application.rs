//! Apache Flink application cluster: a FlinkDeployment with its job
//! (application mode). The cluster's parameters, rules and render are the
//! session cluster's; the job's come from [`crate::catalog::jobs`].

use super::{
    CLUSTER, DEFINITION as SESSION, FEATURE_GROUPS, HA_INGRESS_HIVE, IMAGE_AND_LIBRARIES, contract,
    is_on, render, rules,
};
use crate::catalog::jobs::schedule::{SCHEDULE_PARAMS, schedule_rules};
use crate::catalog::jobs::{JOB_PARAMS, JOB_STATE, job_rules};
use crate::catalog::params::{Param, ParamGroup, concat};
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
    version_notes: SESSION.version_notes,
    dependencies: SESSION.dependencies,
    web_ui: SESSION.web_ui,
    homepage: SESSION.homepage,
    groups: APPLICATION_GROUPS,
    params: &APPLICATION_PARAMS,
    rules: application_rules,
    scope: None,
    render: render::render,
    contract: &contract::CONTRACT,
};

/// The cluster, the job, then the features the session cluster has too.
const APPLICATION_GROUPS: &[ParamGroup] = &[
    ParamGroup {
        title: "Cluster",
        first: "operator",
    },
    ParamGroup {
        title: "Job",
        first: "jarURI",
    },
    FEATURE_GROUPS[0],
    FEATURE_GROUPS[1],
    FEATURE_GROUPS[2],
    FEATURE_GROUPS[3],
];

/// The cluster's fields, then the job's with its periodic savepoints, then
/// HA, ingress and Hive, then the image.
static APPLICATION_PARAMS: [Param; 30] = concat(&[
    CLUSTER,
    JOB_PARAMS,
    &[JOB_STATE],
    &SCHEDULE_PARAMS,
    HA_INGRESS_HIVE,
    IMAGE_AND_LIBRARIES,
]);

/// The session cluster's rules, and a job that keeps state or takes
/// periodic savepoints needs HA storage (its savepoint directory).
fn application_rules(version: &str, values: &Values) -> FieldErrors {
    let storage = is_on(values, "highAvailability");
    let enable = "turn high availability on";
    let mut errors = job_rules(values, storage, enable);
    errors.extend(schedule_rules(values, storage, enable));
    errors.extend(rules(version, values));
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::params::{EXAMPLE_JAR, raw};

    #[test]
    fn savepoint_without_ha_is_refused_next_to_the_upgrade_mode() {
        let form = raw(&[
            ("operator", "op"),
            ("jarURI", EXAMPLE_JAR),
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

    #[test]
    fn periodic_savepoints_without_ha_are_refused_next_to_the_interval() {
        let form = raw(&[
            ("operator", "op"),
            ("jarURI", EXAMPLE_JAR),
            ("periodicSavepointInterval", "30 s"),
            ("savepointHistoryMaxCount", "2"),
        ]);
        let errors = DEFINITION.validate("1.20", &form).unwrap_err();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            ["periodicSavepointInterval"]
        );
        assert_eq!(
            errors["periodicSavepointInterval"],
            "Periodic savepoints need a savepoint directory: turn high availability on, or \
             leave this empty"
        );
        let mut with_ha = form.clone();
        with_ha.extend(raw(&[("highAvailability", "on"), ("minio", "minio")]));
        let values = DEFINITION.validate("1.20", &with_ha).unwrap();
        assert_eq!(values["periodicSavepointInterval"], "30 s");
    }
}
