//! Text without `core::fmt`'s formatting machinery: strings, decimal and hex integers and JSON
//! string contents, written to a [`Sink`] (any `fmt::Write`, through `write_str` only). A
//! firmware that prints only through these links no `core::fmt::write`, `Formatter` or
//! `pad_integral` (about 4 KB on the M4); every writer prints exactly what the
//! `{}`/`{:#010x}`/`{:04x}` it replaces prints (tests below).

use core::fmt::{self, Write};

/// Where text goes: every `fmt::Write`. A trait of its own with this one method, so that a
/// `&mut dyn Sink` (one copy of each writer's code, whatever the destination) has a vtable
/// without `fmt::Write::write_fmt`, which would link `core::fmt::write`.
pub trait Sink {
    /// Appends `s`.
    fn put(&mut self, s: &str) -> fmt::Result;

    /// Appends one character (digits go one at a time: a writer that stores an ASCII
    /// character directly makes them cheap).
    fn put_char(&mut self, c: char) -> fmt::Result {
        self.put(c.encode_utf8(&mut [0; 4]))
    }
}

impl<W: Write + ?Sized> Sink for W {
    fn put(&mut self, s: &str) -> fmt::Result {
        self.write_str(s)
    }

    fn put_char(&mut self, c: char) -> fmt::Result {
        self.write_char(c)
    }
}

/// Appends digit `d` (< 16; lowercase hex above 9).
fn put_digit(w: &mut dyn Sink, d: u32) -> fmt::Result {
    let d = (d & 0xF) as u8;
    w.put_char(char::from(if d < 10 { b'0' + d } else { b'a' + d - 10 }))
}

/// A value written into a template: see [`write_template`].
#[derive(Clone, Copy, Debug)]
pub enum Piece<'a> {
    /// Text as it is.
    Str(&'a str),
    /// Text as the contents of a JSON string ([`JsonEscaped`]).
    Json(&'a str),
    /// A decimal number, as `{}` prints it.
    U32(u32),
    /// A decimal number, as `{}` prints it.
    I32(i32),
    /// `0x` and eight lowercase hex digits, as `{:#010x}` prints it.
    Hex32(u32),
}

impl<'a> From<&'a str> for Piece<'a> {
    fn from(s: &'a str) -> Self {
        Piece::Str(s)
    }
}

impl From<u32> for Piece<'_> {
    fn from(n: u32) -> Self {
        Piece::U32(n)
    }
}

impl From<u16> for Piece<'_> {
    fn from(n: u16) -> Self {
        Piece::U32(u32::from(n))
    }
}

impl From<i32> for Piece<'_> {
    fn from(n: i32) -> Self {
        Piece::I32(n)
    }
}

