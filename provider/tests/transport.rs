//! Launches the provider binary the way Terraform does and talks to it over its socket with a
//! Rust gRPC client: a Terraform-shaped client certificate (ECDSA P-521, CA flag) is accepted,
//! another certificate (another P-521 one, an RSA one, Terraform's own without its key) or
//! none is refused while Terraform goes on being served, and Shutdown ends the process.
//!
//! The client certificates are made with the `openssl` command, which writes P-521
//! certificates the way Go does; the pure-Rust certificate generator here cannot sign P-521.

mod support;

use hipaa_proto::plugin::grpc_controller_client::GrpcControllerClient;
use hipaa_proto::tfplugin6::provider_client::ProviderClient;
use hipaa_proto::tfplugin6::{call_function, DynamicValue};
use hyper_util::rt::TokioIo;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{SignatureAlgorithm, SignatureScheme};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use support::*;
use tokio::net::UnixStream;
use tonic::transport::{Endpoint, Uri};

#[tokio::test]
async fn terraform_shaped_certificate_is_accepted_and_shutdown_exits() {
    let dir = scratch_dir("accepted");
    let identity = terraform_shaped_identity(&dir, "terraform");
    let mut plugin = launch_with_tls(&identity);

    let socket_dir = Path::new(&plugin.socket).parent().unwrap().to_path_buf();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&socket_dir).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700);

    let channel = connect(&plugin, Some(&identity)).await.unwrap();
    let types = resource_types(channel.clone()).await.unwrap();
    assert!(types.contains(&"hipaa_license".to_string()), "{types:?}");

    let mut provider = ProviderClient::new(channel.clone());
    let mut argument = vec![0xa0 | 3];
    argument.extend_from_slice(b"nop");
    let call = provider
        .call_function(call_function::Request {
            name: "tls_policy_min_version".to_string(),
            arguments: vec![DynamicValue {
                msgpack: argument,
                json: vec![],
            }],
        })
        .await
        .unwrap()
        .into_inner();
    assert!(call
        .error
        .unwrap()
        .text
        .contains("not in the TLS policy table"));

    GrpcControllerClient::new(channel)
        .shutdown(hipaa_proto::plugin::Empty {})
        .await
        .unwrap();
    let status = wait_for_exit(&mut plugin).expect("the provider did not exit after Shutdown");
    assert!(status.success(), "{status:?}");
    assert!(!socket_dir.exists(), "socket directory left behind");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn sigint_is_ignored() {
    let dir = scratch_dir("sigint");
    let identity = terraform_shaped_identity(&dir, "terraform");
    let mut plugin = launch_with_tls(&identity);

    // Ctrl-C reaches the whole process group; Terraform stops the provider itself.
    let pid = plugin.child.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    plugin.wait_for_log("ignoring SIGINT");
    assert!(
        plugin.child.try_wait().unwrap().is_none(),
        "the provider died of SIGINT"
    );

    let channel = connect(&plugin, Some(&identity)).await.unwrap();
    assert_eq!(resource_types(channel).await.unwrap().len(), 6);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_different_certificate_is_refused() {
    let dir = scratch_dir("different");
    let terraform = terraform_shaped_identity(&dir, "terraform");
    let stranger = terraform_shaped_identity(&dir, "stranger");
    let mut plugin = launch_with_tls(&terraform);

    let outcome = match connect(&plugin, Some(&stranger)).await {
        Ok(channel) => resource_types(channel).await.map_err(|e| e.to_string()),
        Err(error) => Err(error),
    };
    assert!(outcome.is_err(), "a stranger's certificate was accepted");
    let log = plugin.wait_for_log("refused a connection");
    assert!(log.contains("refused a connection"), "{log}");
    assert!(log.contains("UnknownIssuer"), "{log}");
    assert_still_served(&mut plugin, &terraform).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn no_certificate_is_refused() {
    let dir = scratch_dir("none");
    let terraform = terraform_shaped_identity(&dir, "terraform");
    let mut plugin = launch_with_tls(&terraform);

    let outcome = match connect(&plugin, None).await {
        Ok(channel) => resource_types(channel).await.map_err(|e| e.to_string()),
        Err(error) => Err(error),
    };
    assert!(
        outcome.is_err(),
        "a client without a certificate was accepted"
    );
    let log = plugin.wait_for_log("refused a connection");
    assert!(log.contains("refused a connection"), "{log}");
    assert!(log.contains("peer sent no certificates"), "{log}");
    assert_still_served(&mut plugin, &terraform).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn plaintext_only_when_plugin_tls_is_disabled() {
    let plugin = launch(&[
        ("TF_PLUGIN_MAGIC_COOKIE", COOKIE),
        ("PLUGIN_PROTOCOL_VERSIONS", "6,5"),
        ("TF_DISABLE_PLUGIN_TLS", "1"),
    ]);
    assert!(plugin.server_cert_der.is_empty());
    let socket = plugin.socket.clone();
    let channel = Endpoint::try_from("http://localhost")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            async move { Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(socket).await?)) }
        }))
        .await
        .unwrap();
    let types = resource_types(channel).await.unwrap();
    assert_eq!(types.len(), 6, "{types:?}");
}

