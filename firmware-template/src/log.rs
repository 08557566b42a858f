//! Line-oriented logging to the UART and (with the `semihosting` feature) the debugger's or
//! QEMU's console. Lines are JSON objects so a host script can parse them.

use core::fmt;

/// Bytes buffered before a flush; longer lines are sent in several writes.
const LINE: usize = 256;

/// A line being formatted; flushed when full and on drop.
pub struct Line {
    buf: [u8; LINE],
    len: usize,
}

impl Line {
    /// An empty line.
    pub const fn new() -> Self {
        Line { buf: [0; LINE], len: 0 }
    }

    fn flush(&mut self) {
        let bytes = self.buf.get(..self.len).unwrap_or(&[]);
        crate::uart::write_bytes(bytes);
        #[cfg(feature = "semihosting")]
        if let Ok(mut out) = cortex_m_semihosting::hio::hstdout() {
            let _ = out.write_all(bytes);
        }
        self.len = 0;
    }
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == LINE {
                self.flush();
            }
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Writes one formatted line (a newline is appended).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use core::fmt::Write as _;
        let mut line = $crate::log::Line::new();
        let _ = line.write_fmt(format_args!($($arg)*));
        let _ = line.write_str("\n");
    }};
}

/// Displays a value as the contents of a JSON string (quotes, backslashes and control
/// characters escaped).
pub struct JsonStr<T>(pub T);

impl<T: fmt::Display> fmt::Display for JsonStr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Escape<'a, 'b>(&'a mut fmt::Formatter<'b>);
        impl fmt::Write for Escape<'_, '_> {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                for c in s.chars() {
                    match c {
                        '"' => self.0.write_str("\\\"")?,
                        '\\' => self.0.write_str("\\\\")?,
                        c if (c as u32) < 0x20 => write!(self.0, "\\u{:04x}", c as u32)?,
                        c => fmt::Write::write_char(self.0, c)?,
                    }
                }
                Ok(())
            }
        }
        fmt::write(&mut Escape(f), format_args!("{}", self.0))
    }
}
