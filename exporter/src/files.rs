//! The CLI's file system edge: bounded reads and all-or-nothing writes.
//!
//! Reads: every input has a documented size cap ([`MODEL_CAP`], [`RAW_INPUT_CAP`], ...) and is
//! read through `Read::take(cap + 1)`, so a 2 GB file or `/dev/zero` costs at most the cap in
//! memory before the error. Models are checked for the `TFL3` identifier before the rest is read.
//!
//! Writes: [`AtomicOut`] writes to a temporary file in the destination's directory and renames
//! it over the destination only after every byte is written and synced. A failed write (full
//! disk, I/O error) or an early exit leaves the destination untouched and no temporary file.
//! A destination that exists and is not a regular file (a device, a FIFO, a symlink, a
//! directory) is refused: renaming over it would replace `/dev/null` with a regular file.

use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Largest `.tflite` model read (16 MiB; the largest STM32L4 has 1 MiB of flash).
pub const MODEL_CAP: u64 = 16 << 20;
/// Largest raw input file for `mote infer` / `mote bench --input` (256 MiB).
pub const RAW_INPUT_CAP: u64 = 256 << 20;
/// Largest sidecar JSON (1 MiB).
pub const SIDECAR_CAP: u64 = 1 << 20;
/// Largest `mote export --replay` WAV (16 MiB: far more audio than any board's flash holds).
pub const REPLAY_CAP: u64 = 16 << 20;

/// Reads at most `cap` bytes of `path`; more is an error naming `what` and the cap.
pub fn read_capped(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>> {
    let file =
        fs::File::open(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    read_capped_from(file, cap, &[])
        .with_context(|| format!("cannot read {what} {}", path.display()))
}

/// Reads `head` (already read) plus the rest of `r`, up to `cap` bytes in all.
fn read_capped_from(r: impl Read, cap: u64, head: &[u8]) -> Result<Vec<u8>> {
    let mut bytes = head.to_vec();
    let rest = cap.saturating_sub(head.len() as u64).saturating_add(1);
    r.take(rest).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        bail!("larger than the {} MiB limit for this file", cap >> 20);
    }
    Ok(bytes)
}

/// Reads a `.tflite` model: the FlatBuffer identifier (`TFL3` at bytes 4..8) is checked before
/// anything else is read, then at most [`MODEL_CAP`] bytes.
pub fn read_model(path: &Path) -> Result<Vec<u8>> {
    let ctx = || format!("cannot read model {}", path.display());
    let mut file = fs::File::open(path).with_context(ctx)?;
    let mut head = [0u8; 8];
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e).with_context(ctx),
        }
    }
    let head = &head[..got];
    if head.len() < 8 || &head[4..8] != b"TFL3" {
        bail!(
            "{}: not a TensorFlow Lite model: the file identifier is not \"TFL3\"",
            path.display()
        );
    }
    read_capped_from(file, MODEL_CAP, head).with_context(ctx)
}

/// Reads a UTF-8 text file of at most `cap` bytes (a leading UTF-8 byte-order mark is dropped).
pub fn read_text(path: &Path, cap: u64, what: &str) -> Result<String> {
    let bytes = read_capped(path, cap, what)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("cannot read {what} {}: not UTF-8 text", path.display()))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(t) => t.to_string(),
        None => text,
    })
}

/// Refuses `dest` if it exists and is not a regular file (a symlink is refused too, even to a
/// regular file: the rename would replace the link, not its target).
pub fn check_destination(dest: &Path) -> Result<()> {
    let meta = match fs::symlink_metadata(dest) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot write {}", dest.display())),
    };
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok(());
    }
    let kind = if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else {
        special_kind(&ft)
    };
    bail!(
        "refusing to write {}: it exists and is {kind}, not a regular file (remove it or choose another path)",
        dest.display()
    )
}

#[cfg(unix)]
fn special_kind(ft: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &fs::FileType) -> &'static str {
    "a special file"
}

/// Where [`AtomicOut`] writes: a file that can be flushed to stable storage.
pub trait Sink: Write {
    /// Flush to stable storage (`fsync`).
    fn sync(&mut self) -> io::Result<()>;
}

impl Sink for fs::File {
    fn sync(&mut self) -> io::Result<()> {
        self.sync_all()
    }
}

/// An output file that appears under its final name complete or not at all.
///
/// Write through [`Write`]; [`AtomicOut::commit`] flushes, syncs and renames. Dropped without
/// a commit (an error, a panic unwinding), the temporary file is removed.
pub struct AtomicOut<W: Sink = fs::File> {
    tmp: PathBuf,
    dest: PathBuf,
    w: Option<BufWriter<W>>,
}

