//! Sigma rule engine over store logs.
