//! Compiles the project's protocol definitions with protox, a pure-Rust protobuf compiler, so
//! building needs no system `protoc`.

use std::path::Path;

const PROTOS: &[&str] = &["tfplugin6.proto", "go_plugin.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = Path::new("proto");
    for file in PROTOS {
        println!("cargo:rerun-if-changed={}", proto_dir.join(file).display());
    }

    let descriptors = protox::compile(PROTOS, [proto_dir])?;

    // Unimplemented RPCs answer UNIMPLEMENTED, which Terraform tolerates for optional ones.
    tonic_prost_build::configure()
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
