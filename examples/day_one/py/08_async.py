# Day one, 8/8: an asyncio ROUTER server answering 50 concurrent REQ clients.
import asyncio

import zmq
import zmq.asyncio

ctx = zmq.asyncio.Context()


async def serve(server, requests):
    for _ in range(requests):
        identity, empty, request = await server.recv_multipart()
        await server.send_multipart([identity, empty, request.upper()])


async def client(endpoint, n):
    sock = ctx.socket(zmq.REQ)
    sock.RCVTIMEO = 5000
    sock.connect(endpoint)
    await sock.send_string(f"hello {n}")
    reply = await sock.recv_string()
    sock.close()
    return reply


async def main():
    server = ctx.socket(zmq.ROUTER)
    server.bind("tcp://127.0.0.1:*")
    clients = [client(server.last_endpoint, n) for n in range(50)]
    _, *replies = await asyncio.gather(serve(server, 50), *clients)
    print(f"{len(replies)} replies, the last: {replies[-1]}")


asyncio.run(main())
