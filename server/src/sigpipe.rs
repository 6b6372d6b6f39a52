//! Ending quietly when the reader of our output goes away
//! (`... status | head -1`): Rust ignores SIGPIPE, so a write to a closed
//! pipe fails and `println!` panics with "failed printing to stdout:
//! Broken pipe". The one-shot commands put SIGPIPE back to its default, as
//! any Unix tool has it: the process ends at that write, silently. The
//! long-running ones keep ignoring it (a socket or the journal closing
//! must not kill a daemon). Elsewhere (Windows) nothing changes.

/// SIGPIPE back to its default action; call before any thread starts.
#[cfg(unix)]
#[allow(unsafe_code)] // One libc call with constant arguments.
pub fn restore_default() {
    // SAFETY: `signal` with SIG_DFL installs no handler; called from main
    // before other threads exist.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Nothing to do without SIGPIPE.
#[cfg(not(unix))]
pub fn restore_default() {}
