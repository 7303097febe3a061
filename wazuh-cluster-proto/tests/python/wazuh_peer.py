#!/usr/bin/env python3
"""A stand-in for a Wazuh 4.x Python node's framing and Fernet, for interop tests.

Written from the protocol description (wazuh4-protocol.md sections 1 and 2), with the same
primitives Wazuh uses: `cryptography`'s Fernet built as `Fernet(base64.b64encode(key.encode()))`
and `struct.pack('!2I12s', ...)` headers.

Usage (JSON on stdin/stdout; binary streams on stdin/stdout for build/parse):
  wazuh_peer.py encrypt KEY   [{"payload": P}]           -> ["token", ...]
  wazuh_peer.py decrypt KEY   ["token", ...]              -> [{"payload": P}]
  wazuh_peer.py build KEY     [{"counter","command","payload": P}] -> raw frame stream
  wazuh_peer.py parse KEY     raw frame stream            -> [{"counter","command","frames","payload": P}]
  wazuh_peer.py dissect KEY   raw frame stream            -> [{"counter","command","headers","fernet_ts","payload": P}]
  wazuh_peer.py container -   raw container bytes         -> [{"path","content": P}] (metadata last)
  wazuh_peer.py exception -   [{"class","title","code",...}] -> ["json.dumps of Wazuh's exception", ...]
A payload P is {"b64": standard base64} or {"pattern": N}: N bytes (i * 7 + 3) % 251.
"""

import base64
import json
import struct
import sys
import zlib

from cryptography.fernet import Fernet

REQUEST_CHUNK = 5242880
HEADER_LEN = 20


def pattern(n):
    return bytes((i * 7 + 3) % 251 for i in range(n))


def payload_in(p):
    return pattern(p["pattern"]) if "pattern" in p else base64.b64decode(p["b64"])


def payload_out(data):
    return {"b64": base64.b64encode(data).decode()}


def fernet(key):
    return Fernet(base64.b64encode(key.encode()))


def build(f, counter, command, data):
    """Frames of one message, as Wazuh's msg_build does."""
    token = f.encrypt(data)
    cmd = command.encode()
    if len(data) > REQUEST_CHUNK:
        step = REQUEST_CHUNK - HEADER_LEN
        chunks = [token[i:i + step] for i in range(0, len(token), step)]
    else:
        chunks = [token]
    out = b""
    for index, chunk in enumerate(chunks):
        field = cmd + b" " + b"-" * (12 - len(cmd) - 1)
        if index != len(chunks) - 1:
            field = field[:-1] + b"d"
        out += struct.pack("!2I12s", counter, len(chunk), field) + chunk
    return out


def parse(f, stream):
    """Messages of a frame stream, joined and decrypted as Wazuh's data_received does."""
    messages, boxes, frames = [], {}, {}
    pos = 0
    while pos < len(stream):
        counter, size, field = struct.unpack("!2I12s", stream[pos:pos + HEADER_LEN])
        payload = stream[pos + HEADER_LEN:pos + HEADER_LEN + size]
        if len(payload) != size:
            raise SystemExit("truncated frame at offset %d" % pos)
        pos += HEADER_LEN + size
        divided = field[-1:] == b"d"
        command = field[:-1].split(b" ")[0].decode()
        frames[counter] = frames.get(counter, 0) + 1
        if divided:
            boxes[counter] = boxes.get(counter, b"") + payload
            continue
        token = boxes.pop(counter, b"") + payload
        messages.append({
            "counter": counter,
            "command": command,
            "frames": frames.pop(counter),
            "payload": payload_out(f.decrypt(token)),
        })
    return messages


def dissect(f, stream):
    """Like parse, with every frame header (hex) and the token's timestamp."""
    messages, boxes, headers = [], {}, {}
    pos = 0
    while pos < len(stream):
        header = stream[pos:pos + HEADER_LEN]
        counter, size, field = struct.unpack("!2I12s", header)
        payload = stream[pos + HEADER_LEN:pos + HEADER_LEN + size]
        if len(payload) != size:
            raise SystemExit("truncated frame at offset %d" % pos)
        pos += HEADER_LEN + size
        headers.setdefault(counter, []).append(header.hex())
        boxes[counter] = boxes.get(counter, b"") + payload
        if field[-1:] == b"d":
            continue
        token = boxes.pop(counter)
        messages.append({
            "counter": counter,
            "command": field[:-1].split(b" ")[0].decode(),
            "headers": headers.pop(counter),
            "fernet_ts": int.from_bytes(base64.urlsafe_b64decode(token)[1:9], "big"),
            "payload": payload_out(f.decrypt(token)),
        })
    return messages


def container(data):
    """Entries of a sync container, as Wazuh's decompress_files splits them."""
    out = []
    for entry in data.split(b"|@@//@@|"):
        if not entry:
            continue
        path, body = entry.split(b"|//@@//|", 1)
        out.append({"path": path.decode(), "content": payload_out(zlib.decompress(body))})
    return out


def exception(e):
    """json.dumps of a Wazuh exception, as WazuhJSONEncoder writes it (to_dict's key order)."""
    obj = {
        "type": e.get("type", "about:blank"),
        "title": e["title"],
        "code": e["code"],
        "extra_message": e.get("extra_message"),
        "extra_remediation": e.get("extra_remediation"),
        "cmd_error": e.get("cmd_error", False),
        "dapi_errors": e.get("dapi_errors", {}),
    }
    if "ids" in e:
        obj["ids"] = e["ids"]
    return json.dumps({"__wazuh_exception__": {"__class__": e["class"], "__object__": obj}})


def main():
    mode, key = sys.argv[1], sys.argv[2]
    if mode == "container":
        json.dump(container(sys.stdin.buffer.read()), sys.stdout)
        return
    if mode == "exception":
        json.dump([exception(e) for e in json.load(sys.stdin)], sys.stdout)
        return
    f = fernet(key)
    if mode == "encrypt":
        tokens = [f.encrypt(payload_in(p)).decode() for p in json.load(sys.stdin)]
        json.dump(tokens, sys.stdout)
    elif mode == "decrypt":
        json.dump([payload_out(f.decrypt(t.encode())) for t in json.load(sys.stdin)], sys.stdout)
    elif mode == "build":
        stream = b"".join(
            build(f, m["counter"], m["command"], payload_in(m["payload"])) for m in json.load(sys.stdin)
        )
        sys.stdout.buffer.write(stream)
    elif mode == "parse":
        json.dump(parse(f, sys.stdin.buffer.read()), sys.stdout)
    elif mode == "dissect":
        json.dump(dissect(f, sys.stdin.buffer.read()), sys.stdout)
    else:
        raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    main()
