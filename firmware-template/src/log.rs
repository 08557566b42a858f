//! Line-oriented logging to the UART and (with the `semihosting` feature, except in mic mode,
//! which must run without a debugger) the debugger's or QEMU's console. Lines are JSON objects
//! so a host script can parse them.

use core::fmt::{self, Write as _};

use mote_engine::text::{self, JsonEscaped, Piece};

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

/// What one `push` of 10 ms of audio prints at most (mic and replay modes), sized to the
/// model's labels ([`push_text`]).
#[cfg(any(mote_mode = "mic", mote_mode = "replay"))]
pub const PUSH_TEXT: usize = push_text(crate::config::LABELS);
/// What one `push` prints at most for a model read at run time (runtime mode: up to ~50
/// labels of up to 16 characters).
#[cfg(not(any(mote_mode = "mic", mote_mode = "replay")))]
#[allow(dead_code)] // runtime mode
pub const PUSH_TEXT: usize = 512;

/// Bytes of the two lines one `push` can print (`pipeline::write_json_line`) for `labels`:
/// an invocation line (`{"t_ms":…,"scores":[…],"label":"…"}`: 44 bytes, 10 digits, 5 per
/// score and the label) and a detection line (63 bytes, 15 digits and the label), every label
/// character counted as escaped (6 bytes); a missing name prints as `class<i>` (8 characters).
#[allow(dead_code)] // mic and replay modes
const fn push_text(labels: &[&str]) -> usize {
    let mut longest = 8;
    let mut i = 0;
    while i < labels.len() {
        if labels[i].len() > longest {
            longest = labels[i].len();
        }
        i += 1;
    }
    (44 + 10 + 5 * labels.len()) + (63 + 15) + 2 * 6 * longest
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

/// Writes one line, `parts` interleaved with `args` (text, integers, JSON string contents;
/// [`text::write_template`]) and a newline, without `core::fmt`'s formatting machinery: what
/// mic mode and the fault handlers print. Never inlined: one copy of the line buffer's code.
#[inline(never)]
pub fn line(parts: &[&str], args: &[Piece<'_>]) {
    let mut line = Line::new();
    let _ = text::write_template(&mut line, parts, args);
    let _ = line.write_str("\n");
}

/// Writes `{"event":"error","message":"..."}` for `e` (as [`line`]: no formatting machinery).
#[inline(never)]
#[allow(dead_code)] // the runtime prints its own error lines
pub fn error_line(e: &crate::Fail) {
    let mut line = Line::new();
    let _ = line.write_str("{\"event\":\"error\",\"message\":\"");
    let _ = e.write_message(&mut JsonEscaped(&mut line));
    let _ = line.write_str("\"}\n");
}

/// Displays a value as the contents of a JSON string (quotes, backslashes and control
/// characters escaped: [`JsonEscaped`]). Bench and runtime modes; the others print through
/// [`line`] and [`error_line`].
#[cfg(any(mote_mode = "bench", mote_mode = "runtime"))]
pub struct JsonStr<T>(pub T);

#[cfg(any(mote_mode = "bench", mote_mode = "runtime"))]
impl<T: fmt::Display> fmt::Display for JsonStr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::write(&mut JsonEscaped(f), format_args!("{}", self.0))
    }
}
