//! The suite's protobuf API and event types, generated at build time from `proto/crm/**`.
//!
//! Packages map to modules: `crm.accounts.v1` is [`crm::accounts::v1`].
#![forbid(unsafe_code)]
#![allow(clippy::all, clippy::pedantic, rust_2018_idioms)]

pub mod crm {
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("crm.common.v1");
        }
    }
    pub mod accounts {
        pub mod v1 {
            tonic::include_proto!("crm.accounts.v1");
        }
    }
    pub mod gateway {
        pub mod v1 {
            tonic::include_proto!("crm.gateway.v1");
        }
    }
    pub mod leads {
        pub mod v1 {
            tonic::include_proto!("crm.leads.v1");
        }
    }
}

/// The encoded `FileDescriptorSet` of every CRM proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("crm_descriptor");
