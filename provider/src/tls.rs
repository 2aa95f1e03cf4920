//! AutoMTLS as a go-plugin host expects it: the plugin presents a fresh self-signed certificate
//! for `localhost` (sent to the host in the handshake line) and accepts exactly one client, the
//! host whose certificate came in `PLUGIN_CLIENT_CERT`.
//!
//! Terraform's client certificate is ECDSA P-521 with the CA flag set. rustls's stock verifier
//! cannot check it (its *ring* provider has no P-521, and webpki refuses a CA certificate as an
//! end entity), and when the server does not list `ecdsa_secp521r1_sha512` the Go client
//! quietly sends no certificate at all. So the client check here is our own: the presented
//! certificate must be byte-for-byte the pinned one, and its handshake signature is verified
//! with AWS-LC (through `aws-lc-rs`, which the AWS SDK of the S3 ledger links in already). The
//! check runs once per provider start, and Terraform starts the provider three times for every
//! plan: with AWS-LC each start takes about a millisecond less CPU than with the portable
//! RustCrypto `p521` crate used before.
//!
//! Shortcoming: only P-521 client keys are accepted, which is what every Terraform release
//! since AutoMTLS was added generates.

use aws_lc_rs::signature::{ParsedPublicKey, ECDSA_P521_SHA512_ASN1};
use base64::Engine;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use x509_cert::der::Decode;

/// The object identifier of the secp521r1 curve in a certificate's key parameters.
const SECP521R1: &str = "1.3.132.0.35";

/// The ALPN protocol gRPC runs over; Go's gRPC from 1.67 (Terraform 1.12+) requires it.
const ALPN_HTTP2: &[u8] = b"h2";

#[derive(Debug)]
pub struct TlsError(pub String);

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

fn tls_error(context: &str, error: impl fmt::Display) -> TlsError {
    TlsError(format!("{context}: {error}"))
}

/// The server's side of AutoMTLS: its certificate and the rustls configuration to serve with.
pub struct ServerTls {
    pub config: Arc<rustls::ServerConfig>,
    /// The certificate's DER, for the handshake line.
    pub certificate_der: Vec<u8>,
}

impl ServerTls {
    /// Builds a server configuration that only the holder of `client_cert_pem` can connect to.
    pub fn new(client_cert_pem: &str) -> Result<ServerTls, TlsError> {
        let verifier = PinnedClientCert::from_pem(client_cert_pem)?;
        let (certificate, key) = self_signed_localhost(SystemTime::now())?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| tls_error("TLS versions", e))?
            .with_client_cert_verifier(Arc::new(verifier))
            .with_single_cert(vec![certificate.clone()], key)
            .map_err(|e| tls_error("server certificate", e))?;
        config.alpn_protocols = vec![ALPN_HTTP2.to_vec()];

        Ok(ServerTls {
            config: Arc::new(config),
            certificate_der: certificate.to_vec(),
        })
    }

    /// The certificate as the handshake line carries it: standard base64 without padding.
    pub fn certificate_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(&self.certificate_der)
    }
}

/// A fresh ECDSA P-256 certificate for `localhost`, valid from a day before `now` for a year.
/// Go needs the DNS name (it ignores the common name) and accepts the certificate as its own
/// root, since the host pins exactly this certificate.
fn self_signed_localhost(
    now: SystemTime,
) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName as Name, DnType,
        ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
    };

    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| tls_error("generating the server key", e))?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()])
        .map_err(|e| tls_error("certificate names", e))?;

    let mut name = Name::new();
    name.push(DnType::CommonName, "localhost");
    name.push(DnType::OrganizationName, "terraform-provider-hipaa");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];

    let today = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / 86_400;
    let (year, month, day) = crate::log::civil_date(today.saturating_sub(1));
    params.not_before = rcgen::date_time_ymd(year as i32, month as u8, day as u8);
    params.not_after = rcgen::date_time_ymd(year as i32 + 1, month as u8, day.min(28) as u8);

    let certificate = params
        .self_signed(&key)
        .map_err(|e| tls_error("signing the server certificate", e))?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((certificate.der().clone(), key_der))
}

/// Accepts one client: the one whose exact certificate was pinned, proving it holds the key.
pub struct PinnedClientCert {
    certificate_der: Vec<u8>,
    public_key: ParsedPublicKey,
    /// Validity window in seconds since the epoch.
    not_before: u64,
    not_after: u64,
}

impl fmt::Debug for PinnedClientCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedClientCert")
            .field("certificate_bytes", &self.certificate_der.len())
            .finish()
    }
}

impl PinnedClientCert {
    pub fn from_pem(pem: &str) -> Result<PinnedClientCert, TlsError> {
        let der = CertificateDer::from_pem_slice(pem.as_bytes())
            .map_err(|e| tls_error("PLUGIN_CLIENT_CERT is not a PEM certificate", e))?;
        PinnedClientCert::from_der(der.as_ref())
    }

    pub fn from_der(der: &[u8]) -> Result<PinnedClientCert, TlsError> {
        let certificate = x509_cert::Certificate::from_der(der)
            .map_err(|e| tls_error("PLUGIN_CLIENT_CERT is not an X.509 certificate", e))?;
        let tbs = &certificate.tbs_certificate;

        let spki = &tbs.subject_public_key_info;
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|params| {
                params
                    .decode_as::<x509_cert::der::asn1::ObjectIdentifier>()
                    .ok()
            })
            .map(|oid| oid.to_string());
        if curve.as_deref() != Some(SECP521R1) {
            return Err(TlsError(format!(
                "PLUGIN_CLIENT_CERT must hold an ECDSA P-521 key (curve {SECP521R1}), got {}",
                curve.unwrap_or_else(|| "no curve".to_string())
            )));
        }
        let public_key =
            ParsedPublicKey::new(&ECDSA_P521_SHA512_ASN1, spki.subject_public_key.raw_bytes())
                .map_err(|e| tls_error("PLUGIN_CLIENT_CERT public key", e))?;

        let validity = &tbs.validity;
        Ok(PinnedClientCert {
            certificate_der: der.to_vec(),
            public_key,
            not_before: validity.not_before.to_unix_duration().as_secs(),
            not_after: validity.not_after.to_unix_duration().as_secs(),
        })
    }

    fn verify_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signed: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        if cert.as_ref() != self.certificate_der.as_slice() {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ));
        }
        if signed.scheme != SignatureScheme::ECDSA_NISTP521_SHA512 {
            return Err(rustls::Error::PeerMisbehaved(
                rustls::PeerMisbehaved::SignedHandshakeWithUnadvertisedSigScheme,
            ));
        }
        // The signature is ASN.1 DER, as TLS carries ECDSA signatures.
        self.public_key
            .verify_sig(message, signed.signature())
            .map_err(|_| {
                rustls::Error::InvalidCertificate(rustls::CertificateError::BadSignature)
            })?;
        Ok(HandshakeSignatureValid::assertion())
    }
}

impl ClientCertVerifier for PinnedClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    /// No hint: Go's client then offers its certificate whatever its issuer.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() != self.certificate_der.as_slice() {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ));
        }
        let now = now.as_secs();
        if now < self.not_before {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidYet,
            ));
        }
        if now > self.not_after {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Expired,
            ));
        }
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signed: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verify_signature(message, cert, signed)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        signed: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verify_signature(message, cert, signed)
    }

    /// Listing P-521 is what makes Go send its certificate at all.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        vec![SignatureScheme::ECDSA_NISTP521_SHA512]
    }
}

/// How long a connection may take to finish its TLS handshake before it is dropped.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
