//! Breach-notification law catalogue and obligations engine.