#[test]
fn run_by_hand_it_explains_itself_and_exits_1() {
    let output = Command::new(env!("CARGO_BIN_EXE_terraform-provider-hipaa"))
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("plugin for Terraform"), "{message}");
    assert!(message.contains("required_providers"), "{message}");
}

#[test]
fn without_a_client_certificate_or_opt_out_it_refuses_to_serve() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-hipaa"))
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove("TF_DISABLE_PLUGIN_TLS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    assert_eq!(stdout, "");
}

/// Presents its certificate whatever the server asks for, signing with whatever scheme its
/// key has: a client that does not play by Terraform's rules.
#[derive(Debug)]
struct AlwaysOffered(Arc<CertifiedKey>);

impl ResolvesClientCert for AlwaysOffered {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _schemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// An RSA key that signs with RSA-PSS even when the server offered only P-521.
#[derive(Debug)]
struct RsaAnyway(Arc<dyn SigningKey>);

impl SigningKey for RsaAnyway {
    fn choose_scheme(&self, _offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        self.0.choose_scheme(&[SignatureScheme::RSA_PSS_SHA256])
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.0.algorithm()
    }
}

/// A self-signed RSA certificate for `localhost` and its key, from the `openssl` command.
fn rsa_certified_key(dir: &Path) -> CertifiedKey {
    let (key_path, cert_path) = (dir.join("rsa.key"), dir.join("rsa.pem"));
    let output = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/O=HashiCorp/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .arg("-keyout")
        .arg(&key_path)
        .arg("-out")
        .arg(&cert_path)
        .output()
        .expect("the openssl command makes the RSA test certificate");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let cert = CertificateDer::from_pem_file(&cert_path).unwrap();
    let key = PrivateKeyDer::from_pem_file(&key_path).unwrap();
    let key = rustls::crypto::ring::sign::any_supported_type(&key).unwrap();
    CertifiedKey::new(vec![cert], Arc::new(RsaAnyway(key)))
}

/// After a refusal the process runs on and Terraform gets its schema.
async fn assert_still_served(plugin: &mut Plugin, terraform: &ClientIdentity) {
    assert!(is_alive(plugin), "{}", plugin.log());
    let channel = connect(plugin, Some(terraform)).await.unwrap();
    assert_eq!(resource_types(channel).await.unwrap().len(), 6);
}

/// Connects with `config` and asks for the schema; the error when the plugin refuses.
async fn refused(plugin: &Plugin, config: rustls::ClientConfig) -> String {
    let outcome = match connect_with(plugin, config).await {
        Ok(channel) => resource_types(channel).await.map_err(|e| e.to_string()),
        Err(error) => Err(error),
    };
    outcome.expect_err("a foreign client was served")
}

#[tokio::test]
async fn an_rsa_certificate_is_refused_and_terraform_is_still_served() {
    let dir = scratch_dir("rsa");
    let terraform = terraform_shaped_identity(&dir, "terraform");
    let mut plugin = launch_with_tls(&terraform);

    let rsa = Arc::new(AlwaysOffered(Arc::new(rsa_certified_key(&dir))));
    let mut config = client_builder(&plugin).with_client_cert_resolver(rsa);
    config.alpn_protocols = vec![b"h2".to_vec()];
    refused(&plugin, config).await;
    let log = plugin.wait_for_log("refused a connection");
    assert!(log.contains("UnknownIssuer"), "{log}");

    assert_still_served(&mut plugin, &terraform).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn terraforms_certificate_without_its_key_is_refused() {
    let dir = scratch_dir("stolen");
    let terraform = terraform_shaped_identity(&dir, "terraform");
    let thief = terraform_shaped_identity(&dir, "thief");
    let mut plugin = launch_with_tls(&terraform);

    // The pinned certificate is public (it travels in the environment); the key is not.
    let cert = CertificateDer::from_pem_slice(terraform.certificate_pem.as_bytes()).unwrap();
    let stolen = CertifiedKey::new(vec![cert], Arc::new(P521Key(thief.key.clone())));
    let mut config = client_builder(&plugin)
        .with_client_cert_resolver(Arc::new(GoLikeClientCert(Arc::new(stolen))));
    config.alpn_protocols = vec![b"h2".to_vec()];
    refused(&plugin, config).await;
    let log = plugin.wait_for_log("refused a connection");
    assert!(log.contains("BadSignature"), "{log}");

    assert_still_served(&mut plugin, &terraform).await;
    let _ = std::fs::remove_dir_all(dir);
}
