//! Audio front end: 16 kHz PCM → TFLM micro-frontend features (fixed point). In progress.
