//! Which of a pipeline's threads goes first when they share too few
//! cores.
//!
//! The store's pipelines each have one serial thread that works in log
//! order (the fold of an audit or `check`, the commit thread of the
//! sequencer) and helpers that work ahead of it on as many threads as
//! there are cores (decoding, hashing and verifying signatures). On two
//! cores, three runnable threads share two, and the kernel's fair share
//! gave the serial thread about two thirds of one: the helpers then
//! finished early and waited while it caught up. With the helpers
//! lowered, the serial thread takes a whole core when it has work and
//! the helpers the rest. The work done is the same and no result changes;
//! measured in docs/PERFORMANCE.md ("Which thread goes first"). On a
//! machine shared with other busy processes, the lowered helpers also give
//! way to those: a busy neighbour slows an audit or the sequencer's
//! signature checks more than before, never what they conclude.

/// Nice steps by which [`behind_the_serial_thread`] lowers a thread: at
/// 10 the kernel's fair scheduler weighs a nice-0 thread about nine times
/// as heavily as each lowered one.
pub(crate) const NICE_BEHIND: i32 = 10;

/// Lowers the calling thread's scheduling priority by [`NICE_BEHIND`]
/// (at most to 19); threads it spawns afterwards inherit it. Call it at
/// the start of a helper thread that works ahead of a serial one.
///
/// Only on Linux, where a nice value belongs to a thread (sched(7));
/// elsewhere `setpriority` would lower the whole process, so nothing is
/// done. A failure is ignored: this is a hint, and raising one's own nice
/// value is always allowed.
pub(crate) fn behind_the_serial_thread() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        if let Ok(now) = getpriority_process(me) {
            let _ = setpriority_process(me, (now + NICE_BEHIND).min(19));
        }
    }
}
