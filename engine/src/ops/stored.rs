//! Operator parameters kept in the caller's arena, with every byte initialised.
//!
//! The interpreter keeps each operator's prepared `Params` in persistent `i32` words carved from
//! the caller's `&mut [u8]` arena. Copying a value with padding there would leave uninitialised
//! bytes in memory the caller may read once the interpreter is gone (undefined behaviour even in
//! safe code). So only [`NoUninit`] types are stored, and [`no_uninit!`] proves at compile time,
//! for each one, that it has exactly the listed fields, each `NoUninit`, and no padding (the
//! check `bytemuck`'s derive makes, without a dependency in the firmware's build).

use core::marker::PhantomData;
use core::mem::size_of;

use super::{Span, WordAlloc};
use crate::error::Error;

/// Types with no uninitialised bytes: no padding, and only `NoUninit` fields.
///
/// # Safety
/// Every byte of every value must be initialised. Implement only through [`no_uninit!`] (or for
/// primitives below), which proves it at compile time.
pub unsafe trait NoUninit: Copy {}

// SAFETY: integers, floats and bool have no padding; arrays of NoUninit have none between
// elements (size = n * element size).
unsafe impl NoUninit for u8 {}
// SAFETY: as above.
unsafe impl NoUninit for u16 {}
// SAFETY: as above.
unsafe impl NoUninit for u32 {}
// SAFETY: as above.
unsafe impl NoUninit for i32 {}
// SAFETY: as above.
unsafe impl NoUninit for f32 {}
// SAFETY: as above.
unsafe impl NoUninit for bool {}
// SAFETY: as above.
unsafe impl<T: NoUninit, const N: usize> NoUninit for [T; N] {}

/// `no_uninit!(Type { field: FieldType, ... })` implements [`NoUninit`] for a struct after
/// proving at compile time that the list names every field with its type (an exhaustive
/// destructuring), that each field type is `NoUninit`, and that the struct's size is the sum of
/// the fields' sizes (no padding); `no_uninit!(Type(Field))` for a one-field tuple struct.
/// `no_uninit!(enum Type)` does it for a fieldless enum of one
/// byte (its only byte is the discriminant).
#[macro_export]
#[doc(hidden)]
macro_rules! no_uninit {
    ($t:ident { $($f:ident : $ft:ty),* $(,)? }) => {
        // SAFETY: proven by the assertions in the const block below.
        unsafe impl $crate::ops::stored::NoUninit for $t {}
        const _: () = {
            assert!(core::mem::size_of::<$t>() == 0 $(+ core::mem::size_of::<$ft>())*);
            #[allow(dead_code, clippy::too_many_arguments)]
            fn fields(v: $t) {
                fn is<T: $crate::ops::stored::NoUninit>(_: T) {}
                let $t { $($f),* } = v;
                $( let $f: $ft = $f; is($f); )*
            }
        };
    };
    ($t:ident ( $ft:ty )) => {
        // SAFETY: proven by the assertions in the const block below.
        unsafe impl $crate::ops::stored::NoUninit for $t {}
        const _: () = {
            assert!(core::mem::size_of::<$t>() == core::mem::size_of::<$ft>());
            #[allow(dead_code)]
            fn fields(v: $t) {
                fn is<T: $crate::ops::stored::NoUninit>(_: T) {}
                let $t(f) = v;
                let f: $ft = f;
                is(f);
            }
        };
    };
    (enum $t:ident) => {
        // SAFETY: a one-byte fieldless enum: its byte is the discriminant, always written.
        unsafe impl $crate::ops::stored::NoUninit for $t {}
        const _: () = assert!(core::mem::size_of::<$t>() == 1);
    };
}
pub use no_uninit;

no_uninit!(Span {
    start: u32,
    len: u32
});

/// An operator's `Params`, kept in the persistent words instead of inline in the kernel table,
/// so the table stays at three words per operator whatever the largest kernel needs.
///
/// Only [`store`] creates one (after writing a valid `T` at `span`, or in measure mode with
/// `written == false`), and [`super::KernelSlot`] round-trips it unchanged under the tag of the
/// same kernel kind; only [`load`] reads it back, from the same interpreter's words, which are
/// never written again after prepare.
#[derive(Clone, Copy, Debug)]
pub struct Stored<T> {
    pub(super) span: Span,
    pub(super) written: bool,
    _t: PhantomData<T>,
}

impl<T> Stored<T> {
    /// Rebuild from a kernel slot's fields (only [`super::KernelSlot::kernel`] calls this, with
    /// what [`super::Kernel::slot`] took from a `Stored<T>` of the same kind).
    pub(super) fn from_parts(span: Span, written: bool) -> Self {
        Stored {
            span,
            written,
            _t: PhantomData,
        }
    }
}

/// Keep `value` in freshly allocated words.
pub(super) fn store<T: NoUninit>(words: &mut WordAlloc<'_>, value: T) -> Result<Stored<T>, Error> {
    let n = size_of::<T>().div_ceil(4);
    let (span, mut w) = words.alloc(n)?;
    let written = match w.0.as_deref_mut() {
        Some(slot) if slot.len() == n => {
            // SAFETY: `slot` is `n` exclusively borrowed i32s, i.e. at least size_of::<T>()
            // writable bytes; write_unaligned has no alignment requirement. `T: NoUninit`, so
            // every byte written is initialised (the words stay valid i32s); bytes past
            // size_of::<T>() in the last word keep their (initialised) value.
            unsafe { core::ptr::write_unaligned(slot.as_mut_ptr() as *mut T, value) };
            true
        }
        _ => false,
    };
    Ok(Stored::from_parts(span, written))
}

/// Read back what [`store`] kept.
pub(super) fn load<T: NoUninit>(words: &[i32], s: Stored<T>) -> Result<T, Error> {
    let start = s.span.start as usize;
    let slot = words
        .get(start..start + s.span.len as usize)
        .filter(|w| s.written && w.len() * 4 >= size_of::<T>())
        .ok_or(Error::InvalidGraph {
            what: "kernel parameters not prepared",
            index: start as i32,
        })?;
    // SAFETY: a `Stored<T>` with `written` comes from `store::<T>` (directly or through a
    // kernel slot of the same kind), which wrote a valid `T` to exactly these words of the
    // interpreter's persistent area; they are not modified after prepare, and `ops::eval` (the
    // only caller with a kernel) is crate-private and always passes that interpreter's words.
    // read_unaligned has no alignment requirement.
    Ok(unsafe { core::ptr::read_unaligned(slot.as_ptr() as *const T) })
}
