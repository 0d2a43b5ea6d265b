//! What a staff page says after a change. The address it comes back to carries a fixed
//! code (`?done=saved`) and the words come from here — never from the address, which
//! anyone can put in a link they send to a member of staff.

/// A change that was made, as the code in the address after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    Added,
    Saved,
    Deleted,
    KeyIssued,
    KeyRevoked,
    PasswordSet,
    LayerImported,
    RetryQueued,
}

impl Done {
    const ALL: [Done; 8] = [
        Done::Added,
        Done::Saved,
        Done::Deleted,
        Done::KeyIssued,
        Done::KeyRevoked,
        Done::PasswordSet,
        Done::LayerImported,
        Done::RetryQueued,
    ];

    /// The code in the address.
    pub fn code(self) -> &'static str {
        match self {
            Done::Added => "added",
            Done::Saved => "saved",
            Done::Deleted => "deleted",
            Done::KeyIssued => "key_issued",
            Done::KeyRevoked => "key_revoked",
            Done::PasswordSet => "password_set",
            Done::LayerImported => "layer_imported",
            Done::RetryQueued => "retry_queued",
        }
    }

    /// What the page says.
    pub fn text(self) -> &'static str {
        match self {
            Done::Added => "Added; in effect now.",
            Done::Saved => "Saved; in effect now.",
            Done::Deleted => "Deleted.",
            Done::KeyIssued => "Key issued; it is listed below.",
            Done::KeyRevoked => "Key revoked; requests made with it are refused from now on.",
            Done::PasswordSet => "Password set; their sessions have ended and their API tokens are revoked.",
            Done::LayerImported => "Layer imported; in effect now.",
            Done::RetryQueued => "The delivery will be tried again within a minute.",
        }
    }

    /// `Added` or `Saved`, for a change that may have made something new.
    pub fn added_or_saved(created: bool) -> Done {
        if created { Done::Added } else { Done::Saved }
    }
}

/// The words for a `?done=` code; nothing for a code this table does not have.
pub fn text(code: Option<&str>) -> Option<String> {
    let code = code?;
    Done::ALL.into_iter().find(|d| d.code() == code).map(|d| d.text().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_codes_say_anything() {
        assert_eq!(text(Some("saved")).as_deref(), Some("Saved; in effect now."));
        assert_eq!(text(Some("Your account is locked: call 555-0100")), None);
        assert_eq!(text(None), None);
        for d in Done::ALL {
            assert_eq!(text(Some(d.code())).as_deref(), Some(d.text()));
        }
    }
}
