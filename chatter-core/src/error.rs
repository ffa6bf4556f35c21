//! The one error type of the core's boundary, and the error type of store backends.

use thiserror::Error;

/// Everything a core operation can fail with. Each variant maps to exactly one code of
/// the API's error shape (see `Error::code`).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A request that makes no sense (e.g. leaving a direct chat).
    #[error("{message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
        /// The input field at fault, if any.
        field: Option<String>,
    },
    /// A value breaks a rule.
    #[error("{field}: {message}")]
    Validation {
        /// The input field at fault.
        field: String,
        /// The rule it breaks.
        message: String,
    },
    /// Missing, invalid, expired or revoked credentials.
    #[error("not authenticated")]
    Unauthenticated,
    /// A re-authentication gave the wrong password.
    #[error("wrong password")]
    WrongPassword,
    /// The caller can see the thing but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// It does not exist, or the caller may not see it.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for (`chat`, `user`, `message`, ...).
        what: &'static str,
        /// The input field that named it, if any.
        field: Option<String>,
    },
    /// The username is taken.
    #[error("username is taken")]
    UsernameTaken,
    /// Another conflict.
    #[error("{0}")]
    Conflict(String),
    /// Too many requests; retry after the given number of seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The store is unreachable.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected store failure; details are for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A validation error on `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation { field: field.into(), message: message.into() }
    }

    /// A request that makes no sense.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest { message: message.into(), field: None }
    }

    /// `what` does not exist or may not be seen.
    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound { what, field: None }
    }

    /// `what`, named by the input `field`, does not exist.
    pub fn not_found_in(what: &'static str, field: impl Into<String>) -> Self {
        Self::NotFound { what, field: Some(field.into()) }
    }

    /// The caller may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::Forbidden(message.into())
    }

    /// The API error code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest { .. } => "invalid_request",
            Self::Validation { .. } => "validation_failed",
            Self::Unauthenticated => "unauthenticated",
            Self::WrongPassword => "wrong_password",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::UsernameTaken => "username_taken",
            Self::Conflict(_) => "conflict",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// The input field at fault, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest { field, .. } | Self::NotFound { field, .. } => field.as_deref(),
            Self::Validation { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// What a store backend can fail with.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The username is already taken.
    #[error("username is taken")]
    UsernameTaken,
    /// The thing to change does not exist (any more).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change lost a race with another one (the row changed under it).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The backend cannot be reached or timed out.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or corrupt data.
    #[error("store failure: {0}")]
    Other(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UsernameTaken => Error::UsernameTaken,
            StoreError::NotFound(what) => Error::not_found(what),
            StoreError::Conflict(what) => Error::Conflict(what.to_owned()),
            StoreError::Unavailable(m) => Error::Unavailable(m),
            StoreError::Other(m) => Error::Internal(m),
        }
    }
}
