//! Checked FlatBuffer primitives: tables, vtables and vectors over a byte slice.
//!
//! Every read is bounds-checked and returns `Error` instead of panicking; the schema layer
//! (`reader.rs`) uses these once, at parse time, and keeps only validated positions.
//! Wire format: little-endian; a table starts with an `i32` soffset to its vtable
//! (`vtable = table - soffset`); the vtable is `[u16 vtable_len, u16 table_len, u16 field_off...]`;
//! offsets to tables, vectors and strings are `u32`, relative to where they are stored.

use crate::error::Error;

/// Read `N` bytes at `pos`, or `Truncated`.
#[inline]
fn bytes<const N: usize>(buf: &[u8], pos: usize) -> Result<[u8; N], Error> {
    pos.checked_add(N)
        .and_then(|end| buf.get(pos..end))
        .and_then(|s| s.try_into().ok())
        .ok_or(Error::Truncated {
            offset: clamp32(pos),
            needed: N as u32,
            available: clamp32(buf.len()),
        })
}

/// A `usize` as `u32` for error messages (saturating).
#[inline]
pub(crate) fn clamp32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Little-endian `u16` at `pos`.
pub(crate) fn read_u16(buf: &[u8], pos: usize) -> Result<u16, Error> {
    bytes::<2>(buf, pos).map(u16::from_le_bytes)
}
/// Little-endian `u32` at `pos`.
pub(crate) fn read_u32(buf: &[u8], pos: usize) -> Result<u32, Error> {
    bytes::<4>(buf, pos).map(u32::from_le_bytes)
}
/// Little-endian `i32` at `pos`.
pub(crate) fn read_i32(buf: &[u8], pos: usize) -> Result<i32, Error> {
    bytes::<4>(buf, pos).map(i32::from_le_bytes)
}
/// Little-endian `u64` at `pos`.
pub(crate) fn read_u64(buf: &[u8], pos: usize) -> Result<u64, Error> {
    bytes::<8>(buf, pos).map(u64::from_le_bytes)
}

/// Follow a `u32` forward offset stored at `pos`; the target must lie inside `buf`.
pub(crate) fn follow(buf: &[u8], pos: usize, what: &'static str) -> Result<usize, Error> {
    let rel = read_u32(buf, pos)? as usize;
    let target = pos.checked_add(rel).ok_or(Error::Malformed {
        what,
        offset: clamp32(pos),
    })?;
    if rel == 0 {
        return Err(Error::Malformed {
            what,
            offset: clamp32(pos),
        });
    }
    // Pointing past the end is what a cut-off file looks like: report it as truncation.
    if target >= buf.len() {
        return Err(Error::Truncated {
            offset: clamp32(target),
            needed: 4,
            available: clamp32(buf.len()),
        });
    }
    Ok(target)
}

/// A validated table: its position and its vtable's field count are known to be in bounds.
#[derive(Clone, Copy, Debug)]
pub struct Table<'m> {
    buf: &'m [u8],
    pos: usize,
    vtable: usize,
    /// Number of field slots in the vtable.
    slots: usize,
    /// Inline size of the table (from the vtable), checked to fit in `buf`.
    size: usize,
}

impl<'m> Table<'m> {
    /// A table at `pos`, with its vtable checked.
    pub fn at(buf: &'m [u8], pos: usize, what: &'static str) -> Result<Self, Error> {
        if !pos.is_multiple_of(4) {
            return Err(Error::Malformed {
                what,
                offset: clamp32(pos),
            });
        }
        let soff = read_i32(buf, pos)? as i64;
        let vtable = pos as i64 - soff;
        if vtable < 0 || vtable as usize >= buf.len() || vtable % 2 != 0 {
            return Err(Error::Malformed {
                what,
                offset: clamp32(pos),
            });
        }
        let vtable = vtable as usize;
        let vlen = read_u16(buf, vtable)? as usize;
        let size = read_u16(buf, vtable + 2)? as usize;
        if vlen < 4 || !vlen.is_multiple_of(2) || size < 4 {
            return Err(Error::Malformed {
                what,
                offset: clamp32(vtable),
            });
        }
        for (start, len) in [(vtable, vlen), (pos, size)] {
            if start + len > buf.len() {
                return Err(Error::Truncated {
                    offset: clamp32(start),
                    needed: clamp32(len),
                    available: clamp32(buf.len()),
                });
            }
        }
        Ok(Table {
            buf,
            pos,
            vtable,
            slots: (vlen - 4) / 2,
            size,
        })
    }

