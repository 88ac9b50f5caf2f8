# Day one, 1/8: request/reply. A REP server thread answers three requests
# from a REQ client over TCP on a port the OS picks.
import threading

import zmq

ctx = zmq.Context()
server = ctx.socket(zmq.REP)
server.RCVTIMEO = 5000
server.bind("tcp://127.0.0.1:*")
client = ctx.socket(zmq.REQ)
client.RCVTIMEO = 5000
client.connect(server.last_endpoint)


def serve():
    for _ in range(3):
        request = server.recv_string()
        server.send_string(f"world ({request})")


thread = threading.Thread(target=serve)
thread.start()
for i in range(1, 4):
    client.send_string(f"hello #{i}")
    print("client got", client.recv_string())
thread.join()
