# Day one, 5/8: a CURVE server guarded by the authenticator. Certificates are
# written to files; only clients whose public certificate is in the
# `clients` directory get in.
import os
import shutil
import tempfile

import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

base = tempfile.mkdtemp()
clients = os.path.join(base, "clients")
os.mkdir(clients)
_, server_secret_file = zmq.auth.create_certificates(base, "server")
_, client_secret_file = zmq.auth.create_certificates(clients, "alice")
_, stranger_secret_file = zmq.auth.create_certificates(base, "stranger")

ctx = zmq.Context()
auth = ThreadAuthenticator(ctx)
auth.start()
auth.configure_curve(domain="*", location=clients)

server_public, server_secret = zmq.auth.load_certificate(server_secret_file)
server = ctx.socket(zmq.PULL)
server.curve_secretkey = server_secret
server.curve_publickey = server_public
server.curve_server = True
server.bind("tcp://127.0.0.1:*")

for secret_file in [client_secret_file, stranger_secret_file]:
    client_public, client_secret = zmq.auth.load_certificate(secret_file)
    client = ctx.socket(zmq.PUSH)
    client.curve_secretkey = client_secret
    client.curve_publickey = client_public
    client.curve_serverkey = server_public
    client.connect(server.last_endpoint)
    client.send(b"hello from " + client_public[:8])
    if server.poll(1000):
        msg = server.recv(copy=False)
        print("server got", msg.bytes, "from user", msg.get("User-Id"))
    else:
        print("nothing from", client_public[:8], "(refused)")

auth.stop()
shutil.rmtree(base)
