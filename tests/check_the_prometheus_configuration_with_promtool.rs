//! Prometheus's own checker, `promtool check config`, accepts the scrape
//! configuration dataport renders for its Prometheus app (its own namespace,
//! and a list of watched namespaces), and refuses it once broken: the check
//! is Prometheus's, not a look at the text.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::render::INSTANCE_ID;
use dataport::catalog::{
    self,
    render::{RenderInput, Target},
};

/// The `prometheus.yml` of the prometheus app rendered from `form` (as
/// instance `prometheus-main` in `data`; its Roles may be elsewhere, so the
/// render is the catalog's own, without the one-namespace rule of
/// `common::render`).
fn rendered_configuration(form: &[(&str, &str)]) -> String {
    let definition = catalog::find("prometheus").expect("the prometheus app");
    let raw: BTreeMap<String, String> = form
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let values = definition
        .validate(definition.default_version(), &raw)
        .expect("a valid form");
    let input = RenderInput {
        target: Target {
            id: INSTANCE_ID,
            app: definition.name,
            name: "prometheus-main".into(),
            namespace: "data".into(),
            version: definition.default_version().into(),
        },
        values,
        references: BTreeMap::new(),
    };
    let objects = (definition.render)(&input).expect("rendered");
    let config = objects
        .iter()
        .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == "prometheus-main-config")
        .expect("the configuration's ConfigMap");
    config["data"]["prometheus.yml"]
        .as_str()
        .expect("prometheus.yml")
        .to_owned()
}

/// `promtool check config` of `text`: whether it passed, and what it said.
fn check(promtool: &Path, text: &str) -> (bool, String) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let file = dir.path().join("prometheus.yml");
    std::fs::write(&file, text).expect("write prometheus.yml");
    let output = Command::new(promtool)
        .args(["check", "config"])
        .arg(&file)
        .output()
        .expect("run promtool");
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn promtool_accepts_the_rendered_scrape_configuration() {
    let promtool = common::prometheus::built().join("promtool");
    for form in [vec![], vec![("watchedNamespaces", "data, analytics")]] {
        let text = rendered_configuration(&form);
        let (passed, said) = check(&promtool, &text);
        assert!(passed, "promtool refused {form:?}:\n{said}\n{text}");
        assert!(said.contains("SUCCESS"), "{said}");
    }
}

#[test]
fn promtool_refuses_the_configuration_once_broken() {
    let promtool = common::prometheus::built().join("promtool");
    let text = rendered_configuration(&[]);
    // A role kubernetes_sd_configs does not have.
    let broken = text.replace("role: pod", "role: pods");
    assert_ne!(broken, text);
    let (passed, said) = check(&promtool, &broken);
    assert!(!passed, "promtool accepted a pods role:\n{said}");
}
