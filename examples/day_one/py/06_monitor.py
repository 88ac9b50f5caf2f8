# Day one, 6/8: a socket monitor. Prints the events of a PULL server while a
# PUSH client connects, sends one message and leaves.
import zmq
from zmq.utils.monitor import recv_monitor_message

ctx = zmq.Context()
server = ctx.socket(zmq.PULL)
server.RCVTIMEO = 5000
monitor = server.get_monitor_socket()
monitor.RCVTIMEO = 5000
server.bind("tcp://127.0.0.1:*")
client = ctx.socket(zmq.PUSH)
client.connect(server.last_endpoint)
client.send(b"hello")
print("server got", server.recv())
client.close()
while True:
    event = recv_monitor_message(monitor)
    print(zmq.Event(event["event"]).name, event["endpoint"].decode(), event["value"])
    if event["event"] == zmq.EVENT_DISCONNECTED:
        break
