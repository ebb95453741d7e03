//! Delivers an upload callback ([`rolestack_core::oss::callback`]): one HTTP/1.1 POST to a
//! loopback target the core allowed, with a timeout, and the application's answer judged as OSS
//! does. No name is looked up and no other address is ever connected to. A request that came in
//! through an instance's network namespace calls back to that namespace's loopback (where the
//! instance's application listens), any other to the host's. An `https` callback goes over TLS
//! and accepts whatever certificate the application presents (docs/oss.md, "Upload callbacks");
//! the server name is sent (SNI) only when the callback's `callbackSNI` asks for it.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::rt::TokioIo;
use rolestack_core::oss::callback::{self, Callback, Target, UploadFacts};
use rolestack_core::oss::callback_key::CallbackKey;
use rolestack_core::seal::ServerKey;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};

/// How callback requests are signed (`rolestack_core::oss::callback_key`): the store's key, the
/// server key that opens it, and the `x-oss-pub-key-url` header naming where its public half is.
pub struct Signer {
    pub key: CallbackKey,
    pub server_key: ServerKey,
    pub public_key_url: String,
}

/// Sends the callback to its URLs in order until one answers; `Ok(body)` is the answer to
/// relay with 200, `Err(message)` the `CallbackFailed` message.
pub async fn deliver(cb: &Callback, facts: &UploadFacts, namespace: Option<&str>, signer: &Signer) -> Result<Vec<u8>, String> {
    let body = Bytes::from(cb.render_body(facts));
    let mut last = String::from("No callback URL could be reached.");
    for (url, target) in &cb.urls {
        let target = match target {
            Ok(t) => t,
            Err(why) => {
                last = format!("The callback to {url} is refused: {why}.");
                continue;
            }
        };
        let authorization = signer.key.sign(&signer.server_key, &target.path, &body).map_err(|e| e.to_string())?;
        let headers = [("authorization", authorization.as_str()), ("x-oss-pub-key-url", signer.public_key_url.as_str())];
        let sent = tokio::time::timeout(
            Duration::from_secs(callback::TIMEOUT_SECONDS),
            post(target, namespace, cb.sni, cb.body_type.content_type(), &headers, body.clone()),
        )
        .await;
        match sent {
            Ok(Ok((status, answer))) => return callback::judge(status, &answer),
            Ok(Err(e)) => last = format!("Error status : -1. Connecting to {url}: {e}."),
            Err(_) => last = format!("Error status : -1. {url} did not answer within {} seconds.", callback::TIMEOUT_SECONDS),
        }
    }
    Err(last)
}

async fn post(
    target: &Target,
    namespace: Option<&str>,
    sni: bool,
    content_type: &str,
    signature: &[(&str, &str)],
    body: Bytes,
) -> Result<(u16, Vec<u8>), String> {
    debug_assert!(target.addr.ip().is_loopback(), "the core allows loopback targets only");
    if !target.addr.ip().is_loopback() {
        return Err("not a loopback address".into());
    }
    let timeout = Duration::from_secs(callback::TIMEOUT_SECONDS);
    let stream = match namespace {
        Some(ns) => crate::network::connect_in_namespace(ns, target.addr, timeout).await,
        None => tokio::net::TcpStream::connect(target.addr).await,
    }
    .map_err(|e| e.to_string())?;
    if !target.tls {
        return exchange(stream, target, content_type, signature, body).await;
    }
    let name = ServerName::try_from(target.server_name.clone()).map_err(|e| format!("{}: {e}", target.server_name))?;
    let tls = tokio_rustls::TlsConnector::from(tls_config(sni)).connect(name, stream).await.map_err(|e| format!("TLS: {e}"))?;
    exchange(tls, target, content_type, signature, body).await
}

/// One POST over an open connection (plain or TLS) and the application's answer.
async fn exchange<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    stream: S,
    target: &Target,
    content_type: &str,
    signature: &[(&str, &str)],
    body: Bytes,
) -> Result<(u16, Vec<u8>), String> {
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    let driver = tokio::spawn(connection);
    let mut request = hyper::Request::post(target.path.as_str())
        .header("host", target.host.as_str())
        .header("content-type", content_type)
        .header("content-length", body.len().to_string())
        .header("user-agent", "aliyun-oss-callback");
    for (name, value) in signature {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
    let response = sender.send_request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let answer = Limited::new(response.into_body(), callback::MAX_RESPONSE + 1)
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_else(|_| vec![0; callback::MAX_RESPONSE + 1]);
    driver.abort();
    Ok((status, answer))
}

/// The TLS client of `https` callbacks: no certificate is checked (the handshake's signature is,
/// against the certificate presented); the server name goes out only with `sni`.
fn tls_config(sni: bool) -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    config.enable_sni = sni;
    Arc::new(config)
}

/// Accepts whatever certificate the callback application presents, as OSS does.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
