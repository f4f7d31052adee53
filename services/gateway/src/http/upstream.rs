//! Calls into the services over gRPC with already-encoded messages: the front door transcodes
//! JSON to protobuf once and forwards bytes, so no service-specific client code is needed.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, OnceLock},
};

use bytes::{Buf, BufMut, Bytes};
use crm_platform::config::FrontDoorSettings;
use http::uri::PathAndQuery;
use tonic::{
    Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    metadata::MetadataMap,
    transport::{Channel, Endpoint},
};

/// A gRPC channel per service: the configured upstream, or this process's own gRPC server.
#[derive(Clone, Debug)]
pub struct Upstreams {
    configured: HashMap<String, Channel>,
    /// This process's gRPC server, once bound; its channel is made on first use.
    own_grpc_addr: Arc<OnceLock<SocketAddr>>,
    local: Arc<OnceLock<Channel>>,
}

impl Upstreams {
    /// Channels connect lazily, so the gateway starts while a service is still starting.
    pub fn new(
        settings: &FrontDoorSettings,
        own_grpc_addr: Arc<OnceLock<SocketAddr>>,
    ) -> anyhow::Result<Self> {
        let mut configured = HashMap::new();
        for (service, url) in &settings.upstreams {
            configured.insert(service.clone(), endpoint(url)?.connect_lazy());
        }
        Ok(Self {
            configured,
            own_grpc_addr,
            local: Arc::default(),
        })
    }

    /// The channel of a service with a configured upstream (hosted elsewhere).
    pub fn configured(&self, service: &str) -> Option<Channel> {
        self.configured.get(service).cloned()
    }

    pub fn channel(&self, service: &str) -> Result<Channel, Status> {
        if let Some(channel) = self.configured.get(service) {
            return Ok(channel.clone());
        }
        if let Some(channel) = self.local.get() {
            return Ok(channel.clone());
        }
        let addr = self
            .own_grpc_addr
            .get()
            .ok_or_else(|| Status::unavailable("the gateway is still starting"))?;
        let host = if addr.ip().is_unspecified() {
            SocketAddr::new([127, 0, 0, 1].into(), addr.port())
        } else {
            *addr
        };
        let channel = endpoint(&format!("http://{host}"))
            .map_err(|error| Status::internal(error.to_string()))?
            .connect_lazy();
        Ok(self.local.get_or_init(|| channel).clone())
    }

    /// One unary call with an encoded request; the encoded response or the service's status.
    pub async fn unary(
        &self,
        service: &str,
        grpc_path: &str,
        metadata: MetadataMap,
        message: Bytes,
    ) -> Result<Bytes, Status> {
        let path = PathAndQuery::from_maybe_shared(Bytes::copy_from_slice(grpc_path.as_bytes()))
            .map_err(|error| Status::internal(format!("bad method path: {error}")))?;
        let mut grpc = tonic::client::Grpc::new(self.channel(service)?);
        grpc.ready()
            .await
            .map_err(|error| Status::unavailable(format!("{service} is unavailable: {error}")))?;
        let request = tonic::Request::from_parts(metadata, Default::default(), message);
        let response = grpc.unary(request, path, EncodedCodec).await?;
        Ok(response.into_inner())
    }
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
