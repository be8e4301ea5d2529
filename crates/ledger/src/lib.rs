//! Append-only, hash-chained, checkpoint-signed log.
