//! `dataport crds`: the Flink CRDs, printed as YAML or installed, and the
//! install the worker runs before a flink-kubernetes-operator instance.
//!
//! Installing never makes the cluster narrower: CRDs are cluster-wide and
//! shared by every operator, so one that already keeps everything the new
//! one keeps (the same release, or a newer one) is left alone, and so is one
//! the new one would take fields away from; only a missing or strictly
//! narrower CRD, or dataport's own from an earlier release, is written
//! ([`decide`], after [`crate::crd::coverage`]).

use std::path::Path;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::wait::{await_condition, conditions};
use serde::Deserialize as _;

use super::{Cluster, ClusterError};
use crate::config::CrdsArgs;
use crate::crd::GROUP;
use crate::error::StartError;

mod decision;

pub use decision::{CrdOutcome, CrdReport, EQUAL_OR_NEWER, decide, is_own_earlier, summary};

/// The field manager of every object dataport applies.
pub const FIELD_MANAGER: &str = "dataport";

/// The CRDs dataport needs: the four kinds of the Flink operator
/// ([`crate::crd::definitions`]).
pub fn definitions() -> Vec<CustomResourceDefinition> {
    crate::crd::definitions()
}

/// The CRDs as one YAML stream.
pub fn yaml() -> Result<String, ClusterError> {
    let mut out = String::new();
    for crd in definitions() {
        out.push_str("---\n");
        out.push_str(
            &serde_yaml_ng::to_string(&crd).map_err(|e| ClusterError::Encode(e.to_string()))?,
        );
    }
    Ok(out)
}

impl Cluster {
    /// Installs dataport's Flink CRDs, never narrowing the cluster's ([`install`]).
    pub async fn ensure_flink_crds(&self) -> Result<Vec<CrdReport>, ClusterError> {
        install(self, &definitions()).await
    }

    /// Which of the CRDs `names` (e.g. `podmonitors.monitoring.coreos.com`)
    /// the cluster does not have, in the order given. Errors: the API
    /// server's refusal or unavailability.
    pub async fn missing_crds(&self, names: &[&str]) -> Result<Vec<String>, ClusterError> {
        let crds: Api<CustomResourceDefinition> = Api::all(self.client().clone());
        let mut missing = Vec::new();
        for name in names {
            if crds.get_opt(name).await?.is_none() {
                missing.push((*name).to_owned());
            }
        }
        Ok(missing)
    }
}

/// Installs each CRD as [`decide`] says: creates the missing ones (server-side
/// apply), replaces the narrower ones (whole, keeping the cluster's other
/// labels and annotations, so no field of the old schema lingers), leaves the
/// rest; then waits until all are established and listed by API discovery
/// (which controllers' REST mappers read; one that looks too early misses the
/// kinds until its next refresh).
///
/// Errors: the API server's refusal or unavailability; [`ClusterError::Timeout`]
/// after 30 s without a CRD being served.
pub async fn install(
    cluster: &Cluster,
    crds: &[CustomResourceDefinition],
) -> Result<Vec<CrdReport>, ClusterError> {
    let client = cluster.client();
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut reports = Vec::new();
    for crd in crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        let existing = api.get_opt(&name).await?;
        let outcome = decide(crd, existing.as_ref());
        let refused = |source| ClusterError::Refused {
            object: format!("CustomResourceDefinition {name}"),
            source,
        };
        match (&outcome, existing) {
            (CrdOutcome::Installed, _) => {
                let params = PatchParams::apply(FIELD_MANAGER).force();
                api.patch(&name, &params, &Patch::Apply(crd))
                    .await
                    .map_err(refused)?;
            }
            (CrdOutcome::Updated, Some(existing)) => {
                let mut replacement = crd.clone();
                let mut metadata = existing.metadata;
                for (key, value) in crd.metadata.annotations.clone().unwrap_or_default() {
                    metadata
                        .annotations
                        .get_or_insert_default()
                        .insert(key, value);
                }
                for (key, value) in crd.metadata.labels.clone().unwrap_or_default() {
                    metadata.labels.get_or_insert_default().insert(key, value);
                }
                metadata.managed_fields = None;
                replacement.metadata = metadata;
                let params = PostParams {
                    field_manager: Some(FIELD_MANAGER.to_owned()),
                    ..Default::default()
                };
                api.replace(&name, &params, &replacement)
                    .await
                    .map_err(refused)?;
            }
            _ => {}
        }
        let established = await_condition(api.clone(), &name, conditions::is_crd_established());
        tokio::time::timeout(Duration::from_secs(30), established)
            .await
            .map_err(|_| ClusterError::Timeout(format!("CRD {name} not established")))?
            .map_err(|e| ClusterError::Timeout(format!("CRD {name}: {e}")))?;
        reports.push(CrdReport { name, outcome });
    }
    served(cluster, crds).await?;
    Ok(reports)
}

/// Waits until API discovery lists every CRD's kind.
async fn served(cluster: &Cluster, crds: &[CustomResourceDefinition]) -> Result<(), ClusterError> {
    let client = cluster.client();
    let discovered = async {
        loop {
            let mut all = true;
            for crd in crds {
                let served = kube::discovery::group(client, &crd.spec.group)
                    .await
                    .map(|group| {
                        group
                            .recommended_resources()
                            .into_iter()
                            .any(|(resource, _)| resource.plural == crd.spec.names.plural)
                    })
                    .unwrap_or(false);
                all &= served;
            }
            if all {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), discovered)
        .await
        .map_err(|_| ClusterError::Timeout(format!("API discovery does not list {GROUP}")))
}

/// Reads every CRD in the `.yaml`/`.yml` files of a folder (one or more
/// documents each), in file-name order.
pub fn read_folder(dir: &Path) -> Result<Vec<CustomResourceDefinition>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    files.sort();
    let mut crds = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        for document in serde_yaml_ng::Deserializer::from_str(&text) {
            let value = serde_yaml_ng::Value::deserialize(document)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            if value.is_null() {
                continue;
            }
            let crd: CustomResourceDefinition = serde_yaml_ng::from_value(value)
                .map_err(|e| format!("{}: not a CustomResourceDefinition: {e}", file.display()))?;
            crds.push(crd);
        }
    }
    if crds.is_empty() {
        return Err(format!("{}: no CRD found", dir.display()));
    }
    Ok(crds)
}

/// Runs `dataport crds`: prints dataport's CRDs, or installs them (or those
/// of `--from DIR`) and prints each one's outcome to stderr.
pub async fn run(args: CrdsArgs) -> Result<(), StartError> {
    if !args.install {
        print!("{}", yaml()?);
        return Ok(());
    }
    let crds = match &args.from {
        Some(dir) => read_folder(dir).map_err(StartError::Refused)?,
        None => definitions(),
    };
    let cluster = Cluster::connect_required(args.kubeconfig.as_deref()).await?;
    for report in install(&cluster, &crds).await? {
        eprintln!("dataport: CRD {report}");
    }
    Ok(())
}
