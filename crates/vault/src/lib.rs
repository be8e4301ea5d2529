//! Envelope encryption, keyring, blind indexes and card tokens.
