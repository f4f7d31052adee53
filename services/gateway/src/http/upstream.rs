//! Calls into the services over gRPC with already-encoded messages: the front door transcodes
//! JSON to protobuf once and forwards bytes, so no service-specific client code is needed.
//! The gateway's aggregated views reach the services through the same [`Upstreams`].

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use bytes::{Buf, BufMut, Bytes};
use crm_platform::host::LocalGrpc;
use http::uri::PathAndQuery;
use tonic_types::StatusExt;

use super::FrontDoorSettings;
use tonic::{
    Code, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    metadata::MetadataMap,
    transport::{Channel, Endpoint},
};

/// Where each service is called: its configured upstream (another process), else in this
/// process, without a network hop (the all-in-one case).
#[derive(Clone)]
pub struct Upstreams {
    configured: HashMap<String, Channel>,
    /// The services hosted here, once the host has mounted them all.
    local: Arc<OnceLock<LocalGrpc>>,
}

impl std::fmt::Debug for Upstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstreams")
            .field("configured", &self.configured.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Upstreams {
    /// Channels connect lazily, so the gateway starts while a service is still starting.
    pub fn new(
        settings: &FrontDoorSettings,
        local: Arc<OnceLock<LocalGrpc>>,
    ) -> anyhow::Result<Self> {
        let mut configured = HashMap::new();
        for (service, url) in &settings.upstreams {
            configured.insert(service.clone(), endpoint(url)?.connect_lazy());
        }
        Ok(Self { configured, local })
    }

    /// The channel of a service with a configured upstream (hosted elsewhere).
    pub fn configured(&self, service: &str) -> Option<Channel> {
        self.configured.get(service).cloned()
    }

    /// What to call `service` through. A service neither configured nor hosted here answers
    /// UNIMPLEMENTED from the local routes.
    pub fn service(&self, service: &str) -> Result<LocalGrpc, Status> {
        if let Some(channel) = self.configured.get(service) {
            return Ok(LocalGrpc::new(channel.clone()));
        }
        self.local
            .get()
            .cloned()
            .ok_or_else(|| unavailable("the gateway is still starting"))
    }

    /// One unary call with an encoded request; the encoded response or the service's status.
    pub async fn unary(
        &self,
        service: &str,
        grpc_path: &str,
        metadata: MetadataMap,
        message: Bytes,
    ) -> Result<Bytes, Status> {
        Ok(self
            .unary_reply(service, grpc_path, metadata, message)
            .await?
            .into_inner())
    }

    /// [`Upstreams::unary`] with the reply's metadata (`crm-idempotency-replayed` on a reply
    /// the service had stored for the request's key).
    pub async fn unary_reply(
        &self,
        service: &str,
        grpc_path: &str,
        metadata: MetadataMap,
        message: Bytes,
    ) -> Result<tonic::Response<Bytes>, Status> {
        let path = PathAndQuery::from_maybe_shared(Bytes::copy_from_slice(grpc_path.as_bytes()))
            .map_err(|error| Status::internal(format!("bad method path: {error}")))?;
        let mut grpc = tonic::client::Grpc::new(self.service(service)?);
        grpc.ready()
            .await
            .map_err(|error| unavailable(&format!("{service} is unavailable: {error}")))?;
        let request = tonic::Request::from_parts(metadata, Default::default(), message);
        grpc.unary(request, path, EncodedCodec).await
    }
}

/// UNAVAILABLE with a retry delay: an upstream that cannot be reached is an outage.
pub fn unavailable(message: &str) -> Status {
    crm_platform::error::unavailable_status(message, crm_platform::error::OUTAGE_RETRY_AFTER)
}

/// What the gateway's own call to `service` that failed answers the gateway's caller: the
/// service's own status as it is (NOT_FOUND, PERMISSION_DENIED, an outage with its retry
/// delay), but a failure of the call itself becomes UNAVAILABLE with a retry delay. Those are
/// made by the client, not the service: UNAVAILABLE without the retry delay every service's
/// outage carries (no connection), or UNKNOWN (a broken stream; the services never send it).
pub fn passed_on(service: &str, status: Status) -> Status {
    let made_by_the_client = match status.code() {
        Code::Unknown => true,
        Code::Unavailable => status.get_error_details().retry_info().is_none(),
        _ => false,
    };
    if made_by_the_client {
        tracing::warn!(service, error = %status.message(), "a call to a service failed");
        return unavailable(&format!("{service} is unavailable"));
    }
    status
}

fn endpoint(url: &str) -> anyhow::Result<Endpoint> {
    Ok(Endpoint::from_shared(url.to_owned())?
        .tcp_nodelay(true)
        .http2_adaptive_window(true))
}

/// Passes message bytes through unchanged.
#[derive(Clone, Copy, Debug, Default)]
pub struct EncodedCodec;

impl Codec for EncodedCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = EncodedCodec;
    type Decoder = EncodedCodec;

    fn encoder(&mut self) -> Self::Encoder {
        EncodedCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        EncodedCodec
    }
}

impl Encoder for EncodedCodec {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, buffer: &mut EncodeBuf<'_>) -> Result<(), Status> {
        buffer.put(item);
        Ok(())
    }
}

impl Decoder for EncodedCodec {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, buffer: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(buffer.copy_to_bytes(buffer.remaining())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_services_own_status_is_passed_on_and_a_failed_call_becomes_an_outage_with_a_delay() {
        let not_found = passed_on("accounts", Status::not_found("account 1 not found"));
        assert_eq!(
            (not_found.code(), not_found.message()),
            (Code::NotFound, "account 1 not found")
        );
        let outage = passed_on("accounts", unavailable("the database is down"));
        assert_eq!(outage.message(), "the database is down", "kept as it is");

        for made_by_the_client in [
            Status::unavailable("tcp connect error"),
            Status::unknown("Service was not ready: transport error"),
        ] {
            let status = passed_on("opportunities", made_by_the_client);
            assert_eq!(status.code(), Code::Unavailable);
            assert_eq!(status.message(), "opportunities is unavailable");
            assert_eq!(
                status.get_error_details().retry_info().unwrap().retry_delay,
                Some(crm_platform::error::OUTAGE_RETRY_AFTER)
            );
        }
    }
}
