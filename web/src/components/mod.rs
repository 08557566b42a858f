//! One function component per file.

pub mod app;
pub mod arena_timeline;
pub mod bin_export;
pub mod board_picker;
pub mod board_serial;
pub mod clip_spectrogram;
pub mod detections;
pub mod energy_panel;
pub mod explain;
pub mod export_button;
pub mod fit_verdict;
pub mod header;
pub mod layer_table;
pub mod live_panel;
pub mod memory_bars;
pub mod model_panel;
pub mod score_plot;
pub mod spectrogram;
pub mod train_panel;