impl From<usize> for Piece<'_> {
    /// Values above `u32::MAX` (none on a 32-bit target) print as `u32::MAX`.
    fn from(n: usize) -> Self {
        Piece::U32(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

/// Writes `parts[0]`, `args[0]`, `parts[1]`, `args[1]`, … and then whatever is left of either.
/// The fixed text is one constant slice (no code per part), and this one non-generic function
/// is linked once, whatever writes through it: the smallest way to print a line on the M4.
pub fn write_template(w: &mut dyn Sink, parts: &[&str], args: &[Piece<'_>]) -> fmt::Result {
    let mut args = args.iter();
    for part in parts {
        w.put(part)?;
        if let Some(arg) = args.next() {
            write_piece(w, *arg)?;
        }
    }
    args.try_for_each(|arg| write_piece(w, *arg))
}

fn write_piece(w: &mut dyn Sink, p: Piece<'_>) -> fmt::Result {
    match p {
        Piece::Str(s) => w.put(s),
        Piece::Json(s) => JsonEscaped(w).write_str(s),
        Piece::U32(n) => write_digits(w, n, false),
        Piece::I32(n) => write_digits(w, n.unsigned_abs(), n < 0),
        Piece::Hex32(n) => {
            w.put("0x")?;
            write_hex(w, n, 8)
        }
    }
}

/// `n` in decimal with a minus sign first when `negative` (32-bit divisions only: cheap on the
/// M4, no `__aeabi_uldivmod`; no indexing, so no panic path).
pub fn write_digits(w: &mut dyn Sink, n: u32, negative: bool) -> fmt::Result {
    if negative {
        w.put("-")?;
    }
    // The largest power of ten ≤ n (1 for 0), then the digits from the top.
    let mut p = 1u32;
    while p <= n / 10 {
        p *= 10;
    }
    loop {
        put_digit(w, n / p % 10)?;
        if p == 1 {
            return Ok(());
        }
        p /= 10;
    }
}

/// The low `digits` hex digits of `n`, lowercase, zero padded (`{:0Nx}` for `n < 16^N`).
fn write_hex(w: &mut dyn Sink, n: u32, digits: u32) -> fmt::Result {
    let mut shift = 4 * digits;
    while shift > 0 {
        shift -= 4;
        put_digit(w, n >> shift)?;
    }
    Ok(())
}

/// A writer that passes text on as the contents of a JSON string: `"` and `\` backslashed,
/// control characters (below U+0020) as `\u00XX`, everything else as it is (what
/// `serde_json` and the CLI print for the same text).
pub struct JsonEscaped<'a>(pub &'a mut dyn Sink);

impl Write for JsonEscaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // By byte: the escaped characters are ASCII, and every byte of a multi-byte UTF-8
        // character is ≥ 0x80, so runs between escapes end on character boundaries.
        let mut start = 0;
        for (i, b) in s.bytes().enumerate() {
            let escape = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                0..=0x1F => "\\u00",
                _ => continue,
            };
            self.0.put(s.get(start..i).unwrap_or(""))?;
            self.0.put(escape)?;
            if b < 0x20 {
                write_hex(self.0, u32::from(b), 2)?;
            }
            start = i + 1;
        }
        self.0.put(s.get(start..).unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;
    use std::string::String;

    fn text(args: &[Piece<'_>]) -> String {
        let mut s = String::new();
        write_template(&mut s, &[], args).unwrap();
        s
    }

    #[test]
    fn integers_print_as_display() {
        for v in [0i32, 1, -1, 9, 10, -10, 99, 12345, i32::MAX, i32::MIN] {
            assert_eq!(text(&[Piece::I32(v)]), format!("{v}"));
        }
        for v in [0u32, 7, 10, 4_000_000_000, u32::MAX] {
            assert_eq!(text(&[Piece::U32(v)]), format!("{v}"));
        }
    }

    #[test]
    fn hex_prints_as_alternate_zero_padded() {
        for v in [0u32, 0xA, 0x0800_1234, 0xDEAD_BEEF, u32::MAX] {
            assert_eq!(text(&[Piece::Hex32(v)]), format!("{v:#010x}"));
        }
    }

    #[test]
    fn json_escapes_quotes_backslashes_and_controls() {
        let s = "a\"b\\c\n\u{1f}é";
        assert_eq!(text(&[Piece::Json(s)]), "a\\\"b\\\\c\\u000a\\u001fé");
        assert_eq!(text(&[Piece::Json(s)]), {
            let mut e = String::new();
            for c in s.chars() {
                match c {
                    '"' => e.push_str("\\\""),
                    '\\' => e.push_str("\\\\"),
                    c if (c as u32) < 0x20 => e.push_str(&format!("\\u{:04x}", c as u32)),
                    c => e.push(c),
                }
            }
            e
        });
    }

    #[test]
    fn template_interleaves_parts_and_args() {
        let mut s = String::new();
        let args = [5u32.into(), (-3i32).into(), Piece::Json("\"")];
        write_template(&mut s, &["n=", " d=", " "], &args).unwrap();
        assert_eq!(s, "n=5 d=-3 \\\"");
        s.clear();
        write_template(&mut s, &["a", "b", "c"], &[1u32.into()]).unwrap();
        assert_eq!(s, "a1bc");
    }
}
