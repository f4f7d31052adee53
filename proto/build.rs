//! Compiles every .proto under `crm/` with protox (pure Rust), so no system `protoc` is needed.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "crm/common/v1/common.proto",
        "crm/accounts/v1/accounts.proto",
        "crm/accounts/v1/events.proto",
        "crm/leads/v1/leads.proto",
        "crm/leads/v1/events.proto",
        "crm/gateway/v1/identity.proto",
        "crm/gateway/v1/events.proto",
    ];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    for vendored in ["google/api/annotations.proto", "google/api/http.proto"] {
        println!("cargo:rerun-if-changed={vendored}");
    }
    let mut compiler = protox::Compiler::new(["."])?;
    // Comments go into the descriptor set: the gateway's OpenAPI document is written from them.
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(protos)?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    // Type names let event code derive `crm.accounts.v1.AccountCreated` from the Rust type.
    let mut prost_config = tonic_prost_build::Config::new();
    prost_config.enable_type_names();
    // `compile_fds` runs no protoc, so it writes no descriptor set: write protox's, encoded so
    // that custom options (`google.api.http`, which the gateway routes by) are kept.
    std::fs::write(
        out_dir.join("crm_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    let file_descriptors = compiler.file_descriptor_set();
    tonic_prost_build::configure().compile_fds_with_config(file_descriptors, prost_config)?;
    Ok(())
}
