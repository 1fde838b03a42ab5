//! Confirmation pages for the actions that interrupt or remove something:
//! a rolling restart, a rollback, suspending and deleting a session job,
//! removing a user and revoking an API token.
//! Each is a GET page that says what will happen to what, with a form that
//! POSTs to the action's own route: the same with and without scripts.

use askama::Template;
use axum::extract::{Path, Query, State};

use super::AppState;
use super::error::{OrPage, PageError};
use super::instances::parse_id;
use super::page::{Layout, Page};

/// One link of the breadcrumb trail: its text and, except for the last, where it leads.
pub(super) type Crumb = (String, Option<String>);

/// A confirmation: what the action does, to what, and its form.
#[derive(Template)]
#[template(path = "confirm.html")]
pub(super) struct ConfirmPage {
    pub(super) layout: Layout,
    pub(super) crumbs: Vec<Crumb>,
    /// The question, e.g. "Restart analytics?".
    pub(super) title: String,
    /// What will happen, in sentences.
    pub(super) what: Vec<String>,
    /// Where the form posts.
    pub(super) action: String,
    /// Hidden fields the action needs.
    pub(super) hidden: Vec<(String, String)>,
    /// A checkbox the user must tick for the action to go ahead (name, label).
    pub(super) agree: Option<(String, String)>,
    /// Why the last try was refused: next to the checkbox, or next to the
    /// button when there is none.
    pub(super) error: Option<String>,
    /// The confirming button's text.
    pub(super) button: String,
    /// Where Cancel leads.
    pub(super) cancel: String,
}

/// The trail of an instance's pages: Instances › NAME.
pub(super) fn instance_crumbs(id: &uuid::Uuid, name: &str) -> Vec<Crumb> {
    vec![
        ("Instances".into(), Some("/instances".into())),
        (name.to_owned(), Some(format!("/instances/{id}"))),
    ]
}

/// The trail of a session job's pages: Instances › SESSION › Jobs › JOB.
pub(super) fn job_crumbs(id: &uuid::Uuid, session: &str, job: &str) -> Vec<Crumb> {
    let mut crumbs = instance_crumbs(id, session);
    crumbs.push(("Jobs".into(), Some(format!("/instances/{id}#jobs"))));
    crumbs.push((job.to_owned(), Some(format!("/instances/{id}/jobs/{job}"))));
    crumbs
}

pub(super) async fn restart_page(
    State(state): State<AppState>,
    layout: Layout,
    Path(id): Path<String>,
) -> Result<Page<ConfirmPage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let view = state.service.instance(id).await.or_page(&layout)?;
    let name = &view.instance.name;
    let mut crumbs = instance_crumbs(&id, name);
    crumbs.push(("Restart".into(), None));
    let mut what = vec![format!(
        "A rolling restart of {name} ({} in namespace {}).",
        view.display_name, view.instance.namespace
    )];
    // A Flink cluster's pods belong to the operator: it restarts them.
    let flink_cluster = view
        .objects
        .iter()
        .any(|object| object.kind == "FlinkDeployment");
    what.push(if flink_cluster {
        "The Flink operator restarts the Flink cluster (a new restartNonce): its JobManager \
         and TaskManagers start again, and running jobs restart as their upgrade mode says."
            .into()
    } else {
        "Each of its Deployments and StatefulSets replaces its pods one by one, so it is \
         briefly interrupted."
            .into()
    });
    what.push("Its parameters and data stay as they are.".into());
    Ok(Page(ConfirmPage {
        layout,
        crumbs,
        title: format!("Restart {name}?"),
        what,
        action: format!("/instances/{id}/restart"),
        hidden: Vec::new(),
        agree: None,
        error: None,
        button: format!("Restart {name}"),
        cancel: format!("/instances/{id}"),
    }))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub(super) struct RevisionQuery {
    revision: String,
}

pub(super) async fn rollback_page(
    State(state): State<AppState>,
    layout: Layout,
    Path(id): Path<String>,
    Query(query): Query<RevisionQuery>,
) -> Result<Page<ConfirmPage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let view = state.service.instance(id).await.or_page(&layout)?;
    let name = &view.instance.name;
    let revision: i64 = query
        .revision
        .parse()
        .map_err(|_| super::HttpError::Rejected {
            status: axum::http::StatusCode::BAD_REQUEST,
            message: "Revision must be a number".into(),
        })
        .or_page(&layout)?;
    let mut crumbs = instance_crumbs(&id, name);
    crumbs.push(("Roll back".into(), None));
    let mut what = vec![
        format!(
            "A new revision of {name} with revision {revision}'s parameters is applied \
             (it is now at revision {}).",
            view.instance.current_revision
        ),
        "Workloads whose settings change are restarted; objects revision \
         {revision} did not have are deleted."
            .replace("{revision}", &revision.to_string()),
    ];
    // A session cluster that restarts takes its running jobs through savepoints.
    // A revision that cannot be planned is refused by the POST, with why.
    let plan = state.service.plan_rollback(id, revision).await.ok();
    if let Some(plan) = plan.filter(|plan| !plan.interrupted_jobs.is_empty()) {
        what.push(
            "This restarts the Flink cluster: each running job is suspended first and resumed \
             once the cluster is ready; if it does not come up, the current revision is \
             restored and the jobs resume from the same savepoints."
                .into(),
        );
        what.extend(plan.interrupted_jobs.iter().map(|job| job.fate()));
    }
    Ok(Page(ConfirmPage {
        layout,
        crumbs,
        title: format!("Roll {name} back to revision {revision}?"),
        what,
        action: format!("/instances/{id}/rollback"),
        hidden: vec![("revision".into(), revision.to_string())],
        agree: None,
        error: None,
        button: format!("Roll back to revision {revision}"),
        cancel: format!("/instances/{id}"),
    }))
}

