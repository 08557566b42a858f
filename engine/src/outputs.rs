//! Raw model outputs as JSON Lines, the same text on every target (`mote infer --json` and the
//! firmware's infer mode print it, so the two can be compared byte for byte):
//! `{"output":0,"dtype":"int8","values":[-128,127]}`.

use core::fmt::{self, Write};

use crate::model::DType;

/// Write one record (with its newline) for output `index`: `bytes` decoded as `dtype`
/// (little-endian; a trailing partial element is ignored). Floats print as Rust's shortest
/// round-trip text (`core::fmt`, integer-only, identical on every target); NaN and infinities
/// as `null`. Types without a plain numeric reading print `"values":[]` plus their byte count.
pub fn write_output_json(
    w: &mut impl Write,
    index: usize,
    dtype: DType,
    bytes: &[u8],
) -> fmt::Result {
    let name = match dtype {
        DType::F32 => "float32",
        DType::I32 => "int32",
        DType::U8 => "uint8",
        DType::I64 => "int64",
        DType::Bool => "bool",
        DType::I16 => "int16",
        DType::I8 => "int8",
        DType::Resource | DType::Other(_) => "other",
    };
    write!(w, "{{\"output\":{index},\"dtype\":\"{name}\",\"values\":[")?;
    let mut first = true;
    let mut sep = |w: &mut dyn Write| -> fmt::Result {
        if !first {
            w.write_char(',')?;
        }
        first = false;
        Ok(())
    };
    match dtype {
        DType::I8 => {
            for &b in bytes {
                sep(w)?;
                write!(w, "{}", b as i8)?;
            }
        }
        DType::U8 | DType::Bool => {
            for &b in bytes {
                sep(w)?;
                write!(w, "{b}")?;
            }
        }
        DType::I16 => {
            for c in bytes.chunks_exact(2) {
                sep(w)?;
                write!(w, "{}", i16::from_le_bytes([c[0], c[1]]))?;
            }
        }
        DType::I32 => {
            for c in bytes.chunks_exact(4) {
                sep(w)?;
                write!(w, "{}", i32::from_le_bytes([c[0], c[1], c[2], c[3]]))?;
            }
        }
        DType::I64 => {
            for c in bytes.chunks_exact(8) {
                sep(w)?;
                let mut b = [0u8; 8];
                b.copy_from_slice(c);
                write!(w, "{}", i64::from_le_bytes(b))?;
            }
        }
        DType::F32 => {
            for c in bytes.chunks_exact(4) {
                sep(w)?;
                let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                if v.is_finite() {
                    write!(w, "{v:?}")?;
                } else {
                    w.write_str("null")?;
                }
            }
        }
        DType::Resource | DType::Other(_) => {
            return writeln!(w, "],\"bytes\":{}}}", bytes.len());
        }
    }
    w.write_str("]}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn records() {
        let mut s = String::new();
        write_output_json(&mut s, 0, DType::I8, &[0x80, 0x7f, 0]).unwrap();
        write_output_json(&mut s, 1, DType::F32, &[0, 0, 0x80, 0x3f, 0, 0, 0xc0, 0x7f]).unwrap();
        write_output_json(&mut s, 2, DType::I16, &[0xff, 0xff, 1]).unwrap();
        assert_eq!(
            s,
            "{\"output\":0,\"dtype\":\"int8\",\"values\":[-128,127,0]}\n\
             {\"output\":1,\"dtype\":\"float32\",\"values\":[1.0,null]}\n\
             {\"output\":2,\"dtype\":\"int16\",\"values\":[-1]}\n"
        );
    }
}
