#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_safetensors: valid safetensors files (a Linear(2, 2) state,
every dtype, 0-d and empty tensors, metadata) and broken ones (each breaks one rule).
Run from anywhere: python3 fuzz/make_corpus.py. The files are committed; rerun after a change."""
import json
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "safetensors")


def st(header, data=b"", pad=True, length=None):
    text = header if isinstance(header, str) else json.dumps(header, separators=(",", ":"))
    raw = text.encode()
    if pad:
        raw += b" " * ((8 - len(raw) % 8) % 8)
    n = len(raw) if length is None else length
    return struct.pack("<Q", n) + raw + data


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


W = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}
B = {"dtype": "F32", "shape": [2], "data_offsets": [16, 24]}
LINEAR = f32(1, 2, 3, 4, 5, 6)

files = {
    # valid
    "valid_linear": st({"weight": W, "bias": B}, LINEAR),
    "valid_linear_metadata": st({"__metadata__": {"step": "3", "mode": "adamw"}, "bias": B,
                                 "weight": W}, LINEAR),
    "valid_f64_i64": st({"a": {"dtype": "F64", "shape": [2], "data_offsets": [0, 16]},
                         "b": {"dtype": "I64", "shape": [1, 1], "data_offsets": [16, 24]}},
                        struct.pack("<2dq", 1.5, -2.0, 7)),
    "valid_scalar_and_empty": st({"s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
                                  "e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [4, 4]}},
                                 f32(9)),
    "valid_bool": st({"m": {"dtype": "BOOL", "shape": [2, 3], "data_offsets": [0, 6]}},
                     bytes([1, 0, 0, 1, 1, 0])),
    "valid_empty_header": st({}),
    "valid_unpadded": st({"weight": W, "bias": B}, LINEAR, pad=False),
    # broken
    "broken_empty": b"",
    "broken_short": b"\x10\x00\x00",
    "broken_length_2_60": struct.pack("<Q", 1 << 60) + b"{}",
    "broken_length_max": struct.pack("<Q", (1 << 64) - 1) + b"{}",
    "broken_length_past_end": st({"weight": W, "bias": B}, LINEAR, length=1000),
    "broken_not_json": st("{not json}"),
    "broken_truncated_json": st('{"weight":{"dtype":"F32"', LINEAR),
    "broken_array_header": st("[1,2,3]"),
    "broken_duplicate_name": st('{"weight":%s,"weight":%s,"bias":%s}' % (
        json.dumps(W), json.dumps(W), json.dumps(B)), LINEAR),
    "broken_dtype_f16": st({"weight": dict(W, dtype="F16"), "bias": B}, LINEAR),
    "broken_negative_shape": st({"weight": dict(W, shape=[-2, 2]), "bias": B}, LINEAR),
    "broken_huge_shape": st({"weight": dict(W, shape=[1 << 62, 1 << 62]), "bias": B}, LINEAR),
    "broken_shape_beyond_int64": st({"z": {"dtype": "F32", "shape": [0, 1 << 63],
                                           "data_offsets": [0, 0]}}),
    "broken_offsets_reversed": st({"weight": W, "bias": dict(B, data_offsets=[24, 16])}, LINEAR),
    "broken_gap": st({"weight": W, "bias": dict(B, data_offsets=[20, 28])}, LINEAR + f32(0)),
    "broken_overlap": st({"weight": W, "bias": dict(B, data_offsets=[12, 20])}, LINEAR[:20]),
    "broken_trailing_data": st({"weight": W, "bias": B}, LINEAR + b"\x7f" * 8),
    "broken_short_data": st({"weight": W, "bias": B}, LINEAR[:20]),
    "broken_bool_byte": st({"m": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}},
                           bytes([1, 2, 0])),
    "broken_extra_key": st({"weight": dict(W, extra=1), "bias": B}, LINEAR),
    "broken_metadata_number": st({"__metadata__": {"n": 1}, "weight": W, "bias": B}, LINEAR),
    "broken_deep_json": st("[" * 5000 + "]" * 5000),
    # valid files that do not fit a Linear(2, 2)
    "misfit_transposed": st({"weight": dict(W, shape=[4]), "bias": B}, LINEAR),
    "misfit_extra_tensor": st({"weight": W, "bias": B,
                               "extra": {"dtype": "F32", "shape": [1], "data_offsets": [24, 28]}},
                              LINEAR + f32(7)),
    "misfit_f64_bias": st({"weight": W, "bias": {"dtype": "F64", "shape": [2],
                                                 "data_offsets": [16, 32]}},
                          f32(1, 2, 3, 4) + struct.pack("<2d", 5, 6)),
}

os.makedirs(OUT, exist_ok=True)
for name in os.listdir(OUT):
    os.remove(os.path.join(OUT, name))
for name, data in files.items():
    with open(os.path.join(OUT, name + ".safetensors"), "wb") as f:
        f.write(data)
print("wrote %d files to %s" % (len(files), OUT))
