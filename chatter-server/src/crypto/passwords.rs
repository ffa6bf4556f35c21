//! Argon2id password hashing on a bounded pool: `workers` threads of our own, each
//! keeping its Argon2 memory (19 MiB by default) from one hash to the next, and at most
//! `max_waiting` more hashes queued; beyond that callers are told to retry later, so a
//! flood of logins cannot starve other requests.
//!
//! Why not the blocking pool with a fresh buffer per hash: every thread the runtime
//! lends keeps freed 19 MiB buffers in its malloc arena, and 64 concurrent sign-ups
//! grew the process by ~1 GiB. Here the memory is the workers' and stays theirs.

use super::tokens;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use chatter_core::value::Password;
use chatter_core::{Credentials, Error};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use tokio::sync::oneshot;

/// Stored hashes asking for more memory than this many times the default are refused
/// rather than letting one row make a worker allocate without bound.
const MAX_MEMORY_FACTOR: usize = 4;

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Argon2id credentials with a bounded worker pool.
#[derive(Clone)]
pub struct Argon2Credentials {
    jobs: Arc<Mutex<mpsc::Sender<Job>>>,
    in_flight: Arc<AtomicUsize>,
    capacity: usize,
    dummy_hash: Arc<String>,
}

impl std::fmt::Debug for Argon2Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2Credentials").field("capacity", &self.capacity).finish_non_exhaustive()
    }
}

/// The first `params.block_count()` blocks of `memory`, grown if needed.
fn blocks<'m>(memory: &'m mut Vec<Block>, params: &Params) -> &'m mut [Block] {
    let n = params.block_count();
    if memory.len() < n {
        memory.resize(n, Block::default());
    }
    &mut memory[..n]
}

fn hash(memory: &mut Vec<Block>, password: &str) -> Result<String, Error> {
    let failed = |e: &dyn std::fmt::Display| Error::Internal(format!("argon2 hash: {e}"));
    let params = Params::default();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(|e| failed(&e))?;
    let output = Output::init_with(params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN), |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, blocks(memory, &params))
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

fn verify(memory: &mut Vec<Block>, password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) =
        (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed), parsed.salt, parsed.hash)
    else {
        return false;
    };
    if params.block_count() > Params::default().block_count() * MAX_MEMORY_FACTOR {
        tracing::error!("a stored password hash asks for more memory than allowed");
        return false;
    }
    let version = parsed.version.map(Version::try_from).unwrap_or(Ok(Version::V0x13));
    let Ok(version) = version else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else { return false };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let computed = Output::init_with(expected.len(), |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, blocks(memory, &params))
            .map_err(|_| argon2::password_hash::Error::Crypto)
    });
    // `Output`'s equality is constant-time.
    computed.is_ok_and(|c| c == expected)
}

struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs jobs from `jobs` with this thread's own memory until every sender is gone.
fn work(jobs: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let mut memory = Vec::new();
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut memory),
            Err(_) => return,
        }
    }
}

impl Argon2Credentials {
    /// A pool running `workers` hashes at once with at most `max_waiting` queued.
    /// Computes the dummy hash used for unknown users (a blocking ~tens of ms).
    pub fn new(workers: usize, max_waiting: usize) -> Result<Self, Error> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..workers.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(rx))
                .map_err(|e| Error::Internal(format!("hash worker: {e}")))?;
        }
        Ok(Self {
            jobs: Arc::new(Mutex::new(tx)),
            in_flight: Arc::new(AtomicUsize::new(0)),
            capacity: workers.max(1) + max_waiting,
            dummy_hash: Arc::new(hash(&mut Vec::new(), &tokens::new_token())?),
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, Error> {
        if self.in_flight.fetch_add(1, Ordering::SeqCst) >= self.capacity {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::RateLimited { retry_after_secs: 1 });
        }
        let in_flight = InFlight(self.in_flight.clone());
        let (done, answer) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(job(memory));
            drop(in_flight);
        });
        let sent = self.jobs.lock().map_err(|_| Error::Internal("hash pool poisoned".into()))?.send(job);
        sent.map_err(|_| Error::Internal("hash pool closed".into()))?;
        answer.await.map_err(|_| Error::Internal("hash worker gone".into()))
    }
}

#[async_trait::async_trait]
impl Credentials for Argon2Credentials {
    async fn hash_password(&self, password: &Password) -> Result<String, Error> {
        let password = password.expose().to_owned();
        self.run(move |memory| hash(memory, &password)).await?
    }

    async fn verify_password(&self, password: &Password, phc: Option<&str>) -> Result<bool, Error> {
        let password = password.expose().to_owned();
        let (phc, real) = match phc {
            Some(h) => (h.to_owned(), true),
            None => (self.dummy_hash.as_str().to_owned(), false),
        };
        let ok = self.run(move |memory| verify(memory, &password, &phc)).await?;
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

    #[tokio::test]
    async fn hashes_made_by_the_stock_argon2_api_still_verify() {
        use argon2::password_hash::PasswordHasher;
        let stored =
            Argon2::default().hash_password(b"correct horse", &SaltString::generate(&mut OsRng)).unwrap().to_string();
        let creds = Argon2Credentials::new(1, 4).unwrap();
        let pw = Password::parse("password", "correct horse").unwrap();
        assert!(creds.verify_password(&pw, Some(&stored)).await.unwrap());
        assert!(!creds.verify_password(&Password::for_check("correct horsE"), Some(&stored)).await.unwrap());
        let ours = creds.hash_password(&pw).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            argon2::password_hash::PasswordVerifier::verify_password(&Argon2::default(), b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            !creds
                .verify_password(&pw, Some("$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"))
                .await
                .unwrap(),
            "a hash asking for 1 GiB is refused"
        );
        assert!(!creds.verify_password(&pw, Some("not a hash")).await.unwrap());
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
