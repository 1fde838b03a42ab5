use std::net::{IpAddr, Ipv4Addr};

use serde_json::{Value, json};

use super::*;

/// A session cluster that passes every rule.
fn session() -> Value {
    json!({
        "image": "flink:1.20",
        "flinkVersion": "v1_20",
        "serviceAccount": "flink",
        "jobManager": {"replicas": 1, "resource": {"memory": "2048m", "cpu": 1}},
        "taskManager": {"resource": {"memory": "2g", "cpu": 1}},
        "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "2"},
    })
}

fn application() -> Value {
    let mut spec = session();
    spec["job"] = json!({"jarURI": "local:///opt/flink/examples/streaming/StateMachineExample.jar", "parallelism": 2, "upgradeMode": "stateless"});
    spec
}

fn check(spec: &Value) -> Result<(), String> {
    validate_deployment("analytics", spec, None, &flat_configuration(spec))
}

fn error_of(spec: &Value) -> String {
    check(spec).unwrap_err()
}

#[test]
fn a_complete_session_and_application_pass() {
    assert_eq!(check(&session()), Ok(()));
    assert_eq!(check(&application()), Ok(()));
}

#[test]
fn names_follow_the_cluster_id_rule() {
    for good in ["a", "analytics", "abc-123", &"a".repeat(45)] {
        assert_eq!(validate_deployment_name(good), Ok(()), "{good}");
    }
    for bad in ["", "1abc", "Abc", "abc-", "a_b", &"a".repeat(46)] {
        let message = validate_deployment_name(bad).unwrap_err();
        assert_eq!(
            message,
            format!(
                "The FlinkDeployment name: {bad} is invalid, must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123'), and the length must be no more than 45 characters."
            )
        );
    }
}

#[test]
fn the_flink_version_is_required_and_at_least_1_15() {
    let mut spec = session();
    spec.as_object_mut().unwrap().remove("flinkVersion");
    assert_eq!(error_of(&spec), "Flink Version must be defined.");
    spec["flinkVersion"] = json!("v1_14");
    assert_eq!(
        error_of(&spec),
        "Flink version v1_14 is not supported by this operator version"
    );
    for version in ["v1_15", "v1_18", "v2_2", "v2_4"] {
        spec["flinkVersion"] = json!(version);
        assert_eq!(check(&spec), Ok(()), "{version}");
    }
}

#[test]
fn keys_the_operator_sets_are_forbidden() {
    for key in FORBIDDEN_KEYS {
        let mut spec = session();
        spec["flinkConfiguration"][key] = json!("mine");
        assert_eq!(
            error_of(&spec),
            format!("Forbidden Flink config key: {key}")
        );
    }
    // Nested YAML keys are the same keys.
    let mut spec = session();
    spec["flinkConfiguration"]["kubernetes"] = json!({"cluster-id": "x"});
    assert_eq!(
        error_of(&spec),
        "Forbidden Flink config key: kubernetes.cluster-id"
    );
}

#[test]
fn rollback_and_standby_job_managers_need_high_availability() {
    let mut spec = session();
    spec["flinkConfiguration"]["kubernetes.operator.deployment.rollback.enabled"] = json!("true");
    assert_eq!(error_of(&spec), "HA must be enabled for rollback support.");
    spec["flinkConfiguration"]["high-availability.type"] = json!("kubernetes");
    assert_eq!(check(&spec), Ok(()));

    let mut spec = session();
    spec["jobManager"]["replicas"] = json!(2);
    assert_eq!(
        error_of(&spec),
        "High availability should be enabled when starting standby JobManagers."
    );
    spec["jobManager"]["replicas"] = json!(0);
    assert_eq!(
        error_of(&spec),
        "JobManager replicas should not be configured less than one."
    );
}

#[test]
fn ingress_needs_a_template_that_forms_a_url() {
    let mut spec = session();
    spec["ingress"] = json!({"className": "nginx"});
    assert_eq!(error_of(&spec), "Ingress template must be defined");
    spec["ingress"] = json!({"template": "{{name}}.{{namespace}}.flink.example.com"});
    assert_eq!(check(&spec), Ok(()));
    spec["ingress"] = json!({"template": "http://[bad/{{name}}"});
    assert!(
        error_of(&spec).starts_with("Unable to process the Ingress template(http://[bad/{{name}})"),
        "{}",
        error_of(&spec)
    );
}

#[test]
fn only_the_console_log_files_may_be_given() {
    let mut spec = session();
    spec["logConfiguration"] = json!({"log4j-console.properties": "rootLogger.level = INFO"});
    assert_eq!(check(&spec), Ok(()));
    spec["logConfiguration"] = json!({"log4j.properties": "x"});
    assert_eq!(
        error_of(&spec),
        "Invalid log config key: log4j.properties. Allowed keys are [log4j-console.properties, logback-console.xml]"
    );
}

