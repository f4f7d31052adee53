//! The gRPC side of the front door: a call to a service this process does not host is
//! forwarded, as it is (any streaming kind, metadata with the caller's token included), to the
//! service's configured upstream. The service checks the token itself.

use std::sync::Arc;

use axum::{body::Body, extract::State, response::Response};
use http::Request;
use tonic::Status;
use tower::ServiceExt;

use super::{routes::owning_service, upstream::Upstreams};

/// The gRPC server's fallback: only services with a configured upstream are forwarded, so a
/// call can never loop back into this process.
pub fn router(upstreams: Arc<Upstreams>) -> axum::Router {
    axum::Router::new().fallback(forward).with_state(upstreams)
}

async fn forward(State(upstreams): State<Arc<Upstreams>>, request: Request<Body>) -> Response {
    let path = request.uri().path().to_owned();
    // `/crm.leads.v1.LeadService/CreateLead` → `leads`.
    let service = path
        .strip_prefix('/')
        .and_then(|rest| rest.split_once('/'))
        .and_then(|(service, _)| service.rsplit_once('.'))
        .and_then(|(package, _)| owning_service(package));
    let Some((service, channel)) =
        service.and_then(|service| Some((service.to_owned(), upstreams.configured(service)?)))
    else {
        return status_response(Status::unimplemented(format!(
            "{path} is not served here: no such service, or no CRM_GATEWAY_UPSTREAM_<SERVICE> for it"
        )));
    };
    let request = request.map(tonic::body::Body::new);
    match channel.oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(error) => status_response(super::upstream::unavailable(&format!(
            "{service} is unavailable: {error}"
        ))),
    }
}

fn status_response(status: Status) -> Response {
    let (parts, ()) = status.into_http::<()>().into_parts();
    Response::from_parts(parts, Body::empty())
}
