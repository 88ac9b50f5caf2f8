#   Apply to the whole broker
server
    timeout = 10    #   In seconds
    background = 1  #   Run as background process
    workdir = .     #   Working directory for daemon
    verbose = 1     #   Do verbose logging of activity
#   Apply to the Mongrel2 listener
mongrel2
    #   Listener endpoint
    endpoint = tcp://*:8888
    bind
        endpoint = inproc://x
