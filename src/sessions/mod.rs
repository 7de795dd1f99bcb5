//! Recorded sessions after the fact: kept private (folders `0700`, files `0600`),
//! optionally encrypted at rest with a passphrase (age), and read back for the library,
//! review and reports.
//!
//! - [`private`]: private files and folders whatever the umask.
//! - [`keys`]: the passphrase-protected session key (`key.age`).
//! - [`sealed`]: files written encrypted as they grow, segment by segment, readable up to
//!   the last whole segment after a crash.
//! - [`client`]: pseudonymous client codes; [`passphrase`]: reading a passphrase.
//! - [`recorded`]: a session opened for reading; [`trace_read`], [`audio_read`]: its
//!   files; [`overview`]: the whole session in bounded memory for review and reports.

pub mod audio_read;
pub mod client;
pub mod keys;
pub mod library;
pub mod overview;
pub mod passphrase;
pub mod private;
pub mod recorded;
pub mod sealed;
pub mod trace_read;
