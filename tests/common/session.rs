//! A browser-like client for the tests: a cookie jar, the session's CSRF
//! token read from the pages, no redirects followed.

/// The CSRF token in a page's first form, if it has one.
pub fn csrf_in(html: &str) -> Option<String> {
    let start = html.find(r#"name="csrf_token" value=""#)? + r#"name="csrf_token" value=""#.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// What a request answered: status, `Location`, `Set-Cookie` lines and body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Where a redirect points.
    pub location: Option<String>,
    /// Every `Set-Cookie` header.
    pub cookies: Vec<String>,
    /// The body.
    pub body: String,
}

/// A client with a cookie jar, like a browser tab.
pub struct BrowserLike {
    /// The portal's base URL.
    pub base: String,
    /// The client (cookie store on, redirects not followed).
    pub http: reqwest::Client,
    /// The CSRF token last seen on a page.
    pub csrf: String,
}

impl BrowserLike {
    /// A fresh tab on `base`, without a session.
    pub fn new(base: &str) -> BrowserLike {
        BrowserLike {
            base: base.to_owned(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            csrf: String::new(),
        }
    }

    async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let cookies = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        let body = response.text().await.expect("body");
        Answer {
            status,
            location,
            cookies,
            body,
        }
    }

    /// GET `path`; remembers the page's CSRF token when it has one.
    pub async fn get(&mut self, path: &str) -> Answer {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        let answer = Self::answer(response).await;
        if let Some(token) = csrf_in(&answer.body) {
            self.csrf = token;
        }
        answer
    }

    /// POST `fields` as a form, exactly as given (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("request");
        Self::answer(response).await
    }

    /// POST `fields` as a form with the session's CSRF token, as the page's form would.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", &self.csrf));
        self.post_raw(path, &fields).await
    }

    /// Opens the login page and logs in; returns the login's answer.
    pub async fn log_in(&mut self, name: &str, password: &str) -> Answer {
        self.get("/login").await;
        let answer = self
            .post(
                "/login",
                &[("name", name), ("password", password), ("next", "/")],
            )
            .await;
        if answer.status == 303 {
            // The token changes with the session at login.
            self.get("/account").await;
        }
        answer
    }
}
