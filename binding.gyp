{
  "targets": [
    {
      "target_name": "msgmux_native",
      "sources": [
        "native/module.c",
        "native/handles.c",
        "native/args.c",
        "native/errors.c",
        "native/dgram.c",
        "native/mq.c",
        "native/udp.c",
        "native/eventfd.c",
        "native/watch.c"
      ],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "libraries": ["-lrt"]
    },
    {
      "target_name": "msgmux_shm",
      "sources": ["native/shm.cc", "native/uring-futex.cc"],
      "cflags_cc": ["-std=gnu++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-cast-function-type", "-O2"],
      "libraries": ["-lrt"]
    }
  ]
}
