//! Reads of one FlinkDeployment or FlinkSessionJob as it is now, for the
//! operations that wait on what the Flink operator reports (a session
//! upgrade waits for its jobs to suspend, its cluster to be ready again and
//! its jobs to run).

use kube::api::Api;

use super::{Cluster, ClusterError};
use crate::crd::{FlinkDeployment, FlinkSessionJob};

impl Cluster {
    /// FlinkDeployment `name` in `namespace`, or `None` when it does not exist.
    pub async fn flink_deployment(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<FlinkDeployment>, ClusterError> {
        let api: Api<FlinkDeployment> = Api::namespaced(self.client().clone(), namespace);
        Ok(api.get_opt(name).await?)
    }

    /// FlinkSessionJob `name` in `namespace`, or `None` when it does not exist.
    pub async fn flink_session_job(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<FlinkSessionJob>, ClusterError> {
        let api: Api<FlinkSessionJob> = Api::namespaced(self.client().clone(), namespace);
        Ok(api.get_opt(name).await?)
    }
}
