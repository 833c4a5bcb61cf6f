"""Compiles .proto files once with Debian's protoc and grpc_cpp_plugin."""

def cc_proto_and_grpc_library(name, srcs, grpc_srcs = [], deps = []):
    """`name`: the generated messages; `name`_grpc: the gRPC stubs of grpc_srcs.

    Kept apart so that a binary which only needs the messages (weft-proxy)
    does not link gRPC.
    """
    pb_outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        pb_outs += [base + ".pb.cc", base + ".pb.h"]
    grpc_outs = []
    for src in grpc_srcs:
        base = src[:-len(".proto")]
        grpc_outs += [base + ".grpc.pb.cc", base + ".grpc.pb.h"]

    pkg = native.package_name()
    cmd = "/usr/bin/protoc -I%s --cpp_out=$(GENDIR)/%s $(SRCS)" % (pkg, pkg)
    if grpc_srcs:
        cmd += (" && /usr/bin/protoc -I%s " % pkg +
                "--grpc_out=$(GENDIR)/%s " % pkg +
                "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin " +
                " ".join(["$(location %s)" % s for s in grpc_srcs]))
    native.genrule(
        name = name + "_gen",
        srcs = srcs,
        outs = pb_outs + grpc_outs,
        cmd = cmd,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in pb_outs if o.endswith(".cc")],
        hdrs = [o for o in pb_outs if o.endswith(".h")],
        includes = ["."],
        copts = ["-w"],
        deps = deps + ["@sys//:protobuf"],
        # Generated files register their descriptors in static initializers;
        # `@type` resolution in bootstrap JSON needs every message linked.
        alwayslink = True,
        visibility = ["//visibility:public"],
    )
    if grpc_srcs:
        native.cc_library(
            name = name + "_grpc",
            srcs = [o for o in grpc_outs if o.endswith(".cc")],
            hdrs = [o for o in grpc_outs if o.endswith(".h")],
            includes = ["."],
            copts = ["-w"],
            deps = [":" + name, "@sys//:grpcpp"],
            visibility = ["//visibility:public"],
        )
