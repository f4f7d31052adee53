//! Compiles every .proto under `crm/` with protox (pure Rust), so no system `protoc` is needed.
//!
//! The files are found by walking `crm/`, so a new service's protos need no edit here; the
//! module tree (`crm::<service>::v1`) is generated beside the code (`crm_proto.rs`, included by
//! `src/lib.rs`).

use std::{
    env,
    path::{Path, PathBuf},
};

/// The root of the suite's own protos; `google/` beside it holds vendored imports only.
const CRM_PROTO_ROOT: &str = "crm";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = crm_protos(Path::new(CRM_PROTO_ROOT))?;
    if protos.is_empty() {
        return Err(format!("no .proto files under {CRM_PROTO_ROOT}/").into());
    }
    for proto in &protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    for vendored in [
        "google/api/annotations.proto",
        "google/api/http.proto",
        "google/api/httpbody.proto",
    ] {
        println!("cargo:rerun-if-changed={vendored}");
    }
    let mut compiler = protox::Compiler::new(["."])?;
    // Comments go into the descriptor set: the gateway's OpenAPI document is written from them.
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(&protos)?;
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
    // Rust code for the suite's own packages and `google.api.HttpBody` (a response type: the
    // calendar feed's) only: the vendored `google.api` options are read from the descriptor
    // set, never as Rust types. The well-known types stay in the set (prost resolves fields of
    // those types through them) and map to prost-types, generating nothing.
    let mut file_descriptors = compiler.file_descriptor_set();
    file_descriptors.file.retain(|file| {
        !file.name().starts_with("google/api/") || file.name() == "google/api/httpbody.proto"
    });
    tonic_prost_build::configure()
        .include_file("crm_proto.rs")
        // prost's codec plus the text rule on every request (src/codec.rs).
        .codec_path("crate::codec::CrmCodec")
        .compile_fds_with_config(file_descriptors, prost_config)?;
    Ok(())
}

/// Every `.proto` under `dir`, as paths relative to the crate (`crm/leads/v1/leads.proto`),
/// sorted so that the generated code does not depend on the file system's listing order.
/// Each directory is also printed as `rerun-if-changed`, so a new file is picked up.
fn crm_protos(dir: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        println!("cargo:rerun-if-changed={}", slashed(&dir)?);
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "proto") {
                found.push(slashed(&path)?);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// A relative path with `/` separators, as protox names files (and the descriptor set keeps).
fn slashed(path: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let parts = path
        .components()
        .map(|part| {
            part.as_os_str()
                .to_str()
                .ok_or_else(|| format!("proto path is not UTF-8: {}", path.display()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join("/"))
}
