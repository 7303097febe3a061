#!/usr/bin/env python3
"""Throughput of Python `cryptography` Fernet doing what a Wazuh 4.x node does per message.

Prints one JSON object: {"<op>": {"<size>": MB/s}} for ops `encrypt`, `decrypt`, `frame_encode`
(encrypt + the `!2I12s` header, as `Handler.msg_build`, cutting a token over 5 MiB into 5 MiB
frames flagged `d`) and `frame_decode` (header unpack, joining the frames, decrypt).
Usage: fernet_speed.py [--ops encrypt,decrypt,...] [SIZE ...]   (sizes in bytes)
Each figure is the best of several timed rounds, in MB/s (10^6 bytes of plaintext per second).
The key is derived as Wazuh does: Fernet(base64.b64encode(key.encode())).
"""
import argparse
import base64
import json
import struct
import time

from cryptography.fernet import Fernet

KEY = "c98b62a9b6169ac5f67dae55ae4a9088"
F = Fernet(base64.b64encode(KEY.encode()))
CMD = b"syn_i_w_m_p"
REQUEST_CHUNK = 5242880
HEADER_LEN = 20


def frame_encode(data):
    token = F.encrypt(data)
    if len(data) <= REQUEST_CHUNK:
        return struct.pack("!2I12s", 7, len(token), CMD + b" ") + token
    step = REQUEST_CHUNK - HEADER_LEN
    frames = []
    for start in range(0, len(token), step):
        piece = token[start : start + step]
        flag = b"d" if start + step < len(token) else b" "
        frames.append(struct.pack("!2I12s", 7, len(piece), CMD + flag) + piece)
    return b"".join(frames)


def frame_decode(wire):
    view = memoryview(wire)
    pieces = []
    while view:
        _counter, size, cmd = struct.unpack("!2I12s", view[:HEADER_LEN])
        pieces.append(view[HEADER_LEN : HEADER_LEN + size])
        view = view[HEADER_LEN + size :]
        if cmd[-1:] != b"d":
            break
    return F.decrypt(b"".join(pieces))


def best_rate(fn, arg, size, budget=0.6):
    best = 0.0
    deadline = time.perf_counter() + budget
    rounds = 0
    while rounds < 3 or time.perf_counter() < deadline:
        n = max(1, int(4_000_000 // max(size, 1)))
        t0 = time.perf_counter()
        for _ in range(n):
            fn(arg)
        dt = time.perf_counter() - t0
        best = max(best, n * size / dt / 1e6)
        rounds += 1
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", default="encrypt,decrypt,frame_encode,frame_decode")
    parser.add_argument("sizes", nargs="*", type=int)
    args = parser.parse_args()
    ops = args.ops.split(",")
    sizes = args.sizes or [1024, 65536, 1048576, 5242880]
    out = {op: {} for op in ops}
    for size in sizes:
        data = bytes(size)
        inputs = {
            "encrypt": (F.encrypt, data),
            "decrypt": (F.decrypt, F.encrypt(data)),
            "frame_encode": (frame_encode, data),
            "frame_decode": (frame_decode, frame_encode(data)),
        }
        for op in ops:
            fn, arg = inputs[op]
            out[op][str(size)] = best_rate(fn, arg, size)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
