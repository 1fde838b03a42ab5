//! The operator's account and its rights, as the chart grants them when it
//! is given a list of namespaces to watch.
//!
//! Source: flink-kubernetes-operator release-1.15.0,
//! `helm/flink-kubernetes-operator/templates/rbac/_helpers.tpl`
//! (`flink-operator.rbacRules`), `templates/rbac/role.yaml`,
//! `templates/rbac/role_binding.yaml`. The chart's cluster-wide variant
//! (ClusterRole, no namespace list) is not offered: dataport always names the
//! namespaces. Nor is the chart's per-namespace `flink` job account: each
//! Flink instance renders its own account and role.

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};

use crate::catalog::render::{Object, RenderError, RenderInput, object};

/// Every verb of the chart's object rules.
const ALL: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// `(api groups, resources, verbs)`.
pub type Rule = (
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// The chart's operator rules, granted in each watched namespace.
pub const OPERATOR_RULES: &[Rule] = &[
    (
        &[""],
        &["pods", "services", "events", "configmaps", "secrets"],
        &[
            "get",
            "list",
            "watch",
            "create",
            "update",
            "patch",
            "delete",
            "deletecollection",
        ],
    ),
    (
        &["apps"],
        &["deployments", "deployments/finalizers", "replicasets"],
        ALL,
    ),
    (
        &["apps"],
        &["deployments/scale"],
        &["get", "update", "patch"],
    ),
    (&["extensions"], &["deployments", "ingresses"], ALL),
    (
        &["flink.apache.org"],
        &[
            "flinkbluegreendeployments",
            "flinkbluegreendeployments/finalizers",
            "flinkdeployments",
            "flinkdeployments/finalizers",
            "flinksessionjobs",
            "flinksessionjobs/finalizers",
            "flinkstatesnapshots",
            "flinkstatesnapshots/finalizers",
        ],
        ALL,
    ),
    (
        &["flink.apache.org"],
        &[
            "flinkbluegreendeployments/status",
            "flinkdeployments/status",
            "flinksessionjobs/status",
            "flinkstatesnapshots/status",
        ],
        &["get", "update", "patch"],
    ),
    (&["networking.k8s.io"], &["ingresses"], ALL),
    (&["coordination.k8s.io"], &["leases"], ALL),
];

/// The chart's rules in the operator's own namespace when it does not watch
/// it: its leader-election Lease, and the FlinkStateSnapshot list it runs at
/// start to see whether that CRD is installed.
pub const OWN_NAMESPACE_RULES: &[Rule] = &[
    (&["coordination.k8s.io"], &["leases"], ALL),
    (&["flink.apache.org"], &["flinkstatesnapshots"], &["list"]),
];

/// The name of the Role and RoleBinding in `namespace`: the instance's name
/// in its own namespace; elsewhere `<name>.<own namespace>`, which no
/// dataport instance's object can carry (names are DNS labels), so that two
/// operators' grants in one namespace never collide.
pub fn grant_name(input: &RenderInput, namespace: &str) -> String {
    let target = &input.target;
    if namespace == target.namespace {
        target.name.clone()
    } else {
        format!("{}.{}", target.name, target.namespace)
    }
}

/// The ServiceAccount `<name>`, and in each watched namespace a Role with
/// [`OPERATOR_RULES`] bound to it; in its own namespace, when not watched, a
/// Role with [`OWN_NAMESPACE_RULES`].
pub fn render(input: &RenderInput, watched: &[String]) -> Result<Vec<Object>, RenderError> {
    let account = &input.target.name;
    let own = &input.target.namespace;
    let mut objects = vec![object(&ServiceAccount {
        metadata: input.metadata(account.clone()),
        ..ServiceAccount::default()
    })?];
    let mut grants: Vec<(&str, &[Rule])> = watched
        .iter()
        .map(|namespace| (namespace.as_str(), OPERATOR_RULES))
        .collect();
    if !watched.contains(own) {
        grants.push((own.as_str(), OWN_NAMESPACE_RULES));
    }
    for (namespace, rules) in grants {
        let name = grant_name(input, namespace);
        let mut metadata = input.metadata(name.clone());
        metadata.namespace = Some(namespace.to_owned());
        objects.push(object(&Role {
            metadata: metadata.clone(),
            rules: Some(rules.iter().map(policy_rule).collect()),
        })?);
        objects.push(object(&RoleBinding {
            metadata,
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".into(),
                kind: "Role".into(),
                name,
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".into(),
                name: account.clone(),
                namespace: Some(own.clone()),
                ..Subject::default()
            }]),
        })?);
    }
    Ok(objects)
}

fn policy_rule((groups, resources, verbs): &Rule) -> PolicyRule {
    let strings = |items: &[&str]| items.iter().map(|item| (*item).to_owned()).collect();
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        ..PolicyRule::default()
    }
}
