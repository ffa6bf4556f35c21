//! The one error type of the SDK.

use chatter_core::protocol::ErrorBody;
use std::time::Duration;

/// What went wrong in an SDK call. Match on it to decide what to tell the user:
///
/// ```
/// use chatter_sdk::SdkError;
///
/// fn explain(e: &SdkError) -> String {
///     match e {
///         SdkError::Network(_) => "offline: will retry".into(),
///         SdkError::Unauthenticated => "please log in again".into(),
///         SdkError::Validation { field: Some(f), message } => format!("{f}: {message}"),
///         SdkError::RateLimited { retry_after } => format!("slow down ({retry_after:?})"),
///         other => other.to_string(),
///     }
/// }
/// assert_eq!(explain(&SdkError::Unauthenticated), "please log in again");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdkError {
    /// The server could not be reached, or the connection broke.
    #[error("network error: {0}")]
    Network(String),
    /// No session, or the server ended it (logout, revocation, password change): log
    /// in again.
    #[error("not logged in, or the session has ended")]
    Unauthenticated,
    /// The thing does not exist, or the user may not see it.
    #[error("not found: {0}")]
    NotFound(String),
    /// The user may see it but not do this.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A re-authentication (password change, account deletion) had the wrong password.
    #[error("wrong password")]
    WrongPassword,
    /// A value breaks a rule; `field` names it when the server did.
    #[error("invalid {}: {message}", field.as_deref().unwrap_or("input"))]
    Validation {
        /// The offending input field.
        field: Option<String>,
        /// What is wrong with it.
        message: String,
    },
    /// The request made no sense to the server (for example leaving a direct chat).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The username is taken, or another conflict.
    #[error("conflict ({code}): {message}")]
    Conflict {
        /// `username_taken` or `conflict`.
        code: String,
        /// The server's explanation.
        message: String,
    },
    /// Too many requests; try again after `retry_after`.
    #[error("rate limited (retry after {retry_after:?})")]
    RateLimited {
        /// How long the server asked to wait.
        retry_after: Option<Duration>,
    },
    /// The server failed or is unavailable (5xx).
    #[error("server error {status} ({code}): {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The error code (`unavailable`, `internal`, …).
        code: String,
        /// The server's explanation.
        message: String,
        /// How long the server asked to wait, for `unavailable`.
        retry_after: Option<Duration>,
    },
    /// The session or send-queue storage failed.
    #[error("storage error: {0}")]
    Storage(String),
    /// The call's media (the WebRTC stack) failed.
    #[error("media error: {0}")]
    Media(String),
}

/// The SDK's result type.
///
/// ```no_run
/// # fn demo() {
/// fn title(chat: &chatter_sdk::model::Chat) -> chatter_sdk::Result<String> {
///     chat.title.clone().ok_or(chatter_sdk::SdkError::InvalidRequest("a direct chat".into()))
/// }
/// # }
/// ```
pub type Result<T, E = SdkError> = std::result::Result<T, E>;

