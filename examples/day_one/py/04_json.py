# Day one, 4/8: a typed record as JSON over PUSH/PULL.
from dataclasses import asdict, dataclass

import zmq


@dataclass
class Order:
    id: int
    item: str
    quantity: int


ctx = zmq.Context()
pull = ctx.socket(zmq.PULL)
pull.RCVTIMEO = 5000
pull.bind("tcp://127.0.0.1:*")
push = ctx.socket(zmq.PUSH)
push.connect(pull.last_endpoint)
for i, item in enumerate(["apple", "pear", "plum"]):
    push.send_json(asdict(Order(id=i, item=item, quantity=i + 1)))
for _ in range(3):
    order = Order(**pull.recv_json())
    print("received", order)
