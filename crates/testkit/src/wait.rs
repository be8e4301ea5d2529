//! Waiting for something another process or thread does, always with a deadline.

use std::time::{Duration, Instant};

/// Polls `done` every 20 ms until it holds; panics naming `what` when `within`
/// passes first. Returns how long it took.
pub fn wait_until(within: Duration, what: &str, mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    loop {
        if done() {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < within,
            "gave up after {within:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
