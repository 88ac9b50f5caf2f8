# Day one, 3/8: a pipeline. A ventilator pushes ten tasks to three worker
# threads, which push results to a sink; each worker polls its task socket
# and a control socket, on which the main thread broadcasts KILL at the end.
import threading
import time

import zmq

ctx = zmq.Context.instance()
ventilator = ctx.socket(zmq.PUSH)
ventilator.bind("inproc://tasks")
sink = ctx.socket(zmq.PULL)
sink.RCVTIMEO = 5000
sink.bind("inproc://results")
controller = ctx.socket(zmq.PUB)
controller.bind("inproc://control")


def worker(n):
    ctx = zmq.Context.instance()
    tasks = ctx.socket(zmq.PULL)
    tasks.connect("inproc://tasks")
    results = ctx.socket(zmq.PUSH)
    results.connect("inproc://results")
    control = ctx.socket(zmq.SUB)
    control.connect("inproc://control")
    control.subscribe("")
    results.send_string("ready")
    poller = zmq.Poller()
    poller.register(tasks, zmq.POLLIN)
    poller.register(control, zmq.POLLIN)
    while True:
        ready = dict(poller.poll(5000))
        if tasks in ready:
            ms = int(tasks.recv_string())
            time.sleep(ms / 1000)
            results.send_string(f"worker {n} slept {ms} ms")
        if control in ready or not ready:
            return


workers = [threading.Thread(target=worker, args=(n,)) for n in range(3)]
for w in workers:
    w.start()
for _ in workers:
    sink.recv()  # "ready": every worker is connected
for ms in range(1, 11):
    ventilator.send_string(str(ms))
for _ in range(10):
    print(sink.recv_string())
controller.send(b"KILL")
for w in workers:
    w.join()
