//! Events: the operator's own (core/v1 Events, component `Operator`, written
//! with the operator's credentials as `EventRecorder` does) and the
//! simulator's reports of what stops a simulated operator (written with the
//! simulator's admin credentials, so that an operator without rights is
//! still reported, never silently).

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use k8s_openapi::api::core::v1::{Event, ObjectReference};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Client, Resource};
use serde_json::json;

/// Component of the simulator's own reports.
pub const SIMULATOR_COMPONENT: &str = "dataport-simulator";

/// Reason of the simulator's reports on an operator Deployment.
pub const REPORT_REASON: &str = "SimulatedOperatorFailed";

/// A reference to `object` for an Event's `involvedObject`.
pub fn reference<K: Resource<DynamicType = ()>>(object: &K) -> ObjectReference {
    ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(K::kind(&()).into_owned()),
        name: object.meta().name.clone(),
        namespace: object.meta().namespace.clone(),
        uid: object.meta().uid.clone(),
        resource_version: object.meta().resource_version.clone(),
        ..ObjectReference::default()
    }
}

/// Records an Event on `object` as `component`; the same event again bumps
/// its `count` (as `EventUtils.createOrUpdateEvent` does).
pub async fn record(
    client: &Client,
    object: &ObjectReference,
    kind: &str,
    reason: &str,
    message: &str,
    component: &str,
) -> Result<(), kube::Error> {
    let namespace = object.namespace.clone().unwrap_or_else(|| "default".into());
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (&object.uid, &object.name, kind, reason, message, component).hash(&mut hasher);
    let name = format!(
        "{}.{:016x}",
        object.name.as_deref().unwrap_or("object"),
        hasher.finish()
    );
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let events: Api<Event> = Api::namespaced(client.clone(), &namespace);
    let event: Event = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": object,
        "type": kind,
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "reportingComponent": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }))
    .map_err(kube::Error::SerdeError)?;
    match events.create(&PostParams::default(), &event).await {
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let count = events.get(&name).await?.count.unwrap_or(1);
            events
                .patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"count": count + 1, "lastTimestamp": now})),
                )
                .await?;
            Ok(())
        }
        other => other.map(|_| ()),
    }
}

/// The simulator's reports about one simulated operator: logged, and a
/// Warning Event on its Deployment (and on the resource concerned), once
/// per distinct message.
pub struct Reporter {
    admin: Client,
    deployment: ObjectReference,
    seen: Mutex<HashSet<String>>,
}

impl Reporter {
    /// Reports about the operator of `deployment`, written with `admin`.
    pub fn new<K: Resource<DynamicType = ()>>(admin: Client, deployment: &K) -> Reporter {
        Reporter {
            admin,
            deployment: reference(deployment),
            seen: Mutex::new(HashSet::new()),
        }
    }

    /// The operator Deployment's `namespace/name`.
    pub fn operator(&self) -> String {
        format!(
            "{}/{}",
            self.deployment.namespace.as_deref().unwrap_or_default(),
            self.deployment.name.as_deref().unwrap_or_default()
        )
    }

    /// Reports `message` (about `object`, if any); repeats are only logged at debug level.
    pub async fn report(&self, object: Option<&ObjectReference>, message: &str) {
        let first = self
            .seen
            .lock()
            .map(|mut seen| seen.insert(message.to_owned()))
            .unwrap_or(true);
        if !first {
            tracing::debug!(operator = %self.operator(), %message, "simulated operator (again)");
            return;
        }
        tracing::warn!(operator = %self.operator(), %message, "simulated operator");
        let text = format!("simulated flink-kubernetes-operator: {message}");
        let targets = std::iter::once(&self.deployment).chain(object);
        for target in targets {
            if let Err(error) = record(
                &self.admin,
                target,
                "Warning",
                REPORT_REASON,
                &text,
                SIMULATOR_COMPONENT,
            )
            .await
            {
                tracing::warn!(%error, "could not record the report as an Event");
            }
        }
    }

    /// Forgets what was reported, so that a failure that comes back is reported again.
    pub fn clear(&self) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.clear();
        }
    }
}
