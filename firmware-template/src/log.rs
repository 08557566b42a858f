//! Line-oriented logging to the UART and (with the `semihosting` feature, except in mic mode,
//! which must run without a debugger) the debugger's or QEMU's console. Lines are JSON objects
//! so a host script can parse them.

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
        Line {
            buf: [0; LINE],
            len: 0,
        }
    }

    fn flush(&mut self) {
        let bytes = self.buf.get(..self.len).unwrap_or(&[]);
        write_all(bytes);
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

/// Sends bytes to the UART and, where enabled, semihosting stdout.
pub fn write_all(bytes: &[u8]) {
    crate::uart::write_bytes(bytes);
    #[cfg(all(feature = "semihosting", not(mote_mode = "mic")))]
    if let Ok(mut out) = cortex_m_semihosting::hio::hstdout() {
        let _ = out.write_all(bytes);
    }
}

/// Sends a line to semihosting stderr only (run summaries that must not mix into the JSON
/// Lines on the UART and stdout); nothing without semihosting.
#[allow(dead_code)] // replay mode only
pub fn note(args: fmt::Arguments<'_>) {
    #[cfg(all(feature = "semihosting", not(mote_mode = "mic")))]
    if let Ok(mut err) = cortex_m_semihosting::hio::hstderr() {
        use core::fmt::Write as _;
        let _ = err.write_fmt(args);
        let _ = err.write_str("\n");
    }
    #[cfg(not(all(feature = "semihosting", not(mote_mode = "mic"))))]
    let _ = args;
}

/// A fixed-capacity text buffer: output formatted inside a measured region and sent after it.
#[allow(dead_code)] // replay and mic modes
pub struct Buf<const N: usize> {
    buf: [u8; N],
    len: usize,
    /// Set when text did not fit (it is dropped, never truncated mid-line silently).
    pub overflow: bool,
}

#[allow(dead_code)] // replay and mic modes
impl<const N: usize> Buf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Buf {
            buf: [0; N],
            len: 0,
            overflow: false,
        }
    }

    /// The text so far.
    pub fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    /// Forgets the text.
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflow = false;
    }
}

impl<const N: usize> fmt::Write for Buf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(s.as_bytes());
                self.len = end;
                Ok(())
            }
            None => {
                self.overflow = true;
                Err(fmt::Error)
            }
        }
    }

    /// One ASCII character stored directly (the JSON lines' labels arrive a character at a
    /// time through the escaper; the default would encode and `memcpy` each one).
    fn write_char(&mut self, c: char) -> fmt::Result {
        if !c.is_ascii() {
            return self.write_str(c.encode_utf8(&mut [0; 4]));
        }
        match self.buf.get_mut(self.len) {
            Some(slot) => {
                *slot = c as u8;
                self.len += 1;
                Ok(())
            }
            None => {
                self.overflow = true;
                Err(fmt::Error)
            }
        }
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
