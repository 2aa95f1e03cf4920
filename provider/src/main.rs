use std::process::ExitCode;

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match arguments.first().map(String::as_str) {
        None => terraform_provider_hipaa::server::run(),
        Some("docs") => terraform_provider_hipaa::docs::run(&arguments[1..]),
        Some(other) => {
            eprintln!("unknown command {other:?}\n");
            eprint!(
                "{}",
                terraform_provider_hipaa::handshake::RUN_BY_HAND_MESSAGE
            );
            ExitCode::from(2)
        }
    }
}
