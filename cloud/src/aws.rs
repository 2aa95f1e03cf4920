//! How this crate reaches AWS: the standard credential chain and region settings (environment,
//! shared config and credentials files, container and instance roles), optionally a named
//! profile, a region, and an endpoint override for S3-compatible services and emulators.
//!
//! The SDK is asynchronous; the ledger backend and the audit are called from plain threads and
//! from inside other runtimes (the provider's gRPC server). Every SDK call therefore runs on one
//! process-wide runtime of this crate, and callers wait for the answer on a channel: waiting
//! that way is allowed from any thread, where entering a second runtime is not.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use std::future::Future;
use std::sync::OnceLock;

/// Where and as whom to call AWS. Everything left out comes from the standard chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// The region, e.g. `us-east-1`; otherwise `AWS_REGION` or the profile's.
    pub region: Option<String>,
    /// A base URL that replaces AWS's endpoints, e.g. `http://127.0.0.1:5000` for an
    /// S3-compatible store. S3 is then addressed path-style (`endpoint/bucket/key`).
    pub endpoint: Option<String>,
    /// A profile of the shared config files; otherwise `AWS_PROFILE` or `default`.
    pub profile: Option<String>,
}

/// The region used when neither the settings nor the environment name one.
const FALLBACK_REGION: &str = "us-east-1";

/// Worker threads of the runtime SDK calls run on: calls are network-bound.
const RUNTIME_THREADS: usize = 2;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_THREADS)
            .thread_name("hipaa-aws")
            .enable_all()
            .build()
            .expect("the operating system gives the AWS runtime its threads")
    })
}

/// Runs `future` on this crate's runtime and waits for its outcome. Callable from any thread,
/// including a thread of another Tokio runtime.
pub fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    wait(spawn(future))
}

/// The outcome of a future started by [`spawn`].
pub struct Pending<T>(std::sync::mpsc::Receiver<T>);

/// Starts `future` on this crate's runtime without waiting for it.
pub fn spawn<F>(future: F) -> Pending<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    runtime().spawn(async move {
        let _ = sender.send(future.await);
    });
    Pending(receiver)
}

/// Waits for a future started by [`spawn`].
pub fn wait<T>(pending: Pending<T>) -> T {
    pending
        .0
        .recv()
        .expect("the AWS runtime finishes every call it is given")
}

/// Loads the SDK configuration: the standard chain, overridden by what `settings` name.
pub async fn sdk_config(settings: &AwsSettings) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    let config = loader.load().await;
    if config.region().is_some() {
        return config;
    }
    config
        .into_builder()
        .region(Region::new(FALLBACK_REGION))
        .build()
}

/// An S3 client for `region` (the configuration's own when `None`). An endpoint override
/// means path-style addressing: a loopback address cannot carry bucket subdomains.
pub fn s3_client(config: &SdkConfig, settings: &AwsSettings, region: Option<&str>) -> S3Client {
    let mut builder = aws_sdk_s3::config::Builder::from(config);
    if settings.endpoint.is_some() {
        builder = builder.force_path_style(true);
    }
    if let Some(region) = region {
        builder = builder.region(Region::new(region.to_string()));
    }
    S3Client::from_conf(builder.build())
}

pub fn kms_client(config: &SdkConfig) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(config)
}

pub type S3Client = aws_sdk_s3::Client;

/// Why an AWS call failed, in the terms a report needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The credentials are not allowed to make the call.
    Denied,
    /// AWS kept answering "slow down" after the SDK's retries.
    Throttled,
    /// The resource went away between listing and reading it.
    Gone,
    /// Anything else: network, server errors, answers the SDK cannot read.
    Other,
}

/// A failed call: which one, what kind of failure, and AWS's own words (code and message,
/// never request or response bodies).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    pub call: &'static str,
    pub kind: FailureKind,
    pub detail: String,
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            FailureKind::Denied => "access denied",
            FailureKind::Throttled => "throttled",
            FailureKind::Gone => "no longer exists",
            FailureKind::Other => "failed",
        };
        write!(f, "{} {kind}: {}", self.call, self.detail)
    }
}

/// Error codes AWS services use for missing permissions.
const DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AllAccessDisabled",
    "UnauthorizedOperation",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidClientTokenId",
];

/// Error codes AWS services use for throttling.
const THROTTLED_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "SlowDown",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
];

/// Error codes that mean the resource is not there (any more).
const GONE_CODES: &[&str] = &["NoSuchBucket", "NotFoundException", "NoSuchKey"];

/// Describes an SDK error by its code, message and HTTP status.
pub fn call_failure<E, R>(call: &'static str, error: &SdkError<E, R>) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = error.code().unwrap_or_default();
    let kind = if DENIED_CODES.contains(&code) {
        FailureKind::Denied
    } else if THROTTLED_CODES.contains(&code) {
        FailureKind::Throttled
    } else if GONE_CODES.contains(&code) {
        FailureKind::Gone
    } else {
        FailureKind::Other
    };
    let detail = match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => describe_without_code(error),
    };
    CallFailure { call, kind, detail }
}

/// Says what went wrong when the service sent no error code. The SDK's own descriptions are
/// not used: they include the raw response, body and all, which may be an object's content.
fn describe_without_code<E, R>(error: &SdkError<E, R>) -> String {
    match error {
        SdkError::ConstructionFailure(_) => "the request could not be built".to_string(),
        SdkError::TimeoutError(_) => "timed out".to_string(),
        SdkError::DispatchFailure(failure) => {
            let why = if failure.is_timeout() {
                "timed out"
            } else if failure.is_io() {
                "connection failed"
            } else {
                "request not sent"
            };
            format!("could not reach the service ({why})")
        }
        SdkError::ResponseError(_) => "the answer could not be read".to_string(),
        SdkError::ServiceError(_) => {
            "the answer could not be read: it is not in the shape the SDK expects".to_string()
        }
        _ => "unknown failure".to_string(),
    }
}

/// The error code of an SDK error, when the service sent one.
pub fn error_code<E, R>(error: &SdkError<E, R>) -> Option<&str>
where
    E: ProvideErrorMetadata,
{
    error.code()
}

/// The HTTP status of a service's answer, when there was one.
pub fn http_status<E>(error: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Option<u16> {
    error
        .raw_response()
        .map(|response| response.status().as_u16())
}
