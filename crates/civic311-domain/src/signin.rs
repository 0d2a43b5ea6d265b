//! Signing staff in: what a password must be, and how long someone waits after failed
//! attempts, so guessing a password takes years rather than minutes.

use jiff::SignedDuration;

use crate::FieldError;

/// The longest wait between attempts.
pub const MAX_WAIT: SignedDuration = SignedDuration::from_mins(15);

/// The scope that counts an account's failed sign-ins from every client together.
pub const EVERYWHERE: &str = "*";

/// How many sign-in attempts in a row a scope allows before each further one waits.
/// Attempts are counted before the password is checked and forgotten after a success,
/// so guesses sent at once cannot slip past the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    pub free: u32,
}

impl Lockout {
    /// One username from one client address: five tries, then waits.
    pub const PER_CLIENT: Lockout = Lockout { free: 5 };
    /// One username from everywhere: enough that a real user is never locked out by
    /// strangers guessing from a few addresses, few enough to stop a botnet's
    /// guessing; past it, the reset link is the way in.
    pub const EVERYWHERE: Lockout = Lockout { free: 50 };

    /// How long to wait before the next attempt after `attempts` in a row: nothing
    /// while they are free, then 30 seconds, doubling up to 15 minutes.
    pub fn wait_after(self, attempts: u32) -> Option<SignedDuration> {
        let over = attempts.checked_sub(self.free)?;
        let secs = 30i64.saturating_mul(1i64 << over.min(20));
        Some(SignedDuration::from_secs(secs).min(MAX_WAIT))
    }
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
    fn waits_start_after_the_free_attempts_and_double_to_a_cap() {
        let l = Lockout::PER_CLIENT;
        assert_eq!(l.wait_after(0), None);
        assert_eq!(l.wait_after(4), None);
        assert_eq!(l.wait_after(5), Some(SignedDuration::from_secs(30)));
        assert_eq!(l.wait_after(6), Some(SignedDuration::from_secs(60)));
        assert_eq!(l.wait_after(9), Some(SignedDuration::from_secs(480)));
        assert_eq!(l.wait_after(10), Some(MAX_WAIT));
        assert_eq!(l.wait_after(u32::MAX), Some(MAX_WAIT));
        assert_eq!(Lockout::EVERYWHERE.wait_after(49), None);
        assert_eq!(Lockout::EVERYWHERE.wait_after(50), Some(SignedDuration::from_secs(30)));
    }

    #[test]
    fn passwords_are_long_and_not_the_username() {
        assert!(check_password("ann", "short").is_err());
        assert!(check_password("ann.lopez1", "ANN.LOPEZ1").is_err());
        assert!(check_password("ann", "correct horse battery").is_ok());
    }
}
