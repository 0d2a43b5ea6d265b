//! Signing staff in: what a password must be, and how long someone waits after failed
//! attempts, so guessing a password takes years rather than minutes.

use jiff::SignedDuration;

use crate::FieldError;

/// Failed sign-ins in a row allowed before each further attempt must wait.
pub const FREE_ATTEMPTS: u32 = 5;

/// The longest wait between attempts.
pub const MAX_WAIT: SignedDuration = SignedDuration::from_mins(15);

/// How long to wait before the next attempt after `failures` failed ones in a row:
/// nothing for the first five, then 30 seconds, doubling up to 15 minutes.
pub fn wait_after(failures: u32) -> Option<SignedDuration> {
    let over = failures.checked_sub(FREE_ATTEMPTS)?;
    let secs = 30i64.saturating_mul(1i64 << over.min(20));
    Some(SignedDuration::from_secs(secs).min(MAX_WAIT))
}

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// Checks a new password: long enough, not too long to hash, not the username.
pub fn check_password(username: &str, password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD {
        return Err(FieldError::new("password", format!("at least {MIN_PASSWORD} characters")));
    }
    if chars > 200 {
        return Err(FieldError::new("password", "at most 200 characters"));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(FieldError::new("password", "must not be the username"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_five_failures_and_double_to_a_cap() {
        assert_eq!(wait_after(0), None);
        assert_eq!(wait_after(4), None);
        assert_eq!(wait_after(5), Some(SignedDuration::from_secs(30)));
        assert_eq!(wait_after(6), Some(SignedDuration::from_secs(60)));
        assert_eq!(wait_after(9), Some(SignedDuration::from_secs(480)));
        assert_eq!(wait_after(10), Some(MAX_WAIT));
        assert_eq!(wait_after(u32::MAX), Some(MAX_WAIT));
    }

    #[test]
    fn passwords_are_long_and_not_the_username() {
        assert!(check_password("ann", "short").is_err());
        assert!(check_password("ann.lopez1", "ANN.LOPEZ1").is_err());
        assert!(check_password("ann", "correct horse battery").is_ok());
    }
}
