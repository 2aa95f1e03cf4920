//! Whatever reaches the plugin's socket, the plugin survives it: random bytes, a plain-text
//! HTTP/1.1 request, an HTTP/2 preface without TLS, a TLS ClientHello cut short, a connection
//! that never speaks, and hundreds of connections at once. After each, Terraform's own client
//! still gets its schema and the process is still running.

mod support;

use rustls::pki_types::ServerName;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::Duration;
use support::*;

/// How long the test waits for the plugin to hang up on a connection it refused.
const REFUSAL_WAIT: Duration = Duration::from_secs(20);

const HTTP1_REQUEST: &[u8] = b"GET /tfplugin6.Provider/GetProviderSchema HTTP/1.1\r\n\
    Host: localhost\r\nConnection: keep-alive\r\n\r\n";

/// The connection preface of HTTP/2 followed by an empty SETTINGS frame, as a gRPC client
/// sends them when it assumes no TLS.
const HTTP2_PREFACE: &[u8] =
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

fn open(plugin: &Plugin) -> UnixStream {
    let stream = UnixStream::connect(&plugin.socket).unwrap();
    stream.set_read_timeout(Some(REFUSAL_WAIT)).unwrap();
    stream.set_write_timeout(Some(REFUSAL_WAIT)).unwrap();
    stream
}

/// Sends `bytes` and reads until the plugin hangs up; returns what it answered. The plugin
/// may hang up while the bytes are still being written, so a failed write is no error.
fn send_and_wait_for_hang_up(plugin: &Plugin, bytes: &[u8]) -> Vec<u8> {
    let mut stream = open(plugin);
    let _ = stream.write_all(bytes);
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return answer,
            Ok(count) => answer.extend_from_slice(&buffer[..count]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => return answer,
            Err(error) => panic!("the plugin neither answered nor hung up: {error}"),
        }
    }
}

/// The first flight of a TLS client: a ClientHello offering `h2`.
fn client_hello(plugin: &Plugin, identity: &ClientIdentity) -> Vec<u8> {
    let config = Arc::new(client_config(plugin, Some(identity)));
    let name = ServerName::try_from("localhost").unwrap();
    let mut connection = rustls::ClientConnection::new(config, name).unwrap();
    let mut hello = Vec::new();
    connection.write_tls(&mut hello).unwrap();
    assert_eq!(hello[0], 0x16, "a TLS handshake record");
    hello
}

/// splitmix64, seeded so that a failing run can be told apart and replayed.
fn random_bytes(seed: u64, count: usize) -> Vec<u8> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

/// Terraform's client is still served, and the process still runs.
async fn assert_still_serving(plugin: &mut Plugin, identity: &ClientIdentity, after: &str) {
    assert!(
        is_alive(plugin),
        "after {after}: the plugin died\n{}",
        plugin.log()
    );
    let channel = connect(plugin, Some(identity))
        .await
        .unwrap_or_else(|error| panic!("after {after}: cannot connect: {error}"));
    let types = resource_types(channel)
        .await
        .unwrap_or_else(|status| panic!("after {after}: no schema: {status}"));
    assert_eq!(types.len(), 6, "after {after}: {types:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_socket_never_stops_the_plugin() {
    let dir = scratch_dir("garbage");
    let identity = terraform_shaped_identity(&dir, "terraform");
    let mut plugin = launch_with_tls(&identity);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7);

    for (label, bytes) in [
        ("random bytes", random_bytes(seed, 64 * 1024)),
        ("a plain-text HTTP/1.1 request", HTTP1_REQUEST.to_vec()),
        ("an HTTP/2 preface without TLS", HTTP2_PREFACE.to_vec()),
    ] {
        let label = format!("{label} (seed {seed})");
        let answer = send_and_wait_for_hang_up(&plugin, &bytes);
        // At most a TLS alert: nothing is ever served without the handshake.
        assert!(
            answer.is_empty() || answer[0] == 0x15,
            "{label}: answered {answer:?}"
        );
        assert_still_serving(&mut plugin, &identity, &label).await;
    }

    // A ClientHello, then the client goes away before the handshake ends.
    let hello = client_hello(&plugin, &identity);
    let mut stream = open(&plugin);
    stream.write_all(&hello).unwrap();
    let mut server_hello = [0u8; 5];
    stream.read_exact(&mut server_hello).unwrap();
    assert_eq!(
        server_hello[0], 0x16,
        "the plugin answers with its own hello"
    );
    drop(stream);
    assert_still_serving(&mut plugin, &identity, "a ClientHello then close").await;

    // A connection that never says a word stays open while Terraform is served.
    let silent = open(&plugin);
    assert_still_serving(&mut plugin, &identity, "a silent connection").await;

    // Hundreds at once, half of them half-way into a handshake.
    let crowd: Vec<UnixStream> = (0..300)
        .map(|index| {
            let mut stream = open(&plugin);
            if index % 2 == 0 {
                stream.write_all(&hello).unwrap();
            }
            stream
        })
        .collect();
    assert_still_serving(&mut plugin, &identity, "300 connections at once").await;
    drop(crowd);
    drop(silent);
    assert_still_serving(&mut plugin, &identity, "the crowd leaving").await;

    let refusals = plugin.log().matches("refused a connection").count();
    assert!(
        refusals >= 4,
        "refusals logged: {refusals}\n{}",
        plugin.log()
    );
    let _ = std::fs::remove_dir_all(dir);
}
