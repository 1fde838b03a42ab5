//! What to do with one CRD the cluster may already have (pure): the
//! never-narrower rule of [`super::install`], and the progress note.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

use super::FIELD_MANAGER;
use crate::crd::OPERATOR_VERSION_ANNOTATION;
use crate::crd::coverage::{Loss, crd_losses, in_pod_template};

/// What installing one CRD did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrdOutcome {
    /// It was missing and is created.
    Installed,
    /// The cluster's was narrower and is replaced.
    Updated,
    /// The cluster's is kept as it is.
    LeftAlone {
        /// Why, for people.
        reason: String,
    },
}

/// One CRD's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrdReport {
    /// The CRD's name, e.g. `flinkdeployments.flink.apache.org`.
    pub name: String,
    /// What was done.
    pub outcome: CrdOutcome,
}

impl std::fmt::Display for CrdReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.outcome {
            CrdOutcome::Installed => write!(f, "{}: installed", self.name),
            CrdOutcome::Updated => write!(f, "{}: updated", self.name),
            CrdOutcome::LeftAlone { reason } => write!(f, "{}: left alone, {reason}", self.name),
        }
    }
}

/// Why the cluster's CRD is kept when it already keeps all the wanted one keeps.
pub const EQUAL_OR_NEWER: &str = "the cluster's keeps everything this one keeps (equal or newer)";

/// What to do with one wanted CRD, given the cluster's (pure).
///
/// Missing: install. The cluster's keeps all the wanted one keeps: leave it
/// ([`EQUAL_OR_NEWER`]). The cluster's is dataport's own from an earlier
/// operator release ([`is_own_earlier`]): update it, dataport's CRD
/// follows dataport. The wanted one would drop something the cluster's keeps:
/// leave it and name what. Else (the cluster's is strictly narrower): update.
/// Differences inside pod templates do not count as kept by the wanted CRD
/// ([`in_pod_template`]): dataport's leaves them open.
pub fn decide(
    wanted: &CustomResourceDefinition,
    existing: Option<&CustomResourceDefinition>,
) -> CrdOutcome {
    let Some(existing) = existing else {
        return CrdOutcome::Installed;
    };
    let existing_loses: Vec<Loss> = crd_losses(wanted, existing)
        .into_iter()
        .filter(|loss| !in_pod_template(loss))
        .collect();
    if existing_loses.is_empty() {
        return CrdOutcome::LeftAlone {
            reason: EQUAL_OR_NEWER.to_owned(),
        };
    }
    let wanted_loses = crd_losses(existing, wanted);
    if wanted_loses.is_empty() || is_own_earlier(existing, wanted) {
        return CrdOutcome::Updated;
    }
    let shown: Vec<String> = wanted_loses.iter().take(3).map(Loss::to_string).collect();
    let more = match wanted_loses.len() {
        n if n > 3 => format!(" and {} more", n - 3),
        _ => String::new(),
    };
    CrdOutcome::LeftAlone {
        reason: format!(
            "installing would drop what the cluster's keeps ({}{more})",
            shown.join("; ")
        ),
    }
}

/// Whether `existing` is a CRD dataport installed for an operator release
/// earlier than `wanted`'s: it carries [`OPERATOR_VERSION_ANNOTATION`] with
/// an earlier release, or (dataport before that annotation) it has
/// no such annotation and every field manager of it (but the API server's of
/// its status) is [`FIELD_MANAGER`].
pub fn is_own_earlier(
    existing: &CustomResourceDefinition,
    wanted: &CustomResourceDefinition,
) -> bool {
    let release = |crd: &CustomResourceDefinition| {
        crd.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(OPERATOR_VERSION_ANNOTATION))
            .map(|v| release_numbers(v))
    };
    match (release(existing), release(wanted)) {
        (Some(existing), Some(wanted)) => existing < wanted,
        (Some(_), None) => false,
        (None, _) => {
            // The API server manages the status (subresource `status`) itself.
            let managers: Vec<Option<&str>> = existing
                .metadata
                .managed_fields
                .iter()
                .flatten()
                .filter(|f| f.subresource.as_deref().unwrap_or_default().is_empty())
                .map(|f| f.manager.as_deref())
                .collect();
            !managers.is_empty() && managers.iter().all(|m| *m == Some(FIELD_MANAGER))
        }
    }
}

/// `1.15.0` → `[1, 15, 0]`; parts that are not numbers count as 0.
fn release_numbers(version: &str) -> Vec<u64> {
    version
        .split('.')
        .map(|part| part.trim().parse().unwrap_or(0))
        .collect()
}