pub(super) async fn suspend_page(
    State(state): State<AppState>,
    layout: Layout,
    Path((id, job)): Path<(String, String)>,
) -> Result<Page<ConfirmPage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    Ok(Page(
        suspend_confirmation(&state, layout, id, &job, None).await?,
    ))
}

/// The Suspend confirmation of job `job` on session `id`, with why the last
/// try was refused (a stateless job's unticked "without a savepoint").
pub(super) async fn suspend_confirmation(
    state: &AppState,
    layout: Layout,
    id: uuid::Uuid,
    job: &str,
    error: Option<String>,
) -> Result<ConfirmPage, PageError> {
    let view = state.service.instance(id).await.or_page(&layout)?;
    let job = state.service.job(id, job).await.or_page(&layout)?;
    let session = &view.instance.name;
    let mut crumbs = job_crumbs(&id, session, &job.name);
    crumbs.push(("Suspend".into(), None));
    let (what, agree) = if job.keeps_state {
        (
            format!(
                "Job {} on {session} stops after the operator takes a savepoint; Resume starts \
                 it again from that savepoint.",
                job.name
            ),
            None,
        )
    } else {
        (
            format!(
                "Job {} on {session} is stateless: it stops without a savepoint and its state \
                 is dropped; Resume starts it from scratch.",
                job.name
            ),
            Some((
                "dropState".to_owned(),
                "Suspend without a savepoint".to_owned(),
            )),
        )
    };
    Ok(ConfirmPage {
        layout,
        crumbs,
        title: format!("Suspend job {}?", job.name),
        what: vec![what],
        action: format!("/instances/{id}/jobs/{}/suspend", job.name),
        hidden: Vec::new(),
        agree,
        error,
        button: format!("Suspend {}", job.name),
        cancel: format!("/instances/{id}/jobs/{}", job.name),
    })
}

pub(super) async fn delete_page(
    State(state): State<AppState>,
    layout: Layout,
    Path((id, job)): Path<(String, String)>,
) -> Result<Page<ConfirmPage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let view = state.service.instance(id).await.or_page(&layout)?;
    let job = state.service.job(id, &job).await.or_page(&layout)?;
    let session = &view.instance.name;
    let mut crumbs = job_crumbs(&id, session, &job.name);
    crumbs.push(("Delete".into(), None));
    Ok(Page(ConfirmPage {
        layout,
        crumbs,
        title: format!("Delete job {}?", job.name),
        what: vec![
            format!(
                "The FlinkSessionJob {} is deleted from {session}: the operator cancels the job.",
                job.object
            ),
            "Savepoints already taken stay in storage.".into(),
        ],
        action: format!("/instances/{id}/jobs/{}/delete", job.name),
        hidden: Vec::new(),
        agree: None,
        error: None,
        button: format!("Delete {}", job.name),
        cancel: format!("/instances/{id}/jobs/{}", job.name),
    }))
}

pub(super) async fn remove_user_page(
    State(state): State<AppState>,
    layout: Layout,
    caller: super::auth::Caller,
    Path(id): Path<String>,
) -> Result<Page<ConfirmPage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let user = state
        .service
        .removable_user(&caller.user, id)
        .await
        .or_page(&layout)?;
    let tokens = state.service.tokens(&user).await.or_page(&layout)?.len();
    let name = &user.name;
    let tokens = match tokens {
        0 => "they have no API token".to_owned(),
        1 => "their API token stops working".to_owned(),
        n => format!("their {n} API tokens stop working"),
    };
    Ok(Page(ConfirmPage {
        layout,
        crumbs: vec![
            ("Users".into(), Some("/users".into())),
            (format!("Remove {name}"), None),
        ],
        title: format!("Remove user {name}?"),
        what: vec![
            format!(
                "{name} ({}) can no longer log in: their sessions end and {tokens}.",
                user.role
            ),
            format!(
                "What {name} did stays in the audit log, and so do the instances they installed."
            ),
        ],
        action: format!("/users/{id}/remove"),
        hidden: Vec::new(),
        agree: None,
        error: None,
        button: format!("Remove {name}"),
        cancel: "/users".into(),
    }))
}

pub(super) async fn revoke_token_page(
    State(state): State<AppState>,
    layout: Layout,
    caller: super::auth::Caller,
    Path(id): Path<String>,
) -> Result<Page<ConfirmPage>, PageError> {
    let id = parse_id(&id).or_page(&layout)?;
    let token = state
        .service
        .token(&caller.user, id)
        .await
        .or_page(&layout)?;
    let name = &token.name;
    Ok(Page(ConfirmPage {
        layout,
        crumbs: vec![
            ("Your account".into(), Some("/account".into())),
            (format!("Revoke {name}"), None),
        ],
        title: format!("Revoke token {name}?"),
        what: vec![
            format!(
                "Your API token {name} (created {}) stops working at once: scripts that send \
                 it are refused.",
                token.created_at.format("%Y-%m-%d %H:%M UTC")
            ),
            "A revoked token cannot be brought back; create a new one for a script that still \
             needs the API."
                .into(),
        ],
        action: format!("/account/tokens/{id}/revoke"),
        hidden: Vec::new(),
        agree: None,
        error: None,
        button: format!("Revoke {name}"),
        cancel: "/account".into(),
    }))
}