impl AtomicOut<fs::File> {
    /// Checks `dest` ([`check_destination`]) and creates a temporary file beside it.
    pub fn create(dest: &Path) -> Result<Self> {
        check_destination(dest)?;
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = dest
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("output");
        let tmp = dir.join(format!(".{base}.{}.tmp", std::process::id()));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .with_context(|| format!("cannot write {}", dest.display()))?;
        Ok(Self::with_sink(dest, tmp, file))
    }
}

impl<W: Sink> AtomicOut<W> {
    /// Wraps an already created temporary `sink` at `tmp`, to be renamed to `dest`.
    pub fn with_sink(dest: &Path, tmp: PathBuf, sink: W) -> Self {
        AtomicOut {
            tmp,
            dest: dest.to_path_buf(),
            w: Some(BufWriter::with_capacity(64 * 1024, sink)),
        }
    }

    /// Flushes, syncs and renames the temporary file to the destination. On error nothing is
    /// left behind and the destination is unchanged.
    pub fn commit(mut self) -> Result<()> {
        let Some(w) = self.w.take() else {
            bail!("{} was already written", self.dest.display());
        };
        let done = w
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|mut sink| {
                sink.sync()?;
                drop(sink);
                // The destination may have become a special file since `create`.
                check_destination(&self.dest).map_err(|e| io::Error::other(format!("{e:#}")))?;
                fs::rename(&self.tmp, &self.dest)
            });
        if done.is_err() {
            let _ = fs::remove_file(&self.tmp);
        }
        done.with_context(|| format!("cannot write {}", self.dest.display()))
    }
}

impl<W: Sink> Write for AtomicOut<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.w {
            Some(w) => w.write(buf),
            None => Err(io::Error::other("output already committed")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.w {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }
}

impl<W: Sink> Drop for AtomicOut<W> {
    fn drop(&mut self) {
        if self.w.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file that accepts `room` bytes and then fails like a full disk (`ENOSPC`).
    struct FullAfter {
        file: fs::File,
        room: usize,
    }

    impl Write for FullAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::from_raw_os_error(28)); // ENOSPC
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            self.file.write(&buf[..n])
        }
        fn flush(&mut self) -> io::Result<()> {
            self.file.flush()
        }
    }

    impl Sink for FullAfter {
        fn sync(&mut self) -> io::Result<()> {
            self.file.sync_all()
        }
    }

    #[test]
    fn a_full_disk_leaves_neither_a_partial_file_nor_a_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.bin");
        let tmp = dir.path().join(".out.bin.tmp");
        let file = fs::File::create(&tmp).unwrap();
        let mut out = AtomicOut::with_sink(
            &dest,
            tmp.clone(),
            FullAfter {
                file,
                room: 100_000,
            },
        );
        // Errors may surface on write (buffer full) or on commit (final flush).
        let wrote = (0..40).try_for_each(|_| out.write_all(&[7u8; 4096]));
        let committed = match wrote {
            Ok(()) => out.commit(),
            Err(e) => {
                drop(out);
                Err(e.into())
            }
        };
        let e = committed.unwrap_err();
        assert!(format!("{e:#}").contains("No space left"), "{e:#}");
        assert!(!dest.exists());
        assert!(!tmp.exists());
    }

    #[test]
    fn an_existing_file_is_replaced_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.bin");
        fs::write(&dest, b"old").unwrap();
        let mut out = AtomicOut::create(&dest).unwrap();
        out.write_all(b"new").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"old");
        out.commit().unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn special_destinations_are_refused() {
        let e = AtomicOut::create(Path::new("/dev/null")).err().unwrap();
        assert!(format!("{e:#}").contains("character device"), "{e:#}");
        let dir = tempfile::tempdir().unwrap();
        let e = AtomicOut::create(dir.path()).err().unwrap();
        assert!(format!("{e:#}").contains("a directory"), "{e:#}");
    }

    #[test]
    fn reads_are_capped() {
        let e = read_capped_from(io::repeat(0), 1 << 20, &[]).unwrap_err();
        assert!(e.to_string().contains("1 MiB limit"), "{e}");
        assert!(read_capped_from(&b"abc"[..], 3, b"x")
            .unwrap_err()
            .to_string()
            .contains("limit"));
        assert_eq!(read_capped_from(&b"ab"[..], 3, b"x").unwrap(), b"xab");
    }
}
