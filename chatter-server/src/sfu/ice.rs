//! The STUN and TURN servers handed to clients with each join. TURN credentials follow
//! the TURN REST scheme coturn implements (`use-auth-secret`): the username is
//! `<expiry unix time>:<user id>` and the password is base64(HMAC-SHA1(secret,
//! username)), so the TURN server checks them with the shared secret alone.

use base64::Engine as _;
use chatter_core::UserId;
use chatter_core::protocol::IceServer;
use sha1::{Digest, Sha1};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Configured STUN/TURN servers.
#[derive(Debug, Clone, Default)]
pub struct IceConfig {
    /// `stun:` URLs.
    pub stun_urls: Vec<String>,
    /// `turn:`/`turns:` URLs (all behind one shared secret).
    pub turn_urls: Vec<String>,
    /// The secret shared with the TURN server.
    pub turn_secret: Option<String>,
    /// How long handed-out TURN credentials stay valid.
    pub turn_ttl: Duration,
}

impl IceConfig {
    /// The servers for `user_id`, with TURN credentials valid from `now` for the TTL.
    pub fn servers(&self, user_id: &UserId, now: SystemTime) -> Vec<IceServer> {
        let mut servers = Vec::new();
        if !self.stun_urls.is_empty() {
            servers.push(IceServer { urls: self.stun_urls.clone(), username: None, credential: None });
        }
        if let (false, Some(secret)) = (self.turn_urls.is_empty(), &self.turn_secret) {
            let expiry = now.checked_add(self.turn_ttl).unwrap_or(now);
            let (username, credential) = turn_credentials(secret, user_id, expiry);
            servers.push(IceServer {
                urls: self.turn_urls.clone(),
                username: Some(username),
                credential: Some(credential),
            });
        }
        servers
    }
}

/// TURN REST credentials for `user_id` that expire at `expiry`: (username, password).
pub fn turn_credentials(secret: &str, user_id: &UserId, expiry: SystemTime) -> (String, String) {
    let unix = expiry.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let username = format!("{unix}:{user_id}");
    let mac = hmac_sha1(secret.as_bytes(), username.as_bytes());
    (username, base64::engine::general_purpose::STANDARD.encode(mac))
}

/// HMAC-SHA1 (RFC 2104), as the TURN REST scheme specifies.
fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..20].copy_from_slice(&Sha1::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|k| k ^ byte);
    let inner = Sha1::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha1::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        assert_eq!(hex(&hmac_sha1(&[0x0b; 20], b"Hi There")), "b617318655057264e28bc0b6fb378c8ef146be00");
        assert_eq!(
            hex(&hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        // A key longer than the block is hashed first.
        assert_eq!(
            hex(&hmac_sha1(&[0xaa; 80], b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
    }

    #[test]
    fn turn_credentials_follow_the_rest_scheme() {
        let expiry = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let (user, pass) = turn_credentials("s3cret", &UserId::new("u1"), expiry);
        assert_eq!(user, "1700000000:u1");
        let expected = base64::engine::general_purpose::STANDARD.encode(hmac_sha1(b"s3cret", user.as_bytes()));
        assert_eq!(pass, expected);
        let config = IceConfig {
            stun_urls: vec!["stun:stun.example:3478".into()],
            turn_urls: vec!["turn:turn.example:3478?transport=udp".into()],
            turn_secret: Some("s3cret".into()),
            turn_ttl: Duration::from_secs(3600),
        };
        let servers = config.servers(&UserId::new("u1"), UNIX_EPOCH + Duration::from_secs(1_000));
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[1].username.as_deref(), Some("4600:u1"));
        // Without a secret no TURN server is handed out (it could not be used).
        let stun_only = IceConfig { turn_secret: None, ..config };
        assert_eq!(stun_only.servers(&UserId::new("u1"), SystemTime::now()).len(), 1);
    }
}
