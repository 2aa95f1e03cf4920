//! What the provider's own tests need to launch it the way Terraform does and talk to it: a
//! Terraform-shaped client certificate, the launched process, and a gRPC channel over its
//! socket with mutual TLS.
//!
//! The client certificates are made with the `openssl` command, which writes P-521
//! certificates the way Go does; the pure-Rust certificate generator here cannot sign P-521.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use hipaa_proto::tfplugin6::get_provider_schema;
use hipaa_proto::tfplugin6::provider_client::ProviderClient;
use hyper_util::rt::TokioIo;
use p521::ecdsa::signature::Signer as _;
use p521::pkcs8::DecodePrivateKey;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::ResolvesClientCert;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{DigitallySignedStruct, SignatureAlgorithm, SignatureScheme};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};

pub const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client certificate with its key, shaped like the one Terraform makes for each launch.
pub struct ClientIdentity {
    pub certificate_pem: String,
    pub key: Arc<p521::ecdsa::SigningKey>,
}

pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hipaa-plugin-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn terraform_shaped_identity(dir: &Path, name: &str) -> ClientIdentity {
    let key_path = dir.join(format!("{name}.key"));
    let cert_path = dir.join(format!("{name}.pem"));
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-521",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/O=HashiCorp/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .args([
            "-addext",
            "keyUsage=digitalSignature,keyEncipherment,keyCertSign",
        ])
        .args(["-addext", "extendedKeyUsage=clientAuth,serverAuth"])
        .arg("-keyout")
        .arg(&key_path)
        .arg("-out")
        .arg(&cert_path)
        .output()
        .expect("the openssl command is needed to make P-521 test certificates");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let key_pem = std::fs::read_to_string(&key_path).unwrap();
    let secret = p521::SecretKey::from_pkcs8_pem(&key_pem).unwrap();
    ClientIdentity {
        certificate_pem: std::fs::read_to_string(&cert_path).unwrap(),
        key: Arc::new(p521::ecdsa::SigningKey::from_bytes(&secret.to_bytes()).unwrap()),
    }
}

/// The provider process, killed if a test ends before it exits.
pub struct Plugin {
    pub child: Child,
    pub stderr_path: PathBuf,
    pub socket: String,
    pub server_cert_der: Vec<u8>,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.stderr_path);
    }
}

impl Plugin {
    /// The provider's log lines so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Waits (bounded) for a log line containing `needle`.
    pub fn wait_for_log(&self, needle: &str) -> String {
        for _ in 0..100 {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.log()
    }
}

pub fn launch(envs: &[(&str, &str)]) -> Plugin {
    static LAUNCHES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let launch = LAUNCHES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let stderr_path = std::env::temp_dir().join(format!(
        "hipaa-plugin-test-{}-stderr-{launch}.log",
        std::process::id()
    ));
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-hipaa"))
        .env_remove("TF_DISABLE_PLUGIN_TLS")
        .env_remove("PLUGIN_CLIENT_CERT")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line {line:?}");
    assert_eq!(&fields[..3], &["1", "6", "unix"]);
    assert_eq!(fields[4], "grpc");
    use base64::Engine;
    let server_cert_der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .unwrap();
    Plugin {
        stderr_path,
        socket: fields[3].to_string(),
        server_cert_der,
        child,
    }
}

pub fn launch_with_tls(client: &ClientIdentity) -> Plugin {
    launch(&[
        ("TF_PLUGIN_MAGIC_COOKIE", COOKIE),
        ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
        ("PLUGIN_CLIENT_CERT", &client.certificate_pem),
    ])
}

/// Trusts exactly the certificate from the handshake line, as Terraform does.
#[derive(Debug)]
pub struct PinnedServer {
    der: Vec<u8>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.der.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("not the pinned server".into()))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Signs the handshake with the P-521 key, which the ring provider cannot do.
pub struct P521Key(pub Arc<p521::ecdsa::SigningKey>);

impl std::fmt::Debug for P521Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P521Key")
    }
}

impl SigningKey for P521Key {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        offered
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
            .then(|| Box::new(P521Key(self.0.clone())) as Box<dyn Signer>)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::ECDSA
    }
}

impl Signer for P521Key {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        let signature: p521::ecdsa::Signature = self.0.sign(message);
        Ok(signature.to_der().as_bytes().to_vec())
    }

    fn scheme(&self) -> SignatureScheme {
        SignatureScheme::ECDSA_NISTP521_SHA512
    }
}

/// Offers the certificate only when the server lists P-521, as Go's client does.
#[derive(Debug)]
pub struct GoLikeClientCert(pub Arc<CertifiedKey>);

impl ResolvesClientCert for GoLikeClientCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        schemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        schemes
            .contains(&SignatureScheme::ECDSA_NISTP521_SHA512)
            .then(|| self.0.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// A client configuration that trusts the plugin's server certificate; the caller says which
/// client certificate, if any, to present.
pub fn client_builder(
    plugin: &Plugin,
) -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::client::WantsClientCert> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer {
            der: plugin.server_cert_der.clone(),
            provider,
        }))
}

pub fn client_config(plugin: &Plugin, identity: Option<&ClientIdentity>) -> rustls::ClientConfig {
    let builder = client_builder(plugin);
    let mut config = match identity {
        Some(identity) => {
            let cert = CertificateDer::from_pem_slice(identity.certificate_pem.as_bytes()).unwrap();
            let key = CertifiedKey::new(vec![cert], Arc::new(P521Key(identity.key.clone())));
            builder.with_client_cert_resolver(Arc::new(GoLikeClientCert(Arc::new(key))))
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    config
}

pub async fn connect(
    plugin: &Plugin,
    identity: Option<&ClientIdentity>,
) -> Result<Channel, String> {
    connect_with(plugin, client_config(plugin, identity)).await
}

/// A channel over TLS made with `config`, which must offer ALPN `h2`.
pub async fn connect_with(
    plugin: &Plugin,
    config: rustls::ClientConfig,
) -> Result<Channel, String> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let socket = plugin.socket.clone();
    Endpoint::try_from("http://localhost")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let connector = connector.clone();
            let socket = socket.clone();
            async move {
                let stream = UnixStream::connect(socket).await?;
                let name = ServerName::try_from("localhost").unwrap();
                let tls = connector.connect(name, stream).await?;
                assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| format!("{e:?}"))
}

pub async fn resource_types(channel: Channel) -> Result<Vec<String>, tonic::Status> {
    let mut client = ProviderClient::new(channel);
    let schema = client
        .get_provider_schema(get_provider_schema::Request {})
        .await?
        .into_inner();
    Ok(schema.resource_schemas.keys().cloned().collect())
}

/// Waits for the process to exit by itself (bounded), returning its status.
/// Whether the process is still running: a panic would have ended it.
pub fn is_alive(plugin: &mut Plugin) -> bool {
    plugin.child.try_wait().unwrap().is_none()
}

pub fn wait_for_exit(plugin: &mut Plugin) -> Option<std::process::ExitStatus> {
    for _ in 0..100 {
        if let Some(status) = plugin.child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}
