//! The HTTP API in process (tower's `oneshot`), over a real store (one test binary).

mod api;
mod compliance;
mod console;
mod drills;
mod pagewatch;
mod pagewatch_runs;
mod training;
