//! Benchmarks only: see benches/decision.rs.
