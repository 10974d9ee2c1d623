"""python3-websockets peer program (see ./peer.ts for the protocol):
    python3 ws_python.py server|client PORT deflate|plain PATH   (MESSAGES_JSON on stdin)
Server: echoes each message with its opcode. Client: sends MESSAGES in order, waits for as
many echoes, closes with 1000 "done". Logs JSON lines on stdout.
wss:// when WSS_KEYLOG names a file: the ssl module writes the TLS secrets there
(SSLContext.keylog_filename); the server takes its certificate from WSS_CERT and WSS_KEY,
the client accepts any certificate.
"""
import asyncio
import base64
import json
import os
import signal
import ssl
import sys

import websockets

role, port, mode, path = sys.argv[1:5]
messages_json = sys.stdin.readline()
compression = "deflate" if mode == "deflate" else None
keylog = os.environ.get("WSS_KEYLOG")


def tls_context(server):
    if keylog is None:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    if server:
        ctx.load_cert_chain(os.environ["WSS_CERT"], os.environ["WSS_KEY"])
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.keylog_filename = keylog
    return ctx


def log(**o):
    sys.stdout.write(json.dumps(o) + "\n")
    sys.stdout.flush()


def entry(ev, data):
    if isinstance(data, str):
        return dict(ev=ev, opcode=1, b64=base64.b64encode(data.encode("utf-8")).decode())
    return dict(ev=ev, opcode=2, b64=base64.b64encode(data).decode())


async def echo(ws, _path=None):
    async for data in ws:
        log(**entry("received", data))
        await ws.send(data)
        log(**entry("sent", data))


async def server():
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", int(port), compression=compression, ssl=tls_context(True)) as srv:
        log(ev="listening", port=srv.sockets[0].getsockname()[1])
        await stop


async def client():
    messages = json.loads(messages_json)
    scheme = "ws" if keylog is None else "wss"
    async with websockets.connect(f"{scheme}://127.0.0.1:{port}{path or '/'}", compression=compression, ssl=tls_context(False)) as ws:
        log(ev="listening", port=int(port))
        for m in messages:
            raw = base64.b64decode(m["b64"])
            data = raw.decode("utf-8") if m["opcode"] == 1 else raw
            await ws.send(data)
            log(**entry("sent", data))
        for _ in messages:
            log(**entry("received", await ws.recv()))
        await ws.close(1000, "done")
    log(ev="done")


try:
    asyncio.run(server() if role == "server" else client())
except Exception as e:  # reported to the launcher, which fails the test with it
    log(ev="error", message=f"{type(e).__name__}: {e}")
    sys.exit(1)
