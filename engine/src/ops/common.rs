//! Helpers shared by several kernels: activation ranges, padding, quantization checks.
//! Each names the TFLM function whose behaviour it reproduces.
