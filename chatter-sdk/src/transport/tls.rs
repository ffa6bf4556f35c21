//! TLS for `https://` and `wss://` servers, natively: rustls on ring, trusting Mozilla's
//! root certificates (webpki-roots) and any the app adds (a company's own CA, or a test
//! certificate), the same for HTTP and the WebSocket.

use super::TransportError;
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;

/// Root certificates to trust besides the built-in ones, as PEM.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExtraRoots(Vec<Vec<u8>>);

impl ExtraRoots {
    /// Adds the certificates of a PEM file's contents; answers how many it held.
    pub(crate) fn add_pem(&mut self, pem: &[u8]) -> Result<usize, TransportError> {
        let count = certificates(pem)?.len();
        if count == 0 {
            return Err(TransportError("no certificate in the PEM given".into()));
        }
        self.0.push(pem.to_vec());
        Ok(count)
    }

    /// Each PEM added, as given.
    pub(crate) fn pems(&self) -> &[Vec<u8>] {
        &self.0
    }

    /// The rustls configuration for WebSockets: the built-in roots and these.
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, TransportError> {
        let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        for pem in &self.0 {
            for cert in certificates(pem)? {
                roots.add(cert).map_err(|e| TransportError(format!("a root certificate is unusable: {e}")))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError(format!("TLS set-up failed: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TransportError(format!("not a PEM certificate: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_without_certificates_is_refused() {
        let mut roots = ExtraRoots::default();
        assert!(roots.add_pem(b"not a certificate").is_err());
        assert!(roots.add_pem(b"").is_err());
        assert!(roots.pems().is_empty());
        assert!(roots.client_config().is_ok(), "the built-in roots alone make a configuration");
    }
}
