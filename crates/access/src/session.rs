//! Session lifetimes (OWASP ASVS 5.0 §7.3): a session ends after an idle time
//! and, whatever its use, after an absolute time; sensitive actions need the
//! second factor again when it was last given longer ago than the step-up
//! window.

use std::time::Duration;

/// The lifetimes, configurable (`serve --session-idle`, `--session-max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
    pub step_up: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            step_up: Duration::from_secs(5 * 60),
        }
    }
}

/// What a session store keeps about one session's times (Unix ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionTimes {
    pub created_ms: i64,
    pub last_seen_ms: i64,
    /// When the second factor was last given (at login, or a step-up).
    pub second_factor_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionVerdict {
    Valid,
    IdleExpired,
    AbsoluteExpired,
}

impl SessionPolicy {
    pub fn check(&self, t: &SessionTimes, now_ms: i64) -> SessionVerdict {
        let ms = |d: Duration| d.as_millis() as i64;
        if now_ms - t.created_ms >= ms(self.absolute) {
            SessionVerdict::AbsoluteExpired
        } else if now_ms - t.last_seen_ms >= ms(self.idle) {
            SessionVerdict::IdleExpired
        } else {
            SessionVerdict::Valid
        }
    }

    /// Whether a sensitive action must ask for the second factor again.
    pub fn needs_step_up(&self, t: &SessionTimes, now_ms: i64) -> bool {
        now_ms - t.second_factor_ms >= self.step_up.as_millis() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn idle_and_absolute_limits() {
        let p = SessionPolicy::default();
        let t = SessionTimes {
            created_ms: 0,
            last_seen_ms: 0,
            second_factor_ms: 0,
        };
        assert_eq!(p.check(&t, 29 * MIN), SessionVerdict::Valid);
        assert_eq!(p.check(&t, 30 * MIN), SessionVerdict::IdleExpired);
        let busy = SessionTimes {
            last_seen_ms: 12 * 60 * MIN - MIN,
            ..t
        };
        assert_eq!(
            p.check(&busy, 12 * 60 * MIN),
            SessionVerdict::AbsoluteExpired
        );
    }

    #[test]
    fn step_up_after_five_minutes() {
        let p = SessionPolicy::default();
        let t = SessionTimes {
            created_ms: 0,
            last_seen_ms: 0,
            second_factor_ms: 0,
        };
        assert!(!p.needs_step_up(&t, 4 * MIN));
        assert!(p.needs_step_up(&t, 5 * MIN));
    }
}

/// A lifetime in words: "30 minutes", "12 hours", "1 minute", "90 seconds".
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    let (n, unit) = if s >= 3600 && s.is_multiple_of(3600) {
        (s / 3600, "hour")
    } else if s >= 60 && s.is_multiple_of(60) {
        (s / 60, "minute")
    } else {
        (s, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod span_tests {
    use super::*;

    #[test]
    fn lifetimes_read_as_words() {
        assert_eq!(span(Duration::from_secs(1800)), "30 minutes");
        assert_eq!(span(Duration::from_secs(60)), "1 minute");
        assert_eq!(span(Duration::from_secs(12 * 3600)), "12 hours");
        assert_eq!(span(Duration::from_secs(90)), "90 seconds");
    }
}
