# Day one, 7/8: a steerable proxy in a thread, driven with PAUSE, RESUME and
# TERMINATE over a REQ/REP control pair.
import threading

import zmq

ctx = zmq.Context()
frontend = ctx.socket(zmq.PULL)
frontend.bind("inproc://frontend")
backend = ctx.socket(zmq.PUSH)
backend.bind("inproc://backend")
control = ctx.socket(zmq.REP)
control.bind("inproc://control")
args = (frontend, backend, None, control)
proxy = threading.Thread(target=zmq.proxy_steerable, args=args)
proxy.start()

producer = ctx.socket(zmq.PUSH)
producer.connect("inproc://frontend")
consumer = ctx.socket(zmq.PULL)
consumer.RCVTIMEO = 5000
consumer.connect("inproc://backend")
steer = ctx.socket(zmq.REQ)
steer.RCVTIMEO = 5000
steer.connect("inproc://control")


def command(name):
    steer.send_string(name)
    steer.recv()  # the proxy's (empty) reply


producer.send_string("one")
print("running:", consumer.recv_string())
command("PAUSE")
producer.send_string("two")
print("paused, anything through?", consumer.poll(200) != 0)
command("RESUME")
print("resumed:", consumer.recv_string())
command("TERMINATE")
proxy.join()
print("proxy ended")
