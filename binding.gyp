{
  # joind's native socket addon (native/joind_net.c): raw ICMP and Linux packet sockets for Node.
  # npm runs `node-gyp rebuild` on install because this file exists and package.json has no install script.
  "targets": [
    {
      "target_name": "joind_net",
      "sources": ["native/joind_net.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-std=gnu11"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources!": ["native/joind_net.c"] }]
      ]
    }
  ]
}
