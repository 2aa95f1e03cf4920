//! Serving the plugin: a Unix socket in a private directory, mutual TLS on every connection,
//! the provider service plus go-plugin's controller, stdio and broker services, and a prompt
//! exit when the host calls `GRPCController.Shutdown`.

use crate::handshake::{self, PluginEnv, Transport};
use crate::log;
use crate::tls::{ServerTls, HANDSHAKE_TIMEOUT};
use hipaa_proto::plugin::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};
use hipaa_proto::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};
use hipaa_proto::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use hipaa_proto::plugin::{ConnInfo, Empty, StdioData};
use hipaa_proto::tfplugin6::provider_server::ProviderServer;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch};
use tonic::codegen::BoxStream;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status, Streaming};

/// Terraform's own Go providers allow 256 MiB messages both ways; tonic's default is 4 MiB.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// How long in-flight calls get to finish after Shutdown before the process exits anyway. The
/// host kills the process after two seconds.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// How often the plugin checks that the process that launched it is still there.
const HOST_CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// The entry point of a launch by Terraform: checks, handshake, serve, exit.
pub fn run() -> ExitCode {
    log::install_panic_hook();

    let env = PluginEnv::from_process();
    let transport = match handshake::check_launch(&env) {
        Ok(transport) => transport,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(1);
        }
    };

    // One thread serves everything. Each call takes microseconds and Terraform runs on the
    // same cores, so worker threads would add only wake-ups and context switches (an eventfd
    // write and futex calls per request). Known cost: while a call waits on the S3 ledger,
    // the calls behind it wait too; with workers they mostly waited as well, on the ledger's
    // lock, which S3 reads hold.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::from(1);
        }
    };

    match runtime.block_on(serve(env, transport)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            log::error("provider stopped", &[("error", &error)]);
            eprintln!("terraform-provider-hipaa: {error}");
            ExitCode::from(1)
        }
    }
}

async fn serve(env: PluginEnv, transport: Transport) -> Result<(), String> {
    ignore_interrupts()?;

    let tls = match &transport {
        Transport::MutualTls { client_cert_pem } => {
            Some(ServerTls::new(client_cert_pem).map_err(|e| e.to_string())?)
        }
        Transport::Plaintext => {
            log::warn(
                "serving without TLS because TF_DISABLE_PLUGIN_TLS is set",
                &[],
            );
            None
        }
    };

    let socket_dir = SocketDir::create(env.socket_dir.as_deref())?;
    let socket_path = socket_dir.path.join("plugin.sock");
    let listener = UnixListener::bind(&socket_path)
        .map_err(|e| format!("cannot listen on {}: {e}", socket_path.display()))?;

    let certificate = tls.as_ref().map(ServerTls::certificate_base64);
    let line = handshake::handshake_line(&socket_path.to_string_lossy(), certificate.as_deref());
    print_handshake(&line)?;
    log::info(
        "plugin listening",
        &[("socket", &socket_path.to_string_lossy())],
    );

    let incoming = accept_connections(listener, tls.map(|tls| tls.config));
    let (shutdown_sender, shutdown_receiver) = watch::channel(false);
    stop_when_orphaned(shutdown_sender.clone());
    serve_connections(incoming, shutdown_sender, shutdown_receiver).await;

    log::info("plugin shut down", &[]);
    drop(socket_dir);
    Ok(())
}

/// Runs the gRPC services on the accepted connections until Shutdown is called.
pub async fn serve_connections(
    incoming: mpsc::Receiver<Result<PluginConnection, std::io::Error>>,
    shutdown_sender: watch::Sender<bool>,
    shutdown_receiver: watch::Receiver<bool>,
) {
    let provider = ProviderServer::new(crate::grpc::ProviderService::new())
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let controller = GrpcControllerServer::new(Controller {
        shutdown: shutdown_sender,
    });

    let mut shutdown_requested = shutdown_receiver.clone();
    let mut drain_deadline = shutdown_receiver;
    let server = tonic::transport::Server::builder()
        .add_service(provider)
        .add_service(controller)
        .add_service(GrpcStdioServer::new(Stdio))
        .add_service(GrpcBrokerServer::new(Broker))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::ReceiverStream::new(incoming),
            async move {
                let _ = shutdown_requested.wait_for(|stop| *stop).await;
            },
        );

    // Graceful shutdown waits for open streams (stdio, broker) that only the host closes; the
    // grace period bounds that wait.
    tokio::select! {
        result = server => {
            if let Err(error) = result {
                log::error("gRPC server failed", &[("error", &error.to_string())]);
            }
        }
        _ = async {
            let _ = drain_deadline.wait_for(|stop| *stop).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {}
    }
}

