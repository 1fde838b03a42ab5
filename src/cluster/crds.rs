//! `dataport crds`: the Flink CRDs, printed as YAML or installed.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};

use super::{Cluster, ClusterError};
use crate::config::CrdsArgs;
use crate::error::StartError;

/// The field manager of every object dataport applies.
pub const FIELD_MANAGER: &str = "dataport";

/// The CRDs dataport needs: the four kinds of the Flink operator.
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

/// Applies the CRDs with server-side apply and waits until they are served:
/// established, and listed by API discovery (which controllers' REST mappers
/// read; one that looks too early misses the kinds until its next refresh).
pub async fn install(cluster: &Cluster) -> Result<(), ClusterError> {
    let client = cluster.client();
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let crds = definitions();
    for crd in &crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(&name, &params, &Patch::Apply(crd)).await?;
        let established = await_condition(api.clone(), &name, conditions::is_crd_established());
        tokio::time::timeout(Duration::from_secs(30), established)
            .await
            .map_err(|_| ClusterError::Timeout(format!("CRD {name} not established")))?
            .map_err(|e| ClusterError::Timeout(format!("CRD {name}: {e}")))?;
    }
    let discovered = async {
        loop {
            if let Ok(group) = kube::discovery::group(client, GROUP).await {
                let served: Vec<String> = group
                    .recommended_resources()
                    .into_iter()
                    .map(|(resource, _)| resource.plural)
                    .collect();
                if crds
                    .iter()
                    .all(|crd| served.contains(&crd.spec.names.plural))
                {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), discovered)
        .await
        .map_err(|_| ClusterError::Timeout(format!("API discovery does not list {GROUP}")))
}

/// The API group of the Flink custom resources.
const GROUP: &str = "flink.apache.org";

/// Runs `dataport crds`.
pub async fn run(args: CrdsArgs) -> Result<(), StartError> {
    if args.install {
        let cluster = Cluster::connect_required(args.kubeconfig.as_deref()).await?;
        install(&cluster).await?;
        eprintln!("dataport: Flink CRDs installed");
    } else {
        print!("{}", yaml()?);
    }
    Ok(())
}
