//! A minimal deterministic ZIP writer (PKWARE APPNOTE 6.3): deflated entries, fixed timestamps,
//! fixed permissions, entries in the order given. Same entries → same bytes, on every platform
//! (the deflate stream comes from `miniz_oxide`, pure Rust, no platform-dependent state).
//!
//! Why not the `zip` crate (named in the design card): the archive must be a pure function of
//! its entries, and this writer states every byte of it (fixed date, permissions, flags, entry
//! order, store-vs-deflate rule). With the crate, the same bytes depend on defaults we do not
//! pin (its `FileOptions` timestamp defaults to the current time when its `time` feature is on,
//! a feature any other crate in the build can turn on; the deflate backend and default level
//! depend on which features are enabled), and a crate update could change the output that
//! `tests/export.rs` compares. It would also add its reader, ZIP64, encryption and
//! backend-selection code to the playground's wasm module, which only ever writes one small
//! archive; here writing is ~150 lines over `miniz_oxide`, which deflate needs anyway.

/// DOS date of every entry: 1980-01-01 (the earliest a ZIP can say), time 00:00.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
/// "Version made by": 3 = UNIX (so the external attributes carry permissions), spec 2.0.
const MADE_BY: u16 = (3 << 8) | 20;
/// Version needed to extract: 2.0 (deflate).
const NEEDED: u16 = 20;
/// General purpose flag bit 11: names are UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
const METHOD_STORE: u16 = 0;
const METHOD_DEFLATE: u16 = 8;
/// Deflate level: 9 (best); the stream is a pure function of the input at a given level.
const LEVEL: u8 = 9;

/// One file to store.
pub struct Entry<'a> {
    /// Path inside the archive, `/`-separated, no leading `/`.
    pub name: &'a str,
    /// Contents.
    pub data: &'a [u8],
    /// Unix mode bits (0o644 or 0o755).
    pub mode: u32,
}

/// Why a ZIP could not be written (the classic format's 32-bit limits).
#[derive(Debug, PartialEq, Eq)]
pub struct TooLarge;