/// A one-line summary of an install, for an operation's progress note:
/// `Flink CRDs: 4 installed`, `Flink CRDs: left as they are (the cluster's
/// are equal or newer)`, or a count per outcome.
pub fn summary(reports: &[CrdReport]) -> String {
    let count =
        |wanted: fn(&CrdOutcome) -> bool| reports.iter().filter(|r| wanted(&r.outcome)).count();
    let equal =
        |o: &CrdOutcome| matches!(o, CrdOutcome::LeftAlone { reason } if reason == EQUAL_OR_NEWER);
    if !reports.is_empty() && count(equal) == reports.len() {
        return "Flink CRDs: left as they are (the cluster's are equal or newer)".to_owned();
    }
    let mut parts = Vec::new();
    let installed = count(|o| *o == CrdOutcome::Installed);
    if installed > 0 {
        parts.push(format!("{installed} installed"));
    }
    let updated = count(|o| *o == CrdOutcome::Updated);
    if updated > 0 {
        parts.push(format!("{updated} updated"));
    }
    let kept = count(equal);
    if kept > 0 {
        parts.push(format!("{kept} left as they are (equal or newer)"));
    }
    for report in reports {
        if let CrdOutcome::LeftAlone { reason } = &report.outcome
            && reason != EQUAL_OR_NEWER
        {
            parts.push(format!("{} left alone: {reason}", report.name));
        }
    }
    format!("Flink CRDs: {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::{definitions, read_folder};
    use super::*;

    fn official() -> Vec<CustomResourceDefinition> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/upstream/flink-kubernetes-operator-1.15.0/crds");
        read_folder(&dir).unwrap()
    }

    fn by_name<'a>(
        crds: &'a [CustomResourceDefinition],
        name: &str,
    ) -> &'a CustomResourceDefinition {
        crds.iter()
            .find(|crd| crd.metadata.name.as_deref() == Some(name))
            .unwrap()
    }

    #[test]
    fn dataports_crds_leave_the_operators_alone_and_the_other_way_round() {
        let official = official();
        assert_eq!(official.len(), 4);
        for ours in definitions() {
            let name = ours.metadata.name.clone().unwrap();
            let theirs = by_name(&official, &name);
            let equal = CrdOutcome::LeftAlone {
                reason: EQUAL_OR_NEWER.to_owned(),
            };
            assert_eq!(decide(&ours, Some(theirs)), equal, "{name}");
            assert_eq!(decide(theirs, Some(&ours)), equal, "{name}");
            assert_eq!(decide(&ours, None), CrdOutcome::Installed);
        }
    }

    #[test]
    fn a_narrower_crd_is_updated_and_a_wider_one_left_alone_with_the_reason() {
        let ours = by_name(&definitions(), "flinksessionjobs.flink.apache.org").clone();
        let mut narrower = serde_json::to_value(&ours).unwrap();
        let status = &mut narrower["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
            ["status"]["properties"];
        status
            .as_object_mut()
            .unwrap()
            .remove("reconciliationStatus");
        let narrower: CustomResourceDefinition = serde_json::from_value(narrower).unwrap();
        assert_eq!(decide(&ours, Some(&narrower)), CrdOutcome::Updated);

        let mut other = serde_json::to_value(&narrower).unwrap();
        other["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
            ["extra"] = serde_json::json!({"type": "string"});
        let other: CustomResourceDefinition = serde_json::from_value(other).unwrap();
        let CrdOutcome::LeftAlone { reason } = decide(&ours, Some(&other)) else {
            panic!("a CRD with a field dataport's lacks must be left alone");
        };
        assert!(reason.contains("v1beta1.spec.extra: pruned"), "{reason}");
    }

    #[test]
    fn dataports_own_earlier_crd_is_updated_even_where_it_was_open() {
        let ours = by_name(&definitions(), "flinkdeployments.flink.apache.org").clone();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let old = read_folder(&fixture).unwrap();
        let mut old = by_name(&old, "flinkdeployments.flink.apache.org").clone();
        let CrdOutcome::LeftAlone { reason } = decide(&ours, Some(&old)) else {
            panic!("without a sign of dataport, an open savepointInfo must not be narrowed");
        };
        assert!(reason.contains("savepointInfo"), "{reason}");
        old.metadata.managed_fields = Some(vec![
            k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry {
                manager: Some(FIELD_MANAGER.into()),
                operation: Some("Apply".into()),
                ..Default::default()
            },
        ]);
        assert_eq!(decide(&ours, Some(&old)), CrdOutcome::Updated);

        let mut newer = old.clone();
        newer.metadata.annotations =
            Some([(OPERATOR_VERSION_ANNOTATION.to_owned(), "1.16.0".to_owned())].into());
        assert!(matches!(
            decide(&ours, Some(&newer)),
            CrdOutcome::LeftAlone { .. }
        ));
    }

    #[test]
    fn the_summary_counts_what_was_done() {
        let report = |outcome| CrdReport {
            name: "flinkdeployments.flink.apache.org".into(),
            outcome,
        };
        let kept = || {
            report(CrdOutcome::LeftAlone {
                reason: EQUAL_OR_NEWER.into(),
            })
        };
        assert_eq!(
            summary(&[report(CrdOutcome::Installed), report(CrdOutcome::Installed)]),
            "Flink CRDs: 2 installed"
        );
        assert_eq!(
            summary(&[kept(), kept()]),
            "Flink CRDs: left as they are (the cluster's are equal or newer)"
        );
        assert_eq!(
            summary(&[report(CrdOutcome::Updated), kept()]),
            "Flink CRDs: 1 updated, 1 left as they are (equal or newer)"
        );
    }
}
