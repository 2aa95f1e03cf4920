//! The start-up contract with a go-plugin host: the environment Terraform sets before it
//! launches the plugin, and the one line the plugin prints back on stdout.

use std::path::PathBuf;

/// The cookie Terraform puts in `TF_PLUGIN_MAGIC_COOKIE` so a plugin can tell it was launched
/// by Terraform.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// The go-plugin core protocol version, first field of the handshake line.
const CORE_PROTOCOL_VERSION: u32 = 1;

/// The Terraform plugin protocol this provider speaks.
pub const PLUGIN_PROTOCOL_VERSION: u32 = 6;

/// What a person who runs the binary by hand is told.
pub const RUN_BY_HAND_MESSAGE: &str = "\
This binary is a plugin for Terraform and is meant to be launched by Terraform itself.

To use it, declare the provider in your configuration:

    terraform {
      required_providers {
        hipaa = { source = \"example.com/acme/hipaa\" }
      }
    }

and run `terraform plan` / `terraform apply` with the binary installed in a provider mirror or
a `dev_overrides` directory of your CLI configuration.

Other commands:
    terraform-provider-hipaa docs --out DIR   write the registry documentation into DIR
";

/// The environment a launch sees, read once so the checks below stay pure.
#[derive(Debug, Clone, Default)]
pub struct PluginEnv {
    pub magic_cookie: Option<String>,
    pub protocol_versions: Option<String>,
    pub client_cert_pem: Option<String>,
    pub disable_tls: bool,
    pub socket_dir: Option<PathBuf>,
}

impl PluginEnv {
    pub fn from_process() -> PluginEnv {
        let non_empty = |key: &str| std::env::var(key).ok().filter(|value| !value.is_empty());
        PluginEnv {
            magic_cookie: std::env::var(MAGIC_COOKIE_KEY).ok(),
            protocol_versions: non_empty("PLUGIN_PROTOCOL_VERSIONS"),
            client_cert_pem: non_empty("PLUGIN_CLIENT_CERT"),
            disable_tls: non_empty("TF_DISABLE_PLUGIN_TLS").is_some(),
            socket_dir: non_empty("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from),
        }
    }
}

/// How this launch is to be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Mutual TLS, accepting only the client with this certificate.
    MutualTls { client_cert_pem: String },
    /// Plain HTTP/2, only when the user turned plugin TLS off.
    Plaintext,
}

/// Why a launch cannot go on; each is printed to stderr before exiting with status 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaunchError {
    NotLaunchedByTerraform,
    NoCommonProtocol(String),
    NoClientCertificate,
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::NotLaunchedByTerraform => f.write_str(RUN_BY_HAND_MESSAGE),
            LaunchError::NoCommonProtocol(offered) => write!(
                f,
                "Terraform offered plugin protocol versions \"{offered}\", but this provider \
                 speaks only version {PLUGIN_PROTOCOL_VERSION} (Terraform 1.0 or newer)."
            ),
            LaunchError::NoClientCertificate => f.write_str(
                "PLUGIN_CLIENT_CERT is not set, so the host cannot be authenticated. This \
                 provider serves without TLS only when TF_DISABLE_PLUGIN_TLS is set.",
            ),
        }
    }
}

/// Checks the launch environment and decides the transport.
pub fn check_launch(env: &PluginEnv) -> Result<Transport, LaunchError> {
    if env.magic_cookie.as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(LaunchError::NotLaunchedByTerraform);
    }

    // Terraform builds the list from a Go map, so the order is random ("5,6" or "6,5").
    if let Some(offered) = &env.protocol_versions {
        let speaks_ours = offered
            .split(',')
            .any(|version| version.trim().parse::<u32>() == Ok(PLUGIN_PROTOCOL_VERSION));
        if !speaks_ours {
            return Err(LaunchError::NoCommonProtocol(offered.clone()));
        }
    }

    match (&env.client_cert_pem, env.disable_tls) {
        (Some(pem), _) => Ok(Transport::MutualTls {
            client_cert_pem: pem.clone(),
        }),
        (None, true) => Ok(Transport::Plaintext),
        (None, false) => Err(LaunchError::NoClientCertificate),
    }
}

/// The single stdout line that tells the host where to connect:
/// `core|protocol|network|address|grpc|certificate`.
pub fn handshake_line(socket_path: &str, certificate_base64: Option<&str>) -> String {
    format!(
        "{CORE_PROTOCOL_VERSION}|{PLUGIN_PROTOCOL_VERSION}|unix|{socket_path}|grpc|{}",
        certificate_base64.unwrap_or("")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launched(versions: &str) -> PluginEnv {
        PluginEnv {
            magic_cookie: Some(MAGIC_COOKIE_VALUE.to_string()),
            protocol_versions: Some(versions.to_string()),
            client_cert_pem: Some("PEM".to_string()),
            ..PluginEnv::default()
        }
    }

    #[test]
    fn wrong_or_missing_cookie_is_refused() {
        let mut env = launched("5,6");
        env.magic_cookie = None;
        assert_eq!(check_launch(&env), Err(LaunchError::NotLaunchedByTerraform));
        env.magic_cookie = Some("nope".to_string());
        assert_eq!(check_launch(&env), Err(LaunchError::NotLaunchedByTerraform));
    }

    #[test]
    fn version_six_is_found_in_either_order() {
        for offered in ["5,6", "6,5", "6", " 5 , 6 "] {
            assert!(check_launch(&launched(offered)).is_ok(), "{offered}");
        }
        assert_eq!(
            check_launch(&launched("4,5")),
            Err(LaunchError::NoCommonProtocol("4,5".to_string()))
        );
    }

    #[test]
    fn plaintext_needs_the_opt_out() {
        let mut env = launched("6");
        env.client_cert_pem = None;
        assert_eq!(check_launch(&env), Err(LaunchError::NoClientCertificate));
        env.disable_tls = true;
        assert_eq!(check_launch(&env), Ok(Transport::Plaintext));
    }

    #[test]
    fn handshake_line_has_six_fields() {
        assert_eq!(
            handshake_line("/tmp/x/plugin.sock", Some("MIIB")),
            "1|6|unix|/tmp/x/plugin.sock|grpc|MIIB"
        );
        assert_eq!(handshake_line("/s", None), "1|6|unix|/s|grpc|");
    }
}