    /// A table referenced by a `u32` offset stored at `pos`.
    pub fn follow(buf: &'m [u8], pos: usize, what: &'static str) -> Result<Self, Error> {
        Table::at(buf, follow(buf, pos, what)?, what)
    }

    /// The table's position in the buffer.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Absolute position of field `slot`'s inline value if present, checked to hold `width` bytes.
    fn field(&self, slot: usize, width: usize) -> Result<Option<usize>, Error> {
        if slot >= self.slots {
            return Ok(None);
        }
        let off = read_u16(self.buf, self.vtable + 4 + 2 * slot)? as usize;
        if off == 0 {
            return Ok(None);
        }
        if off + width > self.size {
            return Err(Error::Malformed {
                what: "table field",
                offset: clamp32(self.pos + off),
            });
        }
        Ok(Some(self.pos + off))
    }

    /// A scalar `u8` field (also used for bool and enums stored as bytes).
    pub fn u8(&self, slot: usize, default: u8) -> Result<u8, Error> {
        Ok(match self.field(slot, 1)? {
            Some(p) => bytes::<1>(self.buf, p)?[0],
            None => default,
        })
    }
    /// A scalar `i8` field.
    pub fn i8(&self, slot: usize, default: i8) -> Result<i8, Error> {
        Ok(self.u8(slot, default as u8)? as i8)
    }
    /// A `bool` field.
    pub fn bool(&self, slot: usize, default: bool) -> Result<bool, Error> {
        Ok(self.u8(slot, default as u8)? != 0)
    }
    /// A scalar `i32` field.
    pub fn i32(&self, slot: usize, default: i32) -> Result<i32, Error> {
        Ok(match self.field(slot, 4)? {
            Some(p) => read_i32(self.buf, p)?,
            None => default,
        })
    }
    /// A scalar `u32` field.
    pub fn u32(&self, slot: usize, default: u32) -> Result<u32, Error> {
        Ok(match self.field(slot, 4)? {
            Some(p) => read_u32(self.buf, p)?,
            None => default,
        })
    }
    /// A scalar `u64` field.
    pub fn u64(&self, slot: usize, default: u64) -> Result<u64, Error> {
        Ok(match self.field(slot, 8)? {
            Some(p) => read_u64(self.buf, p)?,
            None => default,
        })
    }
    /// A scalar `f32` field.
    pub fn f32(&self, slot: usize, default: f32) -> Result<f32, Error> {
        Ok(match self.field(slot, 4)? {
            Some(p) => f32::from_bits(read_u32(self.buf, p)?),
            None => default,
        })
    }
    /// A sub-table field.
    pub fn table(&self, slot: usize, what: &'static str) -> Result<Option<Table<'m>>, Error> {
        match self.field(slot, 4)? {
            Some(p) => Table::follow(self.buf, p, what).map(Some),
            None => Ok(None),
        }
    }
    /// A vector field of `elem`-byte scalars or offsets; returns the raw little-endian bytes.
    pub fn vector(
        &self,
        slot: usize,
        elem: usize,
        what: &'static str,
    ) -> Result<Option<Vector<'m>>, Error> {
        match self.field(slot, 4)? {
            Some(p) => Vector::follow(self.buf, p, elem, what).map(Some),
            None => Ok(None),
        }
    }
    /// A string field (UTF-8 checked; invalid UTF-8 is `Malformed`).
    pub fn string(&self, slot: usize, what: &'static str) -> Result<Option<&'m str>, Error> {
        match self.vector(slot, 1, what)? {
            Some(v) => core::str::from_utf8(v.bytes)
                .map(Some)
                .map_err(|_| Error::Malformed {
                    what,
                    offset: clamp32(v.pos),
                }),
            None => Ok(None),
        }
    }
}

/// A vector of fixed-size elements: `len` elements of `elem` bytes starting at `pos + 4`.
#[derive(Clone, Copy, Debug)]
pub struct Vector<'m> {
    buf: &'m [u8],
    /// Position of the length prefix.
    pos: usize,
    /// The element bytes (`len * elem`), in bounds.
    pub bytes: &'m [u8],
    elem: usize,
}

