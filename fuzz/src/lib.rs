//! What the fuzz targets share: a heap cap that turns excessive memory into a
//! crash libFuzzer records, and the inputs every target decodes the same way.
//!
//! The cap counts the bytes the Rust code has live (libFuzzer's own C++
//! allocations are outside it). Past [`HEAP_LIMIT`] an allocation fails and
//! the process aborts with `memory allocation of N bytes failed`, which
//! libFuzzer reports as a crash and saves the input: an input that makes a
//! parser hold hundreds of megabytes is a bug (the bound for a YAML
//! bomb is 100 MB), found as surely as a panic.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// 256 MiB of live heap, inputs and fuzzer state included: far above what
/// any input of a few kilobytes needs, far below what an amplification bug
/// takes. `BULWARK_FUZZ_HEAP_MB` overrides it (read once, at the first
/// allocation past the default).
pub const HEAP_LIMIT: usize = 256 << 20;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(0);

fn limit() -> usize {
    match LIMIT.load(Ordering::Relaxed) {
        0 => {
            // Reading the environment allocates: the limit is the default
            // until it is set, which is a few bytes in.
            LIMIT.store(HEAP_LIMIT, Ordering::Relaxed);
            let l = std::env::var("BULWARK_FUZZ_HEAP_MB")
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .map_or(HEAP_LIMIT, |mb| mb << 20);
            LIMIT.store(l, Ordering::Relaxed);
            l
        }
        l => l,
    }
}

fn reserve(n: usize) -> bool {
    let before = LIVE.fetch_add(n, Ordering::Relaxed);
    if before.saturating_add(n) > limit() {
        LIVE.fetch_sub(n, Ordering::Relaxed);
        return false;
    }
    PEAK.fetch_max(before + n, Ordering::Relaxed);
    true
}

fn release(n: usize) {
    LIVE.fetch_sub(n, Ordering::Relaxed);
}

/// The system allocator, counting and capping live bytes.
pub struct Capped;

// SAFETY: every call is forwarded to `System` unchanged; the counters only
// decide whether to forward an allocation at all (a refused one returns null,
// as an exhausted allocator may).
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !reserve(layout.size()) {
            return std::ptr::null_mut();
        }
        let p = System.alloc(layout);
        if p.is_null() {
            release(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !reserve(layout.size()) {
            return std::ptr::null_mut();
        }
        let p = System.alloc_zeroed(layout);
        if p.is_null() {
            release(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        release(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !reserve(new_size - old) {
            return std::ptr::null_mut();
        }
        let p = System.realloc(ptr, layout, new_size);
        if p.is_null() {
            if new_size > old {
                release(new_size - old);
            }
        } else if new_size < old {
            release(old - new_size);
        }
        p
    }
}

#[global_allocator]
static HEAP: Capped = Capped;

/// Bytes the Rust side has live now, and at most so far.
pub fn heap() -> (usize, usize) {
    (LIVE.load(Ordering::Relaxed), PEAK.load(Ordering::Relaxed))
}

/// Fuzz input as text: invalid UTF-8 replaced, as a file read lossily would be.
pub fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}
