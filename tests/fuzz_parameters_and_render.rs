//! Property tests over what users type: for every app, any form (typed
//! values, garbage, markup, unknown keys, any version) is either refused field
//! by field or renders objects whose names and labels Kubernetes accepts —
//! and nothing panics. The same for session jobs.

use std::collections::BTreeMap;

use dataport::catalog::jobs::{
    ArtifactRules, SessionContext, render_session_job, validate_session_job,
};
use dataport::catalog::render::{RenderInput, Resolved, Target};
use dataport::catalog::{self, ParamKind};
use dataport::crd::JobState;
use proptest::prelude::*;
use serde_json::Value;

/// What a user might type into any field.
fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("on".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        "-?[0-9]{1,20}",
        "[0-9]{1,4}(\\.[0-9]{1,3})?(m|Mi|Gi|Ti|k|M|G|Ki|Pi|Ei|e3)?",
        "[a-z][a-z0-9-]{0,70}",
        "(local|https|s3|hdfs|ftp|file)://[a-z0-9./-]{0,40}",
        "<script>alert\\(['\"]x['\"]\\)</script>",
        "\\PC{0,80}",
    ]
}

/// A Kubernetes name, as the install form's own checks let through.
fn dns_label() -> impl Strategy<Value = String> {
    "[a-z]([-a-z0-9]{0,38}[a-z0-9])?"
}

/// A value for `param`: its default, one of its kind (valid or just outside
/// its bounds), or sometimes anything at all.
fn value_for(param: &'static catalog::Param) -> BoxedStrategy<String> {
    let typed: BoxedStrategy<String> = match param.kind {
        ParamKind::Int { min, max } => ((min - 1)..=(max + 1)).prop_map(|n| n.to_string()).boxed(),
        ParamKind::Quantity { .. } => {
            proptest::sample::select(vec!["50m", "100m", "500m", "1", "2", "64", "256Mi", "768Mi", "1Gi", "2Gi", "10Gi", "200Gi", "1.5", "2Gb"])
                .prop_map(str::to_owned)
                .boxed()
        }
        ParamKind::Toggle => proptest::sample::select(vec!["on", "true", "false", ""]).prop_map(str::to_owned).boxed(),
        ParamKind::Choice { options } => {
            let values: Vec<String> = options.iter().map(|c| c.value.to_owned()).collect();
            proptest::sample::select(values).boxed()
        }
        ParamKind::Secret { .. } => "[ -~]{6,30}".boxed(),
        ParamKind::Uri { .. } => "(local:///opt/[a-z]{1,8}\\.jar|https://[a-z]{1,8}\\.example/[a-z]{1,8}\\.jar|s3:/x|job\\.jar)".boxed(),
        ParamKind::Reference { .. } => dns_label().boxed(),
        ParamKind::Text { .. } => prop_oneof![Just(String::new()), dns_label(), any_text()].boxed(),
    };
    match param.default {
        Some(default) => {
            prop_oneof![6 => Just(default.to_owned()), 6 => typed, 1 => any_text()].boxed()
        }
        None => prop_oneof![12 => typed, 1 => any_text()].boxed(),
    }
}

/// An app and a form for it: each parameter typed or left out, sometimes an unknown key.
fn app_and_form()
-> impl Strategy<Value = (&'static catalog::AppDefinition, BTreeMap<String, String>)> {
    proptest::sample::select(catalog::apps().iter().collect::<Vec<_>>()).prop_flat_map(|app| {
        let fields: Vec<BoxedStrategy<Option<(String, String)>>> = app
            .params
            .iter()
            .map(|param| {
                // Required fields are mostly filled in; optional ones often left out.
                let filled = if param.is_required() { 0.97 } else { 0.7 };
                proptest::option::weighted(
                    filled,
                    value_for(param).prop_map(move |v| (param.key.to_owned(), v)),
                )
                .boxed()
            })
            .chain([proptest::option::weighted(
                0.05,
                any_text().prop_map(|v| ("bogus".to_owned(), v)),
            )
            .boxed()])
            .collect();
        (
            Just(app),
            fields.prop_map(|fields| fields.into_iter().flatten().collect()),
        )
    })
}

fn is_label_value(value: &str) -> bool {
    value.len() <= 63
        && (value.is_empty()
            || (value.starts_with(|c: char| c.is_ascii_alphanumeric())
                && value.ends_with(|c: char| c.is_ascii_alphanumeric())
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))))
}

fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|part| {
            !part.is_empty()
                && part.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && part.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// Every object keeps Kubernetes' rules for names, namespaces and labels.
fn check_objects(objects: &[Value]) -> Result<(), TestCaseError> {
    for object in objects {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        prop_assert!(is_dns_subdomain(name), "name {name:?}");
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
        prop_assert!(is_dns_subdomain(namespace), "namespace {namespace:?}");
        for (key, value) in object["metadata"]["labels"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let value = value.as_str().unwrap_or("not a string");
            prop_assert!(is_label_value(value), "label {key}={value:?} of {name}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn any_form_is_refused_by_field_or_renders_valid_objects(
        (app, raw) in app_and_form(),
        version_pick in 0usize..5,
        name in dns_label(),
        namespace in dns_label(),
    ) {
        let version = app.versions.get(version_pick).copied().unwrap_or("9.9");
        match app.validate(version, &raw) {
            Err(errors) => prop_assert!(!errors.is_empty()),
            Ok(values) => {
                let references = app
                    .params
                    .iter()
                    .filter(|p| matches!(p.kind, ParamKind::Reference { .. }))
                    .filter_map(|p| {
                        let target = values.get(p.key)?.as_str()?.to_owned();
                        Some((p.key.to_owned(), Resolved { name: target, namespace: namespace.clone(), params: Default::default() }))
                    })
                    .collect();
                let input = RenderInput {
                    target: Target { id: uuid::Uuid::nil(), app: app.name, name, namespace, version: version.to_owned() },
                    values,
                    references,
                };
                let objects = (app.render)(&input);
                prop_assert!(objects.is_ok(), "validated but not rendered: {:?}", objects.err());
                check_objects(&objects.unwrap_or_default())?;
            }
        }
    }

    #[test]
    fn any_job_is_refused_by_field_or_renders_a_valid_session_job(
        job in "\\PC{0,50}|[a-z][a-z0-9-]{0,45}",
        raw in proptest::collection::btree_map(
            proptest::sample::select(vec!["jarURI", "entryClass", "args", "parallelism", "upgradeMode", "nope"]).prop_map(str::to_owned),
            any_text(),
            0..8,
        ),
        has_storage in any::<bool>(),
        session in dns_label(),
    ) {
        let context = SessionContext {
            has_storage,
            artifacts: ArtifactRules {
                allowed_schemes: vec!["https".into(), "local".into()],
                disallow_restricted_hosts: true,
            },
            operator: "ops/flink-operator".into(),
        };
        match validate_session_job(&job, &raw, &context) {
            Err(errors) => prop_assert!(!errors.is_empty()),
            Ok(values) => {
                let target = Target { id: uuid::Uuid::nil(), app: "flink", name: session, namespace: "data".into(), version: "1.20".into() };
                for state in [JobState::Running, JobState::Suspended] {
                    let object = render_session_job(&target, &job, &values, state);
                    prop_assert!(object.is_ok());
                    check_objects(&[object.unwrap_or_default()])?;
                }
            }
        }
    }
}
