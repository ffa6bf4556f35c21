//! Argon2id password hashing on a bounded pool: at most `workers` hashes run at once on
//! the blocking pool, at most `max_waiting` more wait; beyond that callers are told to
//! retry later, so a flood of logins cannot starve other requests.

use super::tokens;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};
use chatter_core::value::Password;
use chatter_core::{Credentials, Error};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;

/// Argon2id credentials with a bounded worker pool.
#[derive(Clone)]
pub struct Argon2Credentials {
    running: Arc<Semaphore>,
    in_flight: Arc<AtomicUsize>,
    capacity: usize,
    dummy_hash: Arc<String>,
}

impl std::fmt::Debug for Argon2Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Credentials").field("capacity", &self.capacity).finish_non_exhaustive()
    }
}

fn hash(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("argon2 hash: {e}")))
}

fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Argon2Credentials {
    /// A pool running `workers` hashes at once with at most `max_waiting` queued.
    /// Computes the dummy hash used for unknown users (a blocking ~tens of ms).
    pub fn new(workers: usize, max_waiting: usize) -> Result<Self, Error> {
        Ok(Self {
            running: Arc::new(Semaphore::new(workers.max(1))),
            in_flight: Arc::new(AtomicUsize::new(0)),
            capacity: workers.max(1) + max_waiting,
            dummy_hash: Arc::new(hash(&tokens::new_token())?),
        })
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        if self.in_flight.fetch_add(1, Ordering::SeqCst) >= self.capacity {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::RateLimited { retry_after_secs: 1 });
        }
        let _in_flight = InFlight(&self.in_flight);
        let _permit = self.running.acquire().await.map_err(|_| Error::Internal("hash pool closed".into()))?;
        tokio::task::spawn_blocking(job).await.map_err(|e| Error::Internal(format!("hash task: {e}")))
    }
}

#[async_trait::async_trait]
impl Credentials for Argon2Credentials {
    async fn hash_password(&self, password: &Password) -> Result<String, Error> {
        let password = password.expose().to_owned();
        self.run(move || hash(&password)).await?
    }

    async fn verify_password(&self, password: &Password, phc: Option<&str>) -> Result<bool, Error> {
        let password = password.expose().to_owned();
        let (phc, real) = match phc {
            Some(h) => (h.to_owned(), true),
            None => (self.dummy_hash.as_str().to_owned(), false),
        };
        let ok = self.run(move || verify(&password, &phc)).await?;
        Ok(ok && real)
    }

    fn new_token(&self) -> String {
        tokens::new_token()
    }

    fn token_hash(&self, token: &str) -> String {
        tokens::token_hash(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_match() {
        let creds = Argon2Credentials::new(2, 8).unwrap();
        let pw = Password::parse("password", "correct horse").unwrap();
        let h = creds.hash_password(&pw).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(creds.verify_password(&pw, Some(&h)).await.unwrap());
        assert!(!creds.verify_password(&Password::for_check("wrong one"), Some(&h)).await.unwrap());
        assert!(!creds.verify_password(&pw, None).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flood_beyond_the_queue_is_rate_limited() {
        let creds = Argon2Credentials::new(1, 2).unwrap();
        let pw = Password::parse("password", "correct horse").unwrap();
        let tries = (0..12).map(|_| {
            let (c, p) = (creds.clone(), pw.clone());
            tokio::spawn(async move { c.hash_password(&p).await })
        });
        let results = futures::future::join_all(tries).await;
        let limited = results.iter().filter(|r| matches!(r, Ok(Err(Error::RateLimited { .. })))).count();
        let ok = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
        assert!(limited > 0, "some calls are turned away");
        assert!(ok >= 1, "some calls get through");
        assert_eq!(limited + ok, 12);
    }
}
