//! Installing: the form (`/catalog/{app}/install`, `?namespace=` for the
//! namespace to fill in, `?version=` for the version to start at, `?from=`
//! an earlier instance's id to start from its parameters), its
//! preview, and the JSON API
//! (`GET /api/v1/apps/{app}/install?namespace=` the form's fields and the
//! instances each reference can pick, `POST /api/v1/instances`,
//! `POST /api/v1/preview`, `GET /api/v1/apps/{app}/fields/{key}?value=` a
//! field's error or note as the form would show it, for the page script).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, OrPage, PageError, json_body};
use super::page::{Layout, render};
use crate::service::{
    INSTANCE_ID_FIELD, InstallFormView, InstallRequest, PreviewView, Service, ServiceError,
};
use crate::store::StoreError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/catalog/{app}/install", get(form_page).post(submit_form))
        .route("/api/v1/apps/{app}/install", get(form_json))
        .route("/api/v1/apps/{app}/fields/{key}", get(field_json))
        .route("/api/v1/instances", post(install_json))
        .route("/api/v1/preview", post(preview_json))
}

/// The install form page, also the update form.
#[derive(Template)]
#[template(path = "install.html")]
pub(super) struct InstallPage {
    pub(super) layout: Layout,
    pub(super) view: InstallFormView,
}

/// The namespace an empty install form is for (its reference fields offer
/// the instances that serve it), the version it starts at, and the name it
/// suggests (an uninstalled instance's, to install it again).
#[derive(Debug, Default, Deserialize)]
struct FormQuery {
    namespace: Option<String>,
    version: Option<String>,
    name: Option<String>,
    /// An earlier instance whose parameters, name, namespace and version the
    /// form starts from (installing an uninstalled one again keeps what it
    /// was given, e.g. its high availability); the other fields override.
    from: Option<uuid::Uuid>,
}

impl FormQuery {
    /// The form's values: those of the instance it starts `from`, if any,
    /// with the address's own on top.
    async fn raw(self, service: &Service) -> Result<BTreeMap<String, String>, ServiceError> {
        let mut raw = match self.from {
            Some(id) => service.current_form_values(id).await?,
            None => BTreeMap::new(),
        };
        raw.extend(
            [
                ("namespace", self.namespace),
                ("version", self.version),
                ("name", self.name),
            ]
            .into_iter()
            .filter_map(|(key, value)| Some((key.to_owned(), value.filter(|v| !v.is_empty())?))),
        );
        Ok(raw)
    }
}

/// Session key of the namespace of the user's last install from a form.
const LAST_NAMESPACE: &str = "last_namespace";

async fn form_page(
    State(state): State<AppState>,
    layout: Layout,
    // Browsers have a session; a request with an API token has none.
    session: Option<axum::Extension<tower_sessions::Session>>,
    Path(app): Path<String>,
    Query(mut query): Query<FormQuery>,
) -> Result<Response, PageError> {
    // The namespace in the address or of the instance it starts from, else
    // the one last installed into.
    if query.namespace.as_deref().is_none_or(str::is_empty)
        && query.from.is_none()
        && let Some(axum::Extension(session)) = &session
    {
        query.namespace = session.get::<String>(LAST_NAMESPACE).await.ok().flatten();
    }
    let raw = query.raw(&state.service).await.or_page(&layout)?;
    let view = state
        .service
        .install_form(&app, &raw, &BTreeMap::new())
        .await
        .or_page(&layout)?;
    Ok(render(&InstallPage { layout, view }))
}

async fn form_json(
    State(state): State<AppState>,
    Path(app): Path<String>,
    Query(query): Query<FormQuery>,
) -> Result<Json<InstallFormView>, ApiError> {
    let raw = query.raw(&state.service).await?;
    Ok(Json(
        state
            .service
            .install_form(&app, &raw, &BTreeMap::new())
            .await?,
    ))
}

/// The value typed into a field.
#[derive(Debug, Deserialize)]
struct FieldQuery {
    #[serde(default)]
    value: String,
}

/// `{"error": …, "note": …}` for one field's value: the words a submit
/// would put next to it, so that the page shows them while typing.
async fn field_json(
    State(state): State<AppState>,
    Path((app, key)): Path<(String, String)>,
    Query(query): Query<FieldQuery>,
) -> Result<Json<crate::catalog::FieldFeedback>, ApiError> {
    Ok(Json(state.service.field_feedback(
        &app,
        &key,
        &query.value,
    )?))
}

