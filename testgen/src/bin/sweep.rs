//! Host side of the kernel sweep.
//!
//! ```text
//! sweep hashes [--count N]             one line per case: `INDEX HASH` (8 hex digits) or `INDEX E message`
//! sweep stats [--count N]              per operator: cases, MACs, outputs that are one repeated value
//! sweep show INDEX...                  the parameters of cases
//! sweep check FILE [--count N]         compare a device's lines (sweep firmware output) with the host's
//! sweep dump DIR [--every K] [--count N]
//!                                       models and inputs of every K-th case, for the TFLM oracle
//! ```
//!
//! `check` prints one `ok OP CASES` or `FAILED OP CASES MISMATCHES` line per operator, every
//! mismatching case's parameters, and exits with 1 on any mismatch, error or missing case.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use mote_testgen::{
    case, fill_input, run, write_model, OpKind, ARENA_BYTES, MODEL_BYTES, SWEEP_CASES, TFLM_EVERY,
};

fn main() -> ExitCode {
    match cli() {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("sweep: {msg}");
            ExitCode::from(2)
        }
    }
}

/// `INDEX HASH` (8 hex digits), or `INDEX E message` if the case failed to run.
fn host_line(index: u32, model: &mut [u8], arena: &mut [u8]) -> String {
    match run(&case(index), model, arena) {
        Ok(h) => format!("{index} {h:08x}"),
        Err(e) => format!("{index} E {e}"),
    }
}

fn cli() -> Result<ExitCode, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut count = SWEEP_CASES;
    let mut every = TFLM_EVERY;
    let mut positional = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<u32, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|&v| v > 0)
                .ok_or(format!("{name} needs a positive number"))
        };
        match a.as_str() {
            "--count" => count = num("--count")?,
            "--every" => every = num("--every")?,
            _ => positional.push(a.as_str()),
        }
    }
    let mut model = vec![0u8; MODEL_BYTES];
    let mut arena = vec![0u8; ARENA_BYTES];
    match positional.as_slice() {
        ["hashes"] => {
            for i in 0..count {
                println!("{}", host_line(i, &mut model, &mut arena));
            }
            Ok(ExitCode::SUCCESS)
        }
        ["stats"] => {
            stats(count, &mut model, &mut arena);
            Ok(ExitCode::SUCCESS)
        }
        ["show", rest @ ..] => {
            for i in rest {
                let i: u32 = i.parse().map_err(|_| format!("{i}: not a case index"))?;
                println!("{}", case(i));
            }
            Ok(ExitCode::SUCCESS)
        }
        ["check", file] => check(file, count, &mut model, &mut arena),
        ["dump", dir] => {
            let dir = PathBuf::from(dir);
            fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let mut index = String::new();
            for i in (0..count).step_by(every as usize) {
                let c = case(i);
                let n = write_model(&c, &mut model).ok_or(format!("case {i}: model too large"))?;
                let write = |name: String, bytes: &[u8]| {
                    fs::write(dir.join(&name), bytes).map_err(|e| format!("{name}: {e}"))
                };
                write(format!("{i}.tflite"), &model[..n])?;
                for which in 0..c.op.inputs() {
                    let mut input = vec![0u8; c.input_len(which)];
                    fill_input(&c, which, &mut input);
                    write(format!("{i}.input{which}.bin"), &input)?;
                }
                index.push_str(&format!("{i} {}\n", c.op.name()));
            }
            fs::write(dir.join("cases.txt"), index).map_err(|e| format!("cases.txt: {e}"))?;
            Ok(ExitCode::SUCCESS)
        }
        _ => Err("usage: sweep hashes | check FILE | dump DIR [--every K] [--count N]".into()),
    }
}

fn check(file: &str, count: u32, model: &mut [u8], arena: &mut [u8]) -> Result<ExitCode, String> {
    let text = fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let mut device: BTreeMap<u32, String> = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some((i, _)) = line.split_once(' ') {
            if let Ok(i) = i.parse::<u32>() {
                device.insert(i, line.to_string());
            }
        }
    }
    // Per operator: (cases compared, mismatches).
    let mut tally: BTreeMap<&str, (u32, u32)> =
        OpKind::ALL.iter().map(|k| (k.name(), (0, 0))).collect();
    let mut bad = 0u32;
    for i in 0..count {
        let c = case(i);
        let host = host_line(i, model, arena);
        let t = tally.entry(c.op.name()).or_default();
        t.0 += 1;
        let dev = device.get(&i).map(String::as_str).unwrap_or("(missing)");
        if dev != host || host.contains(" E ") {
            t.1 += 1;
            bad += 1;
            if bad <= 20 {
                eprintln!("MISMATCH {c}\n  host:   {host}\n  device: {dev}");
            }
        }
    }
    for k in OpKind::ALL {
        let (n, m) = tally.get(k.name()).copied().unwrap_or_default();
        if m == 0 {
            println!("ok {} {n}", k.name());
        } else {
            println!("FAILED {} {n} {m}", k.name());
        }
    }
    println!("total {count} {bad}");
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Per operator: cases, mean and max MACs, mean output bytes, cases whose output is one value.
fn stats(count: u32, model: &mut [u8], arena: &mut [u8]) {
    use mote_engine::{Interpreter, Model};
    for k in OpKind::ALL {
        let (mut n, mut macs, mut max_macs, mut out, mut flat) = (0u64, 0u64, 0u64, 0u64, 0u64);
        for i in (0..count).filter(|&i| mote_testgen::op_of(i) == k) {
            let c = case(i);
            n += 1;
            macs += c.macs() as u64;
            max_macs = max_macs.max(c.macs() as u64);
            out += c.output_len() as u64;
            let Some(len) = write_model(&c, model) else {
                continue;
            };
            let Ok(m) = Model::parse(&model[..len]) else {
                continue;
            };
            let mut state = [0u8; 0];
            let Ok(mut it) = Interpreter::new(&m, arena, &mut state) else {
                continue;
            };
            for which in 0..k.inputs() {
                if let Ok(b) = it.input_mut(which) {
                    fill_input(&c, which, b);
                }
            }
            if it.invoke().is_ok() {
                if let Ok(o) = it.output(0) {
                    if o.len() > 1 && o.iter().all(|&b| b == o[0]) {
                        flat += 1;
                    }
                }
            }
        }
        let n1 = n.max(1);
        println!(
            "{:18} cases {n:5}  MACs mean {:7} max {max_macs:7}  output bytes mean {:5}  one-value outputs {flat}",
            k.name(),
            macs / n1,
            out / n1
        );
    }
}
