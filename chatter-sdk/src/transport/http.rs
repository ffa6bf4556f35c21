//! HTTP over reqwest (hyper natively, `fetch` on wasm32).

use super::{HttpRequest, HttpResponse, HttpTransport, Method, TransportError};
use std::time::Duration;

/// The default HTTP transport.
#[derive(Debug, Clone, Default)]
///
/// ```no_run
/// # async fn demo() -> Result<(), chatter_sdk::transport::TransportError> {
/// use chatter_sdk::transport::{HttpRequest, HttpTransport, Method, ReqwestTransport};
/// let answer = ReqwestTransport::new()
///     .send(HttpRequest { method: Method::Get, url: "http://127.0.0.1:8080/healthz".into(), bearer: None, body: None })
///     .await?;
/// assert_eq!(answer.status, 200);
/// # Ok(()) }
/// ```
pub struct ReqwestTransport {
    client: reqwest::Client,
    /// Send the browser's cookies with every request (`credentials: "include"`).
    #[cfg(target_family = "wasm")]
    credentials: bool,
}

impl ReqwestTransport {
    /// A transport with reqwest's defaults.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), chatter_sdk::transport::TransportError> {
    /// let transport = chatter_sdk::transport::ReqwestTransport::new();
    /// let client = chatter_sdk::Client::builder().server("http://127.0.0.1:8080").http_transport(transport);
    /// # Ok(()) }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A transport that sends the browser's cookies with every request, for a session
    /// kept in the server's cookie.
    #[cfg(target_family = "wasm")]
    pub(crate) fn with_credentials() -> Self {
        Self { credentials: true, ..Self::default() }
    }

    /// A transport that also trusts `roots` for `https://`.
    #[cfg(not(target_family = "wasm"))]
    pub(crate) fn trusting(roots: &super::tls::ExtraRoots) -> Result<Self, TransportError> {
        let mut builder = reqwest::Client::builder();
        for pem in roots.pems() {
            for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(|e| TransportError(e.to_string()))? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(|e| TransportError(format!("HTTP set-up failed: {e}")))?;
        Ok(Self { client })
    }
}

#[cfg_attr(target_family = "wasm", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_family = "wasm"), async_trait::async_trait)]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self.client.request(method, &request.url);
        #[cfg(target_family = "wasm")]
        if self.credentials {
            builder = builder.fetch_credentials_include();
        }
        if let Some(token) = &request.bearer {
            builder = builder.bearer_auth(token);
        }
        if let Some(body) = request.body {
            builder = builder.header("content-type", "application/json").body(body);
        }
        let response = builder.send().await.map_err(|e| TransportError(e.to_string()))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.text().await.map_err(|e| TransportError(e.to_string()))?;
        Ok(HttpResponse { status, retry_after, body })
    }
}
