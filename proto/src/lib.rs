//! The suite's protobuf API and event types, generated at build time from `proto/crm/**`.
//!
//! Packages map to modules: `crm.accounts.v1` is [`crm::accounts::v1`]. The module tree is
//! generated too (`build.rs` finds every file under `proto/crm/`), so a new package needs no
//! edit here.
//!
//! Every generated service and client uses [`codec::CrmCodec`]: prost's codec, with the text
//! rule of [`text`] checked on each request as it is decoded.
#![forbid(unsafe_code)]
#![allow(clippy::all, clippy::pedantic, rust_2018_idioms)]

include!(concat!(env!("OUT_DIR"), "/crm_proto.rs"));

pub mod codec;
mod request_text;
pub mod text;

/// The encoded `FileDescriptorSet` of every CRM proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("crm_descriptor");
