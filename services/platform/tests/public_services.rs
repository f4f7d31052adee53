//! Token-free mounting: only a service its `.proto` declares public may skip the token check.

use std::{
    convert::Infallible,
    future::{Ready, ready},
    task::{Context, Poll},
};

use crm_platform::host::ServiceMount;
use tonic::{body::Body, server::NamedService};

#[test]
fn a_service_declared_public_in_its_proto_is_mounted_without_the_token_check() {
    let mut mount = ServiceMount::default();

    let mounted = mount.add_public_grpc(Named::<WEB_FORMS>);

    assert!(mounted.is_ok(), "{:?}", mounted.err());
}

#[test]
fn a_service_not_declared_public_is_refused_at_mount_time() {
    let mut mount = ServiceMount::default();

    let refused = mount
        .add_public_grpc(Named::<LEADS>)
        .err()
        .expect("crm.leads.v1.LeadService is not declared public")
        .to_string();

    assert!(refused.contains("crm.leads.v1.LeadService"), "{refused}");
    assert!(
        refused.contains("crm.common.v1.public_service"),
        "{refused}"
    );
}

const WEB_FORMS: u8 = 0;
const LEADS: u8 = 1;

/// A gRPC service that only has a name: mounting never calls it.
#[derive(Clone)]
struct Named<const WHICH: u8>;

impl NamedService for Named<WEB_FORMS> {
    const NAME: &'static str = "crm.leads.v1.WebFormService";
}

impl NamedService for Named<LEADS> {
    const NAME: &'static str = "crm.leads.v1.LeadService";
}

impl<const WHICH: u8> tower::Service<http::Request<Body>> for Named<WHICH> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: http::Request<Body>) -> Self::Future {
        ready(Ok(http::Response::new(Body::empty())))
    }
}