impl SdkError {
    /// Whether the same call may succeed later unchanged (network trouble, rate limits,
    /// an unavailable or failing server). Sends failing this way stay queued.
    ///
    /// ```no_run
    /// # fn demo() {
    /// use chatter_sdk::SdkError;
    /// assert!(SdkError::Network("reset".into()).is_retryable());
    /// assert!(!SdkError::Forbidden("not an admin".into()).is_retryable());
    /// # }
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Network(_) | Self::RateLimited { .. } | Self::Server { .. })
    }

    /// How long to wait before retrying, when the server said.
    ///
    /// ```no_run
    /// # fn demo() {
    /// use chatter_sdk::SdkError;
    /// use std::time::Duration;
    /// let e = SdkError::RateLimited { retry_after: Some(Duration::from_secs(2)) };
    /// assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    /// # }
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } | Self::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A stable code for the error, for apps and the language bindings: the API's error
    /// code where the server gave one (`validation_failed`, `not_found`, `rate_limited`,
    /// …), else `network`, `storage` or `media`.
    ///
    /// ```
    /// use chatter_sdk::SdkError;
    /// assert_eq!(SdkError::Unauthenticated.code(), "unauthenticated");
    /// assert_eq!(SdkError::Network("reset".into()).code(), "network");
    /// let taken = SdkError::Conflict { code: "username_taken".into(), message: "taken".into() };
    /// assert_eq!(taken.code(), "username_taken");
    /// ```
    pub fn code(&self) -> &str {
        match self {
            Self::Network(_) => "network",
            Self::Unauthenticated => "unauthenticated",
            Self::NotFound(_) => "not_found",
            Self::Forbidden(_) => "forbidden",
            Self::WrongPassword => "wrong_password",
            Self::Validation { .. } => "validation_failed",
            Self::InvalidRequest(_) => "invalid_request",
            Self::Conflict { code, .. } | Self::Server { code, .. } => code,
            Self::RateLimited { .. } => "rate_limited",
            Self::Storage(_) => "storage",
            Self::Media(_) => "media",
        }
    }

    /// The input field the error is about, when the server named one.
    ///
    /// ```
    /// use chatter_sdk::SdkError;
    /// let e = SdkError::Validation { field: Some("title".into()), message: "too long".into() };
    /// assert_eq!(e.field(), Some("title"));
    /// ```
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Validation { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// Maps an error answer (`status`, the API's error code and message) to its variant.
    ///
    /// ```no_run
    /// # fn demo() {
    /// use chatter_sdk::SdkError;
    /// let e = SdkError::from_api(400, "validation_failed", "too long".into(), Some("text".into()), None);
    /// assert!(matches!(e, SdkError::Validation { .. }));
    /// # }
    /// ```
    pub fn from_api(
        status: u16,
        code: &str,
        message: String,
        field: Option<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        match (status, code) {
            (401, _) | (_, "unauthenticated") => Self::Unauthenticated,
            (_, "unavailable" | "internal") => {
                let status = if status == 0 { if code == "internal" { 500 } else { 503 } } else { status };
                Self::Server { status, code: code.to_owned(), message, retry_after }
            }
            (_, "wrong_password") => Self::WrongPassword,
            (_, "validation_failed") => Self::Validation { field, message },
            (_, "not_found") | (404, _) => Self::NotFound(message),
            (_, "forbidden") | (403, _) => Self::Forbidden(message),
            (_, "rate_limited") | (429, _) => Self::RateLimited { retry_after },
            (409, _) | (_, "username_taken" | "conflict") => Self::Conflict { code: code.to_owned(), message },
            (500.., _) => Self::Server { status, code: code.to_owned(), message, retry_after },
            _ => Self::InvalidRequest(message),
        }
    }

    /// A rule of the core's, checked before anything is sent (the server would answer
    /// the same).
    pub(crate) fn from_core(e: chatter_core::Error) -> Self {
        let field = e.field().map(str::to_owned);
        let message = match &e {
            chatter_core::Error::Validation { message, .. } => message.clone(),
            other => other.to_string(),
        };
        Self::from_api(0, e.code(), message, field, None)
    }

    /// Maps an HTTP error response with a body in the API's error shape (or not).
    pub(crate) fn from_response(status: u16, body: &str, retry_after: Option<Duration>) -> Self {
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(b) => Self::from_api(status, &b.error.code, b.error.message, b.error.field, retry_after),
            Err(_) => {
                let message = if body.is_empty() { format!("HTTP {status}") } else { body.chars().take(200).collect() };
                Self::from_api(status, "", message, None, retry_after)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_map_to_their_variants() {
        let e = SdkError::from_response(
            400,
            r#"{"error":{"code":"validation_failed","message":"too long","field":"text"}}"#,
            None,
        );
        assert_eq!(e, SdkError::Validation { field: Some("text".into()), message: "too long".into() });
        assert_eq!(SdkError::from_response(401, "", None), SdkError::Unauthenticated);
        let limited = SdkError::from_response(
            429,
            r#"{"error":{"code":"rate_limited","message":"slow"}}"#,
            Some(Duration::from_secs(3)),
        );
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(3)));
        assert!(limited.is_retryable());
        let down = SdkError::from_response(503, r#"{"error":{"code":"unavailable","message":"db"}}"#, None);
        assert!(matches!(down, SdkError::Server { status: 503, .. }));
        assert!(down.is_retryable());
        assert!(!SdkError::from_response(404, "nope", None).is_retryable());
        assert!(matches!(SdkError::from_response(409, "", None), SdkError::Conflict { .. }));
        assert_eq!(
            SdkError::from_response(403, r#"{"error":{"code":"wrong_password","message":"x"}}"#, None),
            SdkError::WrongPassword
        );
    }
}
