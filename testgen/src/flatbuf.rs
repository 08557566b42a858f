//! A forward-only FlatBuffer writer over a caller's byte buffer, for the TFLite schema subset
//! the sweep needs.
//!
//! Objects are written parent first: a table's offset fields are written as 0 and patched once
//! the child is written after it, so every `uoffset` points forward as the format requires.
//! Every table field takes one 4-byte little-endian slot (a byte-sized field reads the low
//! byte); a table's vtable sits just before it. Writing past the end of the buffer sets
//! `full` and drops the bytes, so the writer itself never panics.

/// The writer: `len` bytes written so far (possibly more than fit: see `full`).
pub struct Writer<'a> {
    buf: &'a mut [u8],
    len: usize,
    full: bool,
}

impl<'a> Writer<'a> {
    /// A writer at the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer {
            buf,
            len: 0,
            full: false,
        }
    }

    /// Bytes written, or `None` if they did not all fit.
    pub fn finish(self) -> Option<usize> {
        if self.full {
            None
        } else {
            Some(self.len)
        }
    }

    /// Current position.
    pub fn pos(&self) -> usize {
        self.len
    }

    /// One byte.
    pub fn byte(&mut self, b: u8) {
        match self.buf.get_mut(self.len) {
            Some(slot) => *slot = b,
            None => self.full = true,
        }
        self.len += 1;
    }

    /// Raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.byte(b);
        }
    }

    /// A little-endian `u16`.
    pub fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }

    /// A little-endian `u32`; returns its position.
    pub fn u32(&mut self, v: u32) -> usize {
        let p = self.len;
        self.bytes(&v.to_le_bytes());
        p
    }

    /// Zero bytes until `pos + offset` is a multiple of `align` (a power of two).
    pub fn pad(&mut self, align: usize, offset: usize) {
        while !(self.len + offset).is_multiple_of(align) {
            self.byte(0);
        }
    }

    /// Point the `uoffset` at `at` (written earlier as a placeholder) to `target` (after it).
    pub fn patch(&mut self, at: usize, target: usize) {
        let rel = target.saturating_sub(at) as u32;
        match self.buf.get_mut(at..at + 4) {
            Some(s) => s.copy_from_slice(&rel.to_le_bytes()),
            None => self.full = true,
        }
    }

    /// A table whose fields `(slot, value)` take 4 bytes each in the given order, preceded by
    /// its vtable. Returns the table's position; field `k` is at [`field`]`(table, k)`.
    pub fn table(&mut self, fields: &[(u16, u32)]) -> usize {
        let slots = fields
            .iter()
            .map(|&(s, _)| s as usize + 1)
            .max()
            .unwrap_or(0);
        self.pad(4, 0);
        let vtable = self.len;
        self.u16((4 + 2 * slots) as u16);
        self.u16((4 + 4 * fields.len()) as u16);
        for s in 0..slots {
            let off = fields
                .iter()
                .position(|&(f, _)| f as usize == s)
                .map_or(0, |k| 4 + 4 * k);
            self.u16(off as u16);
        }
        self.pad(4, 0);
        let table = self.len;
        // soffset: vtable = table - soffset.
        self.u32((table - vtable) as u32);
        for &(_, v) in fields {
            self.u32(v);
        }
        table
    }

    /// A vector's length prefix, placed so the elements start at a multiple of `align`;
    /// returns the vector's position (what an offset to it points at).
    pub fn vector(&mut self, n: usize, align: usize) -> usize {
        self.pad(align.max(4), 4);
        self.u32(n as u32)
    }

    /// A vector of `i32`s; returns its position.
    pub fn vec_i32(&mut self, vals: &[i32]) -> usize {
        let p = self.vector(vals.len(), 4);
        for &v in vals {
            self.u32(v as u32);
        }
        p
    }

    /// A vector of `n` offsets (placeholders); returns (vector position, first slot position).
    pub fn vec_offsets(&mut self, n: usize) -> (usize, usize) {
        let p = self.vector(n, 4);
        for _ in 0..n {
            self.u32(0);
        }
        (p, p + 4)
    }
}

/// Position of field `k` (in the order given to [`Writer::table`]) of the table at `table`.
pub fn field(table: usize, k: usize) -> usize {
    table + 4 + 4 * k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_layout() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        let t = w.table(&[(2, 7), (0, 9)]);
        assert_eq!(w.finish(), Some(t + 12));
        // vtable: len 4 + 2*3, table len 4 + 8, slot 0 -> +8, slot 1 absent, slot 2 -> +4.
        assert_eq!(&buf[0..10], &[10, 0, 12, 0, 8, 0, 0, 0, 4, 0]);
        assert_eq!(t, 12);
        assert_eq!(&buf[12..16], &12u32.to_le_bytes());
        assert_eq!(&buf[16..20], &7u32.to_le_bytes());
        assert_eq!(&buf[20..24], &9u32.to_le_bytes());
    }

    #[test]
    fn overflow_is_reported_not_a_panic() {
        let mut buf = [0u8; 8];
        let mut w = Writer::new(&mut buf);
        let p = w.vec_i32(&[1, 2, 3]);
        w.patch(p, 100);
        assert_eq!(w.finish(), None);
    }

    #[test]
    fn vector_alignment() {
        let mut buf = [0u8; 64];
        let mut w = Writer::new(&mut buf);
        w.byte(1);
        let p = w.vector(2, 16);
        assert_eq!((p + 4) % 16, 0);
    }
}