/// Terraform ends its plugins with Shutdown, but a Terraform that was killed ends nothing: its
/// plugins would wait for a host that never comes back. When the parent process changes (the
/// orphan was adopted by init or a subreaper), the plugin shuts down as if told to.
fn stop_when_orphaned(shutdown: watch::Sender<bool>) {
    let host = std::os::unix::process::parent_id();
    tokio::spawn(async move {
        let mut checks = tokio::time::interval(HOST_CHECK_INTERVAL);
        loop {
            checks.tick().await;
            if std::os::unix::process::parent_id() != host {
                log::warn(
                    "the process that launched the plugin is gone; stopping",
                    &[],
                );
                let _ = shutdown.send(true);
                return;
            }
        }
    });
}

/// The first and only stdout output: the host reads it to learn where to connect.
fn print_handshake(line: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write the handshake line: {e}"))
}

/// Ctrl-C reaches the whole process group, the provider included. Terraform handles the
/// interrupt itself (it calls StopProvider), so the provider must not die of it. Registering
/// a handler replaces the default action of terminating.
fn ignore_interrupts() -> Result<(), String> {
    let mut interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|e| format!("cannot take over SIGINT: {e}"))?;
    tokio::spawn(async move {
        while interrupts.recv().await.is_some() {
            log::debug("ignoring SIGINT; Terraform stops the provider itself", &[]);
        }
    });
    Ok(())
}

/// A private directory (mode 0700) holding the socket, removed when the plugin exits. Only
/// the user running Terraform can reach the socket, unlike a loopback TCP port.
struct SocketDir {
    path: PathBuf,
}

impl SocketDir {
    fn create(parent: Option<&Path>) -> Result<SocketDir, String> {
        let parent = parent
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        let unique = format!(
            "hipaa-plugin-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let path = parent.join(unique);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|e| format!("cannot create socket directory {}: {e}", path.display()))?;
        // The umask may have narrowed the mode further, never widened it; set it exactly.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
        Ok(SocketDir { path })
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Accepts connections on a task of its own; TLS handshakes run one task each so that a slow
/// or refused client holds up no one else.
pub fn accept_connections(
    listener: UnixListener,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> mpsc::Receiver<Result<PluginConnection, std::io::Error>> {
    let (sender, receiver) = mpsc::channel(16);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(error) => {
                    log::error("accept failed", &[("error", &error.to_string())]);
                    continue;
                }
            };
            let sender = sender.clone();
            match acceptor.clone() {
                None => {
                    let _ = sender.send(Ok(PluginConnection::Plain(stream))).await;
                }
                Some(acceptor) => {
                    tokio::spawn(async move {
                        let handshake =
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                        match handshake {
                            Ok(Ok(tls_stream)) => {
                                let connection = PluginConnection::Tls(Box::new(tls_stream));
                                let _ = sender.send(Ok(connection)).await;
                            }
                            Ok(Err(error)) => {
                                log::warn("refused a connection", &[("error", &error.to_string())])
                            }
                            Err(_) => {
                                log::warn("refused a connection: TLS handshake timed out", &[])
                            }
                        }
                    });
                }
            }
        }
    });
    receiver
}

/// One accepted connection, encrypted or (only when TLS is turned off) not.
pub enum PluginConnection {
    Plain(UnixStream),
    Tls(Box<tokio_rustls::server::TlsStream<UnixStream>>),
}

impl Connected for PluginConnection {
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for PluginConnection {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            PluginConnection::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            PluginConnection::Tls(stream) => Pin::new(stream.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for PluginConnection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            PluginConnection::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            PluginConnection::Tls(stream) => Pin::new(stream.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            PluginConnection::Plain(stream) => Pin::new(stream).poll_flush(cx),
            PluginConnection::Tls(stream) => Pin::new(stream.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            PluginConnection::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            PluginConnection::Tls(stream) => Pin::new(stream.as_mut()).poll_shutdown(cx),
        }
    }
}

/// `plugin.GRPCController`: the host's way to end the plugin process.
struct Controller {
    shutdown: watch::Sender<bool>,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        log::debug("shutdown requested by the host", &[]);
        let _ = self.shutdown.send(true);
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio`: nothing is ever forwarded (logs go to stderr directly), so the stream
/// stays open and silent until the host closes it.
struct Stdio;

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<BoxStream<StdioData>>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::pending())))
    }
}

/// `plugin.GRPCBroker`: Terraform opens the stream but providers never broker connections.
struct Broker;

#[tonic::async_trait]
impl GrpcBroker for Broker {
    async fn start_stream(
        &self,
        _request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<BoxStream<ConnInfo>>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::pending())))
    }
}
