//! The core's one `unsafe`: parallel tasks of pass 1 write each chat's outcomes straight into
//! their event's slot of one vector, instead of collecting per-task vectors and merging them
//! (which would cost a second pass and a second copy of every outcome).

use std::marker::PhantomData;

/// The slots of a slice that parallel tasks write, each index by exactly one task.
///
/// Why this is sound, as pass 1 uses it (`pass::pass_one`):
/// - the slice is borrowed mutably for the whole life of the `Scatter` (`'a`), so nothing else
///   reads or writes it meanwhile, and it outlives every task (rayon joins them all before
///   `pass_one` goes on);
/// - every index written is `< len` (checked);
/// - the indices come from a counting sort of the events by chat: a permutation of `0..n` in
///   which each chat owns one contiguous range; tasks take disjoint runs of chats, so no index
///   is written by two tasks (or twice);
/// - `T: Copy`, so overwriting a slot drops nothing.
pub(crate) struct Scatter<'a, T: Copy> {
    ptr: *mut T,
    len: usize,
    _slice: PhantomData<&'a mut [T]>,
}

// SAFETY: a `Scatter` only hands out writes of `T` values to distinct indices (see above), which
// is what sending `T`s to other threads allows.
unsafe impl<T: Copy + Send> Sync for Scatter<'_, T> {}
unsafe impl<T: Copy + Send> Send for Scatter<'_, T> {}

impl<'a, T: Copy> Scatter<'a, T> {
    pub(crate) fn new(slice: &'a mut [T]) -> Scatter<'a, T> {
        Scatter {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
            _slice: PhantomData,
        }
    }

    /// Write slot `i`.
    ///
    /// # Safety
    /// No other task writes slot `i` while this `Scatter` lives.
    pub(crate) unsafe fn write(&self, i: usize, v: T) {
        assert!(i < self.len, "slot {i} out of {}", self.len);
        // SAFETY: in bounds (checked), and the caller guarantees no concurrent write of `i`.
        unsafe { self.ptr.add(i).write(v) }
    }
}
