//! Typed install parameters: one schema per app drives the HTML form, the
//! server-side validation and the JSON Schema of the API.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::quantity::QuantityKind;

mod service_address;
mod validate;

pub use service_address::{ServiceAddress, parse_namespaced_name, parse_service};
pub use validate::{
    DNS_LABEL_PATTERN, INSTANCE_NAME_MAX, SECRET_MAX_CHARS, is_dns_label, reference_target,
    reference_value, validate, with_rule_errors,
};
use validate::{normalize_toggle, scheme_list};

/// One choice of a [`ParamKind::Choice`].
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Choice {
    /// The value submitted and stored.
    pub value: &'static str,
    /// What the form shows.
    pub label: &'static str,
}

/// The type of a parameter, with its bounds.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ParamKind {
    /// Free text up to `max_len` characters.
    Text {
        /// Longest accepted text.
        max_len: usize,
    },
    /// A whole number within bounds.
    Int {
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
    /// A Kubernetes quantity within bounds (themselves quantities).
    Quantity {
        /// CPU or memory.
        #[serde(skip)]
        kind: QuantityKind,
        /// Smallest accepted, e.g. `100m` or `512Mi`.
        min: &'static str,
        /// Largest accepted.
        max: &'static str,
    },
    /// On or off; may reveal other fields.
    Toggle,
    /// One of a fixed list.
    Choice {
        /// The choices, the default first.
        options: &'static [Choice],
    },
    /// A value that is written, never shown again (generated when left empty):
    /// it goes straight into key `key` of the instance's Secret
    /// `<instance>-<secret>`, never into the store.
    Secret {
        /// Suffix of the Secret's name after the instance name.
        secret: &'static str,
        /// Key in the Secret.
        key: &'static str,
    },
    /// An absolute URI with one of `schemes` (e.g. a job's JAR), up to `max_len`.
    Uri {
        /// Accepted schemes, without `://`.
        schemes: &'static [&'static str],
        /// Longest accepted URI.
        max_len: usize,
        /// It names a file (a JAR): a path is required. A web address
        /// (`false`) may be a bare host.
        file: bool,
    },
    /// An instance of another app: `name` in the same namespace, or
    /// `namespace/name` in another namespace that instance serves (see
    /// [`crate::catalog::NamespaceScope`]).
    Reference {
        /// The app referred to.
        app: &'static str,
    },
}

/// When a field is shown (and validated): every `(key, value)` holds.
pub type ShownWhen = &'static [(&'static str, &'static str)];

/// One install parameter.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Param {
    /// Key in the parameters object and name of the form field.
    pub key: &'static str,
    /// Label on the form.
    pub label: &'static str,
    /// Help text under the field.
    pub help: &'static str,
    /// Type and bounds.
    pub kind: ParamKind,
    /// Value used when the field is left empty.
    pub default: Option<&'static str>,
    /// Shown (and required, when it has no default) only when these hold.
    pub shown_when: ShownWhen,
}

