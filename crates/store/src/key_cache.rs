//! A bounded cache of opened customer keys, expanded for AES-GCM.
//!
//! The process already holds every data key in memory (it must, to serve
//! reveals), so keeping opened customer keys adds no exposure for someone who
//! can read its memory; it spares every reveal a second database file, its
//! locks, and a key unwrap. Erasure evicts the customer at once; the ciphers
//! zeroize their key schedules when dropped. Two generations give LRU-like
//! behaviour without per-entry bookkeeping: when the young map fills, it
//! becomes the old one and the previous old one is dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bulwark_vault::FieldCipher;
use uuid::Uuid;

type Map = HashMap<(Uuid, u32), Arc<FieldCipher>>;

pub(crate) struct KeyCache {
    generations: Mutex<(Map, Map)>,
    half: usize,
}

impl KeyCache {
    pub(crate) fn new(capacity: usize) -> KeyCache {
        KeyCache {
            generations: Mutex::new((Map::new(), Map::new())),
            half: (capacity / 2).max(1),
        }
    }

    pub(crate) fn get(&self, customer: Uuid, version: u32) -> Option<Arc<FieldCipher>> {
        let mut g = self.generations.lock().ok()?;
        if let Some(c) = g.0.get(&(customer, version)) {
            return Some(c.clone());
        }
        let c = g.1.remove(&(customer, version))?;
        self.insert(&mut g, customer, version, c.clone());
        Some(c)
    }

    pub(crate) fn put(&self, customer: Uuid, version: u32, cipher: Arc<FieldCipher>) {
        if let Ok(mut g) = self.generations.lock() {
            self.insert(&mut g, customer, version, cipher);
        }
    }

    fn insert(&self, g: &mut (Map, Map), customer: Uuid, version: u32, cipher: Arc<FieldCipher>) {
        if g.0.len() >= self.half {
            g.1 = std::mem::take(&mut g.0);
        }
        g.0.insert((customer, version), cipher);
    }

    /// Erasure and re-wrap: nothing of the customer's keys stays behind.
    pub(crate) fn forget(&self, customer: Uuid) {
        if let Ok(mut g) = self.generations.lock() {
            g.0.retain(|k, _| k.0 != customer);
            g.1.retain(|k, _| k.0 != customer);
        }
    }
}