impl<'m> Vector<'m> {
    /// A vector referenced by the `u32` offset stored at `pos`.
    pub fn follow(
        buf: &'m [u8],
        pos: usize,
        elem: usize,
        what: &'static str,
    ) -> Result<Self, Error> {
        let vpos = follow(buf, pos, what)?;
        if vpos % 4 != 0 {
            return Err(Error::Malformed {
                what,
                offset: clamp32(vpos),
            });
        }
        let len = read_u32(buf, vpos)? as usize;
        let start = vpos + 4;
        let bytes = len
            .checked_mul(elem)
            .and_then(|n| start.checked_add(n))
            .and_then(|end| buf.get(start..end))
            .ok_or(Error::Truncated {
                offset: clamp32(start),
                needed: clamp32(len.saturating_mul(elem)),
                available: clamp32(buf.len()),
            })?;
        Ok(Vector {
            buf,
            pos: vpos,
            bytes,
            elem,
        })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.bytes.len() / self.elem.max(1)
    }
    /// True if the vector has no elements.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
    /// Position of element `i` in the whole buffer.
    pub fn elem_pos(&self, i: usize) -> usize {
        (self.pos + 4).saturating_add(i.saturating_mul(self.elem))
    }
    /// Element `i` of a vector of tables.
    pub fn table(&self, i: usize, what: &'static str) -> Result<Table<'m>, Error> {
        if i >= self.len() {
            return Err(Error::IndexOutOfRange {
                what,
                index: i as i32,
                len: clamp32(self.len()),
            });
        }
        Table::follow(self.buf, self.elem_pos(i), what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built buffer: root offset → table with one i32 field (slot 0 = 7) and slot 1 absent.
    fn tiny() -> [u8; 24] {
        let mut b = [0u8; 24];
        // root uoffset at 0 → table at 12
        b[0..4].copy_from_slice(&12u32.to_le_bytes());
        // vtable at 4: len 8 (2 slots), table size 8, slot0 at +4, slot1 absent
        b[4..6].copy_from_slice(&8u16.to_le_bytes());
        b[6..8].copy_from_slice(&8u16.to_le_bytes());
        b[8..10].copy_from_slice(&4u16.to_le_bytes());
        b[10..12].copy_from_slice(&0u16.to_le_bytes());
        // table at 12: soffset = 12 - 4 = 8
        b[12..16].copy_from_slice(&8i32.to_le_bytes());
        b[16..20].copy_from_slice(&7i32.to_le_bytes());
        b
    }

    #[test]
    fn reads_fields_and_defaults() {
        let b = tiny();
        let t = Table::follow(&b, 0, "root").unwrap();
        assert_eq!(t.i32(0, -1).unwrap(), 7);
        assert_eq!(t.i32(1, -1).unwrap(), -1);
        assert_eq!(t.i32(9, 5).unwrap(), 5);
    }

    #[test]
    fn rejects_out_of_bounds_without_panicking() {
        let b = tiny();
        for cut in 0..b.len() {
            let _ = Table::follow(&b[..cut], 0, "root").and_then(|t| t.i32(0, 0));
        }
        let mut bad = tiny();
        bad[12..16].copy_from_slice(&(-100i32).to_le_bytes());
        assert!(Table::follow(&bad, 0, "root").is_err());
    }
}