impl Param {
    /// CPU per pod, from 100m to 32 cores.
    pub const fn cpu(
        key: &'static str,
        label: &'static str,
        default: &'static str,
        help: &'static str,
    ) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Quantity {
                kind: QuantityKind::Cpu,
                min: "100m",
                max: "32",
            },
            default: Some(default),
            shown_when: &[],
        }
    }

    /// Memory or storage within bounds.
    pub const fn bytes(
        key: &'static str,
        label: &'static str,
        default: &'static str,
        (min, max): (&'static str, &'static str),
        help: &'static str,
    ) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Quantity {
                kind: QuantityKind::Bytes,
                min,
                max,
            },
            default: Some(default),
            shown_when: &[],
        }
    }

    /// A whole number within bounds.
    pub const fn int(
        key: &'static str,
        label: &'static str,
        default: &'static str,
        (min, max): (i64, i64),
        help: &'static str,
    ) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Int { min, max },
            default: Some(default),
            shown_when: &[],
        }
    }

    /// A switch, off by default.
    pub const fn toggle(key: &'static str, label: &'static str, help: &'static str) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Toggle,
            default: Some("false"),
            shown_when: &[],
        }
    }

    /// The name of an instance of `app`, shown when `shown_when` holds.
    pub const fn reference(
        key: &'static str,
        label: &'static str,
        app: &'static str,
        shown_when: ShownWhen,
        help: &'static str,
    ) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Reference { app },
            default: None,
            shown_when,
        }
    }

    /// A password kept in key `secret_key` of the Secret `<instance>-credentials`,
    /// generated when left empty.
    pub const fn secret(
        key: &'static str,
        label: &'static str,
        secret_key: &'static str,
        help: &'static str,
    ) -> Param {
        Param {
            key,
            label,
            help,
            kind: ParamKind::Secret {
                secret: "credentials",
                key: secret_key,
            },
            default: None,
            shown_when: &[],
        }
    }

    /// Whether the form cannot be sent with this field empty (when shown).
    pub fn is_required(&self) -> bool {
        self.default.is_none() && !matches!(self.kind, ParamKind::Secret { .. })
    }

    /// The type and bounds in a few words, for the app page.
    pub fn summary(&self) -> String {
        match self.kind {
            ParamKind::Text { max_len } => format!("text, up to {max_len} characters"),
            ParamKind::Int { min, max } => format!("whole number, {min} to {max}"),
            ParamKind::Quantity {
                kind: QuantityKind::Cpu,
                min,
                max,
            } => format!("CPU, {min} to {max}"),
            ParamKind::Quantity {
                kind: QuantityKind::Bytes,
                min,
                max,
            } => format!("size, {min} to {max}"),
            ParamKind::Toggle => "on or off".to_owned(),
            ParamKind::Choice { options } => {
                let values: Vec<_> = options.iter().map(|c| c.value).collect();
                format!("one of {}", values.join(", "))
            }
            ParamKind::Secret { .. } => {
                "password, kept in a Secret; generated when empty".to_owned()
            }
            ParamKind::Uri { schemes, .. } => format!("a URI: {}", scheme_list(schemes)),
            ParamKind::Reference { app } => format!(
                "a {app} instance: name (same namespace) or namespace/name (one serving this namespace)"
            ),
        }
    }

    /// When the field applies, in the form's words (empty when always):
    /// the labels of the fields of `all` it depends on, and a choice's
    /// label, e.g. "High availability is on and HA type is ZooKeeper".
    pub fn condition(&self, all: &[Param]) -> String {
        self.shown_when
            .iter()
            .map(|(key, value)| {
                let other = all.iter().find(|p| p.key == *key);
                let label = other.map_or(*key, |p| p.label);
                let choice = match other.map(|p| p.kind) {
                    Some(ParamKind::Choice { options }) => {
                        options.iter().find(|c| c.value == *value).map(|c| c.label)
                    }
                    _ => None,
                };
                match (*value, choice) {
                    ("true", _) => format!("{label} is on"),
                    (_, Some(choice)) => format!("{label} is {choice}"),
                    (value, None) => format!("{label} is {value}"),
                }
            })
            .collect::<Vec<_>>()
            .join(" and ")
    }

    /// Whether the field is shown for these raw values.
    /// A field left empty counts with its default (a toggle left out is off),
    /// so that a default choice reveals its fields as a chosen one does.
    pub fn is_shown(&self, raw: &BTreeMap<String, String>, all: &[Param]) -> bool {
        self.shown_when.iter().all(|(key, expected)| {
            // Trimmed, as the value is validated: `"dataport "` chooses `dataport`.
            let typed = raw.get(*key).map(|v| v.trim()).filter(|v| !v.is_empty());
            let default = || all.iter().find(|p| p.key == *key).and_then(|p| p.default);
            typed.or_else(default).map(normalize_toggle) == Some(*expected)
        })
    }

    /// The keys of the fields this toggle or choice reveals.
    pub fn reveals(&self, all: &[Param]) -> Vec<&'static str> {
        all.iter()
            .filter(|other| other.shown_when.iter().any(|(key, _)| *key == self.key))
            .map(|other| other.key)
            .collect()
    }
}

/// A titled part of an app's form (a fieldset): its parameters from the one
/// keyed `first` up to the next group's first. Parameters before the first
/// group are under [`SETTINGS`]. The instance page groups its parameters
/// the same way.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ParamGroup {
    /// The group's title, e.g. "High availability".
    pub title: &'static str,
    /// The key of its first parameter.
    pub first: &'static str,
}

/// The title of the parameters before an app's first group (all of them
/// for an app without groups).
pub const SETTINGS: &str = "Settings";

/// For apps whose image the user may replace: their settings, then the
/// image and the libraries added to it.
pub const IMAGE_LAST: &[ParamGroup] = &[ParamGroup {
    title: "Image and libraries",
    first: "image",
}];

/// `params` cut into `groups`, in order, as `(title, parameters)`; a group
/// whose first key is not among `params` starts nowhere (its parameters stay
/// in the group before), and groups without parameters are left out.
pub fn grouped(
    params: &'static [Param],
    groups: &[ParamGroup],
) -> Vec<(&'static str, &'static [Param])> {
    let mut starts: Vec<(usize, &'static str)> = vec![(0, SETTINGS)];
    for group in groups {
        if let Some(index) = params.iter().position(|param| param.key == group.first) {
            starts.retain(|(start, _)| *start != index);
            starts.push((index, group.title));
        }
    }
    starts.sort_by_key(|(start, _)| *start);
    starts
        .iter()
        .enumerate()
        .map(|(n, (start, title))| {
            let end = starts.get(n + 1).map_or(params.len(), |(next, _)| *next);
            (*title, &params[*start..end])
        })
        .filter(|(_, params)| !params.is_empty())
        .collect()
}

/// The parameter lists `parts` one after the other, for apps that share
/// groups of parameters. `N` must be their total length (checked at compile time).
pub const fn concat<const N: usize>(parts: &[&[Param]]) -> [Param; N] {
    let mut all = [parts[0][0]; N];
    let (mut next, mut part) = (0, 0);
    while part < parts.len() {
        let mut index = 0;
        while index < parts[part].len() {
            all[next] = parts[part][index];
            next += 1;
            index += 1;
        }
        part += 1;
    }
    assert!(next == N, "N must be the total number of parameters");
    all
}

/// Raw form values from `(key, value)` pairs, for tests.
#[cfg(test)]
pub(crate) fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A JAR every Flink image holds, for tests.
#[cfg(test)]
pub(crate) const EXAMPLE_JAR: &str =
    "local:///opt/flink/examples/streaming/StateMachineExample.jar";

/// Validated parameter values, by key, as stored and rendered.
pub type Values = BTreeMap<String, Value>;

/// Field errors, by key: every one at once.
pub type FieldErrors = BTreeMap<String, String>;