/// The form's fields: name, namespace, version, the button pressed, and the
/// app's parameters under their own keys.
async fn submit_form(
    State(state): State<AppState>,
    caller: Caller,
    layout: Layout,
    session: Option<axum::Extension<tower_sessions::Session>>,
    Path(app): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let mut raw: BTreeMap<String, String> = BTreeMap::new();
    let mut action = String::from("install");
    for (key, value) in fields {
        if key == "action" {
            action = value;
        } else {
            raw.insert(key, value);
        }
    }
    let id = raw.remove(INSTANCE_ID_FIELD);
    let request = InstallRequest {
        id: id.as_deref().and_then(|id| id.parse().ok()),
        app: app.clone(),
        name: raw.remove("name").unwrap_or_default().trim().to_owned(),
        namespace: raw
            .remove("namespace")
            .unwrap_or_default()
            .trim()
            .to_owned(),
        version: raw.remove("version"),
        params: raw.clone(),
    };
    let outcome = if action == "preview" {
        state.service.preview(&request).await.map(Ok)
    } else {
        state
            .service
            .install(&request, &caller.user.name)
            .await
            .map(Err)
    };
    // The form again, keeping every value typed (secrets excepted).
    let mut typed = raw;
    typed.insert("name".into(), request.name.clone());
    typed.insert("namespace".into(), request.namespace.clone());
    if let Some(version) = &request.version {
        typed.insert("version".into(), version.clone());
    }
    let mut instance_id = request.id;
    let (status, errors, conflict, preview) = match outcome {
        Ok(Err(id)) => {
            // The next install form starts in this namespace; losing that is harmless.
            if let Some(axum::Extension(session)) = &session {
                let _ = session
                    .insert(LAST_NAMESPACE, request.namespace.clone())
                    .await;
            }
            return Ok(Redirect::to(&format!("/instances/{id}")).into_response());
        }
        Ok(Ok(preview)) => {
            // The install from this form gets the id the preview rendered with.
            instance_id = Some(preview.id);
            (StatusCode::OK, BTreeMap::new(), None, Some(preview.yaml))
        }
        Err(ServiceError::Invalid(errors)) => (StatusCode::BAD_REQUEST, errors, None, None),
        // A taken name is the name field's error, shown where the others are.
        Err(error @ ServiceError::Store(StoreError::NameTaken { .. })) => (
            StatusCode::CONFLICT,
            BTreeMap::from([(
                "name".to_owned(),
                format!("{error}: choose another name or namespace"),
            )]),
            None,
            None,
        ),
        Err(other) => return Err(PageError::new(other, layout)),
    };
    let mut view = state
        .service
        .install_form(&app, &typed, &errors)
        .await
        .or_page(&layout)?;
    if let Some(id) = instance_id {
        view.instance_id = id;
    }
    view.conflict = conflict;
    view.preview = preview;
    Ok((status, render(&InstallPage { layout, view })).into_response())
}

/// The JSON body of an install or preview: parameters as JSON values; `id`
/// the one a preview answered with, to install exactly what it showed.
#[derive(Debug, Deserialize)]
struct ApiInstallRequest {
    #[serde(default)]
    id: Option<uuid::Uuid>,
    app: String,
    name: String,
    namespace: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    params: serde_json::Map<String, Value>,
}

impl ApiInstallRequest {
    /// The request with its parameters as the text the form would send.
    fn into_request(self) -> Result<InstallRequest, ApiError> {
        let params = params_from_json(self.params)?;
        Ok(InstallRequest {
            id: self.id,
            app: self.app,
            name: self.name,
            namespace: self.namespace,
            version: self.version,
            params,
        })
    }
}

/// JSON parameter values as the text the form would send; objects and
/// arrays are errors of their field. Shared by install and update.
pub(super) fn params_from_json(
    params: serde_json::Map<String, Value>,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut texts = BTreeMap::new();
    let mut errors = BTreeMap::new();
    for (key, value) in params {
        let text = match value {
            Value::String(text) => text,
            Value::Bool(on) => on.to_string(),
            Value::Number(number) => number.to_string(),
            Value::Null => String::new(),
            Value::Array(_) | Value::Object(_) => {
                errors.insert(
                    key.clone(),
                    format!("{key} must be text, a number or true/false"),
                );
                continue;
            }
        };
        texts.insert(key, text);
    }
    if errors.is_empty() {
        Ok(texts)
    } else {
        Err(ServiceError::Invalid(errors).into())
    }
}

async fn install_json(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<ApiInstallRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request = json_body(body)?.into_request()?;
    let id = state.service.install(&request, &caller.user.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": id, "url": format!("/instances/{id}"), "api": format!("/api/v1/instances/{id}")}),
        ),
    ))
}

async fn preview_json(
    State(state): State<AppState>,
    body: Result<Json<ApiInstallRequest>, JsonRejection>,
) -> Result<Json<PreviewView>, ApiError> {
    let request = json_body(body)?.into_request()?;
    Ok(Json(state.service.preview(&request).await?))
}
