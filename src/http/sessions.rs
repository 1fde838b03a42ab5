//! Browser sessions only where a browser is: requests carrying an API token
//! skip the session layer (no cookie parsing, no session to set up), so the
//! JSON API pays nothing for what only pages use.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::Response;
use futures::future::Either;
use tower::Service;

use super::auth::bearer_token;

/// Sends requests with `Authorization: Bearer …` to `plain`, the others to
/// `with_sessions` (the same service behind the session layer).
#[derive(Debug, Clone)]
pub struct SessionsForBrowsers<P, W> {
    plain: P,
    with_sessions: W,
}

impl<P, W> SessionsForBrowsers<P, W> {
    /// The split between `plain` and `with_sessions`.
    pub fn new(plain: P, with_sessions: W) -> Self {
        SessionsForBrowsers {
            plain,
            with_sessions,
        }
    }
}

/// Whether the request authenticates with an API token and needs no
/// session (the login and logout pages always have one, whoever calls them).
pub fn skips_sessions(request: &Request) -> bool {
    bearer_token(request.headers()).is_some()
        && !matches!(request.uri().path(), "/login" | "/logout")
}

impl<P, W> Service<Request> for SessionsForBrowsers<P, W>
where
    P: Service<Request, Response = Response, Error = Infallible>,
    W: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<P::Future, W::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Both are routers (always ready); ask both so neither is called unready.
        match (self.plain.poll_ready(cx), self.with_sessions.poll_ready(cx)) {
            (Poll::Ready(Ok(())), Poll::Ready(Ok(()))) => Poll::Ready(Ok(())),
            _ => Poll::Pending,
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if skips_sessions(&request) {
            Either::Left(self.plain.call(request))
        } else {
            Either::Right(self.with_sessions.call(request))
        }
    }
}
