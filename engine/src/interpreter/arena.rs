//! Carving typed tables out of the caller's byte arena.

use core::mem::{align_of, size_of};

use crate::error::Error;
use crate::ops::stored::NoUninit;

/// Carve `n` values of `T` (initialised to `init`) from the front of `mem`, aligned for `T`.
pub(super) fn carve<T: NoUninit>(
    mem: &mut [u8],
    n: usize,
    init: T,
    available: u32,
) -> Result<(&mut [T], &mut [u8]), Error> {
    let pad = mem.as_ptr().align_offset(align_of::<T>());
    let bytes = n
        .checked_mul(size_of::<T>())
        .and_then(|b| b.checked_add(pad))
        .ok_or(Error::LimitExceeded {
            what: "arena bytes",
            limit: u32::MAX,
        })?;
    if pad == usize::MAX || bytes > mem.len() {
        // Report what the persistent tables alone need; the full figure needs a plan, which
        // needs these tables first.
        let used = available as usize - mem.len();
        return Err(Error::ArenaTooSmall {
            needed: (used + bytes) as u32,
            available,
        });
    }
    let (head, tail) = mem.split_at_mut(bytes);
    let head = &mut head[pad..];
    let ptr = head.as_mut_ptr() as *mut T;
    for i in 0..n {
        // SAFETY: `ptr` is aligned for T (align_offset above), and element i lies inside `head`
        // (n * size_of::<T>() bytes); writing a Copy value needs no drop of the old bytes.
        unsafe { ptr.add(i).write(init) };
    }
    // SAFETY: all n elements were initialised just above; `head` is exclusively borrowed for the
    // returned lifetime and not used otherwise.
    let slice = unsafe { core::slice::from_raw_parts_mut(ptr, n) };
    Ok((slice, tail))
}
