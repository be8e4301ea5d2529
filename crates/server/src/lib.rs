//! Bulwark's HTTP API.
