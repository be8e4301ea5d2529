//! Login throttling (OWASP ASVS 5.0 §6.3.1): each failed attempt against an
//! account, and from a source address, makes the next attempt wait longer —
//! exponentially, up to a cap — instead of locking the account. A guesser is
//! slowed to a handful of tries an hour; the real user, who gets it right,
//! waits at most the cap once. Success clears the account's count. Failures
//! older than the window are forgotten.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed before any delay.
    pub free: u32,
    /// The first delay, doubled with each further failure.
    pub base: Duration,
    pub cap: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

impl ThrottlePolicy {
    /// Per account: 3 free tries, then 1 s, 2 s, 4 s … up to 15 minutes.
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free: 3,
        base: Duration::from_secs(1),
        cap: Duration::from_secs(15 * 60),
        window: Duration::from_secs(24 * 3600),
    };
    /// Per source address: 10 free tries (a shared office), then the same curve.
    pub const SOURCE: ThrottlePolicy = ThrottlePolicy {
        free: 10,
        base: Duration::from_secs(1),
        cap: Duration::from_secs(15 * 60),
        window: Duration::from_secs(24 * 3600),
    };
}

/// The failures counted for one account or address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    pub failures: u32,
    pub last_failure_ms: i64,
}

impl Throttle {
    /// How long from `now_ms` until the next attempt may be checked.
    pub fn wait(&self, policy: &ThrottlePolicy, now_ms: i64) -> Duration {
        let since = now_ms.saturating_sub(self.last_failure_ms);
        if since >= policy.window.as_millis() as i64 || self.failures <= policy.free {
            return Duration::ZERO;
        }
        let over = self.failures - policy.free - 1;
        let delay = policy
            .base
            .checked_mul(1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(policy.cap)
            .min(policy.cap);
        delay.saturating_sub(Duration::from_millis(since.max(0) as u64))
    }

    /// The count after one more failure at `now_ms`.
    pub fn failed(self, policy: &ThrottlePolicy, now_ms: i64) -> Throttle {
        let stale = now_ms.saturating_sub(self.last_failure_ms) >= policy.window.as_millis() as i64;
        Throttle {
            failures: if stale {
                1
            } else {
                self.failures.saturating_add(1)
            },
            last_failure_ms: now_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_are_capped() {
        let p = ThrottlePolicy::ACCOUNT;
        let mut t = Throttle::default();
        let mut now = 0;
        for _ in 0..3 {
            t = t.failed(&p, now);
        }
        assert_eq!(t.wait(&p, now), Duration::ZERO, "three free tries");
        t = t.failed(&p, now);
        assert_eq!(t.wait(&p, now), Duration::from_secs(1));
        t = t.failed(&p, now);
        assert_eq!(t.wait(&p, now), Duration::from_secs(2));
        for _ in 0..40 {
            t = t.failed(&p, now);
        }
        assert_eq!(
            t.wait(&p, now),
            Duration::from_secs(15 * 60),
            "capped, not locked"
        );
        now += 15 * 60 * 1000;
        assert_eq!(
            t.wait(&p, now),
            Duration::ZERO,
            "the real user gets in after the cap"
        );
    }

    #[test]
    fn old_failures_are_forgotten() {
        let p = ThrottlePolicy::ACCOUNT;
        let mut t = Throttle::default();
        for _ in 0..10 {
            t = t.failed(&p, 0);
        }
        let day = 24 * 3600 * 1000;
        assert_eq!(t.wait(&p, day), Duration::ZERO);
        assert_eq!(t.failed(&p, day).failures, 1);
    }
}
