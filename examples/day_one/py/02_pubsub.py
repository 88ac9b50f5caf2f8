# Day one, 2/8: publish/subscribe with topics. The subscriber asks for two
# topics; an XPUB publisher waits until it has seen both subscriptions (no
# slow-joiner sleep), then publishes on three topics.
import zmq

ctx = zmq.Context()
publisher = ctx.socket(zmq.XPUB)
publisher.RCVTIMEO = 5000
publisher.bind("tcp://127.0.0.1:*")
subscriber = ctx.socket(zmq.SUB)
subscriber.RCVTIMEO = 5000
subscriber.connect(publisher.last_endpoint)
for topic in ["weather", "news"]:
    subscriber.subscribe(topic)
    publisher.recv()  # the subscription: b"\x01" + topic
publisher.send_multipart([b"weather", b"sunny"])
publisher.send_multipart([b"sports", b"3-1"])
publisher.send_multipart([b"news", b"zmqx 0.1 is out"])
for _ in range(2):
    topic, text = subscriber.recv_multipart()
    print(f"{topic.decode()}: {text.decode()}")
