"""Quantization primitives shared by the techniques that quantize and the diagnoses that read their results:
the calibration reader onnxruntime's quantizers take (`calibration.py`) and the noise each QDQ node adds
(`noise.py`). Nothing here imports a technique, a diagnosis or the engine."""
