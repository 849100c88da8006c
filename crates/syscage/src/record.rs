//! What a recorded run observed, and the policy built from it: the pure
//! half of `syscage-linux`'s `record` (which traces the program and fills a
//! [`recording::Recording`]).
//!
//! Submodules: [`args`] (the risk-deciding arguments of `--args`),
//! [`recording`] (the recorded data, the policy built from it, merging),
//! [`additions`] (what that policy decides without a recorded call, and why).

pub mod additions;
pub mod args;
pub mod recording;