#[test]
fn stateful_upgrade_modes_need_their_directories_under_either_key_name() {
    let mut spec = application();
    spec["job"]["upgradeMode"] = json!("last-state");
    assert_eq!(
        error_of(&spec),
        "Checkpoint directory[execution.checkpointing.dir] must be defined for last-state and savepoint upgrade modes"
    );
    spec["flinkConfiguration"]["state.checkpoints.dir"] = json!("s3://flink/checkpoints");
    assert_eq!(check(&spec), Ok(()), "the deprecated key counts");

    spec["job"]["upgradeMode"] = json!("savepoint");
    assert_eq!(
        error_of(&spec),
        "Job could not be upgraded with savepoint while config key[execution.checkpointing.savepoint-dir] is not set"
    );
    spec["flinkConfiguration"]["execution.checkpointing.savepoint-dir"] =
        json!("s3://flink/savepoints");
    assert_eq!(check(&spec), Ok(()));

    let mut spec = application();
    spec["job"]["savepointTriggerNonce"] = json!(1);
    assert_eq!(
        error_of(&spec),
        "Savepoint could not be manually triggered for the running job while config key[execution.checkpointing.savepoint-dir] is not set"
    );
}

#[test]
fn an_application_needs_task_managers_or_a_parallelism() {
    let mut spec = application();
    spec["job"].as_object_mut().unwrap().remove("parallelism");
    assert_eq!(error_of(&spec), "Job parallelism must be larger than 0");
    spec["taskManager"]["replicas"] = json!(2);
    assert_eq!(check(&spec), Ok(()));
    spec["taskManager"]["replicas"] = json!(0);
    assert_eq!(
        error_of(&spec),
        "TaskManager replicas must be larger than 0"
    );
}

#[test]
fn memory_is_given_and_parses_or_derives_from_the_configuration() {
    let mut spec = session();
    spec["jobManager"]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("memory");
    assert_eq!(
        error_of(&spec),
        "JobManager resource memory must be defined using `spec.jobManager.resource.memory`"
    );
    spec["flinkConfiguration"]["jobmanager.memory.process.size"] = json!("1600m");
    assert_eq!(check(&spec), Ok(()));

    let mut spec = session();
    spec["taskManager"]["resource"]["memory"] = json!("2 parsecs");
    assert_eq!(
        error_of(&spec),
        "TaskManager resource memory parse error: Memory size unit 'parsecs' does not match any of the recognized units: (b | bytes) / (k | kb | kibibytes) / (m | mb | mebibytes) / (g | gb | gibibytes) / (t | tb | tebibytes)"
    );
    spec["taskManager"]["resource"]["memory"] = json!("lots");
    assert_eq!(
        error_of(&spec),
        "TaskManager resource memory parse error: text does not start with a number"
    );
}

#[test]
fn memory_sizes_parse_as_flink_and_kubernetes_write_them() {
    assert_eq!(parse_memory("2048m"), Ok(2048 << 20));
    assert_eq!(parse_memory("2g"), Ok(2 << 30));
    assert_eq!(parse_memory("2G"), Ok(2 << 30));
    assert_eq!(parse_memory("1Gi"), Ok(1 << 30));
    assert_eq!(parse_memory("512Mi"), Ok(512 << 20));
    assert_eq!(parse_memory("1024 mb"), Ok(1 << 30));
    assert_eq!(parse_memory("4096"), Ok(4096));
}

#[test]
fn a_deployed_cluster_cannot_change_its_kind() {
    let configuration = flat_configuration(&session());
    let switch = |last: &Value, next: &Value| {
        validate_deployment("analytics", next, Some(last), &configuration)
    };
    assert_eq!(
        switch(&session(), &application()).unwrap_err(),
        "Cannot switch from session to job cluster"
    );
    assert_eq!(
        switch(&application(), &session()).unwrap_err(),
        "Cannot switch from job to session cluster"
    );
    let mut standalone = session();
    standalone["mode"] = json!("standalone");
    assert_eq!(
        switch(&session(), &standalone).unwrap_err(),
        "Cannot switch from native kubernetes to standalone kubernetes cluster"
    );
    assert_eq!(
        switch(&standalone, &session()).unwrap_err(),
        "Cannot switch from standalone kubernetes to native kubernetes cluster"
    );
}