/// Writes a complete archive of `entries` (in this order).
pub fn write(entries: &[Entry<'_>]) -> Result<Vec<u8>, TooLarge> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    let count = u16::try_from(entries.len()).map_err(|_| TooLarge)?;
    for e in entries {
        let crc = crc32(e.data);
        let deflated = miniz_oxide::deflate::compress_to_vec(e.data, LEVEL);
        // Store instead when deflate does not help (tiny or incompressible files).
        let (method, body) = if deflated.len() < e.data.len() {
            (METHOD_DEFLATE, &deflated[..])
        } else {
            (METHOD_STORE, e.data)
        };
        let name = e.name.as_bytes();
        let name_len = u16::try_from(name.len()).map_err(|_| TooLarge)?;
        let size = u32::try_from(e.data.len()).map_err(|_| TooLarge)?;
        let csize = u32::try_from(body.len()).map_err(|_| TooLarge)?;
        let offset = u32::try_from(out.len()).map_err(|_| TooLarge)?;

        // Local file header.
        put32(&mut out, 0x0403_4b50);
        put_entry_fields(&mut out, method, crc, [csize, size], name_len);
        out.extend_from_slice(name);
        out.extend_from_slice(body);

        // Central directory record.
        put32(&mut central, 0x0201_4b50);
        put16(&mut central, MADE_BY);
        put_entry_fields(&mut central, method, crc, [csize, size], name_len);
        put16(&mut central, 0); // comment
        put16(&mut central, 0); // disk number start
        put16(&mut central, 0); // internal attributes
                                // External attributes: Unix mode (regular file) in the high 16 bits.
        put32(&mut central, (0o100_000 | (e.mode & 0o777)) << 16);
        put32(&mut central, offset);
        central.extend_from_slice(name);
    }
    let cd_offset = u32::try_from(out.len()).map_err(|_| TooLarge)?;
    let cd_size = u32::try_from(central.len()).map_err(|_| TooLarge)?;
    out.extend_from_slice(&central);
    // End of central directory.
    put32(&mut out, 0x0605_4b50);
    put16(&mut out, 0); // this disk
    put16(&mut out, 0); // disk with the central directory
    put16(&mut out, count);
    put16(&mut out, count);
    put32(&mut out, cd_size);
    put32(&mut out, cd_offset);
    put16(&mut out, 0); // comment length
    Ok(out)
}

/// The run both an entry's local header and its central directory record carry (APPNOTE
/// 4.3.7 / 4.3.12, from "version needed to extract" through "extra field length", which is 0):
/// the fixed version, flags and timestamp, then the entry's method, CRC, compressed and
/// uncompressed `sizes`, name length.
fn put_entry_fields(v: &mut Vec<u8>, method: u16, crc: u32, sizes: [u32; 2], name_len: u16) {
    put16(v, NEEDED);
    put16(v, FLAG_UTF8);
    put16(v, method);
    put16(v, DOS_TIME);
    put16(v, DOS_DATE);
    put32(v, crc);
    put32(v, sizes[0]);
    put32(v, sizes[1]);
    put16(v, name_len);
    put16(v, 0); // extra field length
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as ZIP requires: the engine's, which
/// the model slot's header uses too.
pub use mote_engine::slot::crc32;

/// Reads back the (name, contents) of every entry of an archive this module wrote: for tests
/// and for the exporter's own self-check. `None` on anything it did not write.
pub fn read(zip: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let le16 = |at: usize| -> Option<u16> {
        Some(u16::from_le_bytes(zip.get(at..at + 2)?.try_into().ok()?))
    };
    let le32 = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(zip.get(at..at + 4)?.try_into().ok()?))
    };
    let eocd = zip.len().checked_sub(22)?;
    if le32(eocd)? != 0x0605_4b50 {
        return None;
    }
    let count = usize::from(le16(eocd + 10)?);
    let mut at = usize::try_from(le32(eocd + 16)?).ok()?;
    let mut files = Vec::with_capacity(count);
    for _ in 0..count {
        if le32(at)? != 0x0201_4b50 {
            return None;
        }
        let method = le16(at + 10)?;
        let crc = le32(at + 16)?;
        let csize = usize::try_from(le32(at + 20)?).ok()?;
        let size = usize::try_from(le32(at + 24)?).ok()?;
        let name_len = usize::from(le16(at + 28)?);
        let extra = usize::from(le16(at + 30)?);
        let comment = usize::from(le16(at + 32)?);
        let local = usize::try_from(le32(at + 42)?).ok()?;
        let name = String::from_utf8(zip.get(at + 46..at + 46 + name_len)?.to_vec()).ok()?;
        let local_name = usize::from(le16(local + 26)?);
        let local_extra = usize::from(le16(local + 28)?);
        let start = local + 30 + local_name + local_extra;
        let body = zip.get(start..start + csize)?;
        let data = match method {
            METHOD_STORE => body.to_vec(),
            METHOD_DEFLATE => miniz_oxide::inflate::decompress_to_vec(body).ok()?,
            _ => return None,
        };
        if data.len() != size || crc32(&data) != crc {
            return None;
        }
        files.push((name, data));
        at += 46 + name_len + extra + comment;
    }
    Some(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_determinism() {
        let big = b"abcabcabc".repeat(100);
        let entries = [
            Entry {
                name: "a/b.txt",
                data: &big,
                mode: 0o644,
            },
            Entry {
                name: "x",
                data: b"\x00\x01",
                mode: 0o755,
            },
            Entry {
                name: "empty",
                data: b"",
                mode: 0o644,
            },
        ];
        let z = write(&entries).unwrap();
        assert_eq!(z, write(&entries).unwrap());
        let back = read(&z).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[0], ("a/b.txt".to_string(), big.clone()));
        assert_eq!(back[1], ("x".to_string(), vec![0, 1]));
        assert_eq!(back[2], ("empty".to_string(), vec![]));
        assert!(z.len() < big.len());
    }
}
