"""A WebSocket server on Debian's python3-websockets, for the mesh tests:
echoes every message (text or binary); "close CODE" makes it close with
CODE; each closing handshake is printed as "closed CODE" so a test can see
which code reached the app. It pings its clients every --ping-interval s and
drops one that does not answer (so a tunnel that loses pongs shows)."""

import argparse
import asyncio

import websockets


async def handler(ws, *_):
    try:
        async for message in ws:
            if isinstance(message, str) and message.startswith("close "):
                await ws.close(int(message.split()[1]), "asked to")
                break
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass
    print("closed %s" % ws.close_code, flush=True)


async def main(args):
    async with websockets.serve(handler, args.host, args.port, ping_interval=args.ping_interval,
                                ping_timeout=args.ping_interval):
        print("listening", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ping-interval", type=float, default=0.5)
    asyncio.run(main(parser.parse_args()))