#[test]
fn a_service_account_is_required() {
    let mut spec = session();
    spec.as_object_mut().unwrap().remove("serviceAccount");
    assert_eq!(
        error_of(&spec),
        "spec.serviceAccount must be defined. If you use helm, its value should be the same with the name of jobServiceAccount."
    );
}

fn public(_: &str) -> Option<Vec<IpAddr>> {
    Some(vec![IpAddr::V4(Ipv4Addr::new(151, 101, 2, 132))])
}

fn private(_: &str) -> Option<Vec<IpAddr>> {
    Some(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7))])
}

fn nowhere(_: &str) -> Option<Vec<IpAddr>> {
    None
}

fn session_job(jar: &str) -> Value {
    json!({"deploymentName": "analytics", "job": {"jarURI": jar, "parallelism": 1, "upgradeMode": "stateless"}})
}

#[test]
fn jar_uris_need_an_allowed_scheme_and_a_public_host() {
    let rules = JarRules::default();
    let jar = |uri: &str, resolve: Resolve| validate_jar_uri(uri, &rules, resolve);
    assert_eq!(jar("https://repo.example.org/job.jar", &public), Ok(()));
    assert_eq!(
        jar("local:///opt/flink/job.jar", &public).unwrap_err(),
        "jarURI scheme 'local' is not in the allowlist [https]. Configure 'kubernetes.operator.user.artifacts.allowed-schemes' to extend the allowlist."
    );
    assert_eq!(
        jar("job.jar", &public).unwrap_err(),
        "jarURI must include a scheme"
    );
    assert_eq!(
        jar("https://minio.data.svc/job.jar", &private).unwrap_err(),
        "jarURI host 'minio.data.svc' resolves to a restricted address"
    );
    assert_eq!(
        jar("https://127.0.0.1/job.jar", &public).unwrap_err(),
        "jarURI host '127.0.0.1' resolves to a restricted address"
    );
    assert_eq!(
        jar("https://nowhere.invalid/job.jar", &nowhere).unwrap_err(),
        "jarURI host 'nowhere.invalid' cannot be resolved"
    );

    let open = JarRules {
        allowed_schemes: vec!["HTTPS".into(), "s3".into(), "http".into()],
        disallow_restricted_hosts: false,
    };
    assert_eq!(
        validate_jar_uri("S3://flink/job.jar", &open, &nowhere),
        Ok(())
    );
    assert_eq!(
        validate_jar_uri("http://minio.data.svc/job.jar", &open, &private),
        Ok(())
    );
    assert_eq!(
        validate_jar_uri("local:///job.jar", &open, &nowhere).unwrap_err(),
        "jarURI scheme 'local' is not in the allowlist [https, s3, http]. Configure 'kubernetes.operator.user.artifacts.allowed-schemes' to extend the allowlist."
    );
}

#[test]
fn restricted_addresses_are_javas() {
    for ip in [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.1.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fec0::1",
        "ff02::1",
    ] {
        assert!(is_restricted_ip(ip.parse().unwrap()), "{ip}");
    }
    for ip in ["8.8.8.8", "172.32.0.1", "2001:db8::1", "fc00::1"] {
        assert!(!is_restricted_ip(ip.parse().unwrap()), "{ip}");
    }
}

#[test]
fn session_jobs_go_to_session_clusters_only_and_keep_their_cluster() {
    let rules = JarRules::default();
    let spec = session_job("https://repo.example.org/job.jar");
    let session_spec = session();
    let configuration = flat_configuration(&session_spec);
    assert_eq!(
        validate_session_job(
            &spec,
            None,
            Some((&session_spec, &configuration)),
            &rules,
            &public
        ),
        Ok(())
    );
    let app = application();
    assert_eq!(
        validate_session_job(&spec, None, Some((&app, &configuration)), &rules, &public)
            .unwrap_err(),
        "Can not submit session job to application cluster"
    );
    let mut moved = spec.clone();
    moved["deploymentName"] = json!("other");
    assert_eq!(
        validate_session_job(&moved, Some(&spec), None, &rules, &public).unwrap_err(),
        "The deploymentName can't be changed"
    );
    let empty = json!({"deploymentName": "analytics"});
    assert_eq!(
        validate_session_job(&empty, None, None, &rules, &public).unwrap_err(),
        "The job spec should not be empty"
    );
    let mut savepoint = spec.clone();
    savepoint["job"]["upgradeMode"] = json!("savepoint");
    assert_eq!(
        validate_session_job(
            &savepoint,
            None,
            Some((&session_spec, &configuration)),
            &rules,
            &public
        )
        .unwrap_err(),
        "Checkpoint directory[execution.checkpointing.dir] must be defined for last-state and savepoint upgrade modes"
    );
}
