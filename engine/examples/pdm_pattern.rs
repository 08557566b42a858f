//! Host side of the firmware's PDM device check (`scripts/pdm-device-check.sh`): decimates
//! `mote_engine::pdm::test_pattern` of N bytes (argument, default 4000 = 16 ms) through the
//! software path and the DFSDM model + FIR and prints the same `pdm_check` JSON lines as the
//! firmware's `pdm` mode (`firmware-template/src/pdmbench.rs`).

use mote_engine::pdm::dfsdm::{rdatar, rdatar_data};
use mote_engine::pdm::{fnv1a, test_pattern, Decimator, DfsdmConfig, DfsdmFilter, FirDecimator};

fn main() {
    let bytes: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 4000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("pdm_pattern: byte count: {e}");
            std::process::exit(2);
        }
    };
    let mut pdm = vec![0u8; bytes];
    test_pattern(&mut pdm);

    let mut pcm = vec![0i16; Decimator::max_outputs(bytes)];
    let n = Decimator::new().process(&pdm, &mut pcm);
    println!(
        "{{\"event\":\"pdm_check\",\"path\":\"spi\",\"samples\":{n},\"fnv\":{}}}",
        fnv1a(&pcm[..n])
    );

    let mut model =
        DfsdmFilter::new(DfsdmConfig::MOTE).expect("the firmware's DFSDM configuration is valid");
    let mut fir = FirDecimator::new();
    let mut out = Vec::new();
    model.push_bytes(&pdm, |y| {
        if let Some(s) = fir.push(rdatar_data(rdatar(y, 2))) {
            out.push(s);
        }
    });
    println!(
        "{{\"event\":\"pdm_check\",\"path\":\"dfsdm\",\"samples\":{},\"fnv\":{}}}",
        out.len(),
        fnv1a(&out)
    );
}
