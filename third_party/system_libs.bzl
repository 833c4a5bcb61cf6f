"""A repository rule exposing Debian's system libraries as cc_library targets.

Headers live on the compiler's default include path; this rule only records
the link flags, asking pkg-config for them at fetch time. An entry starting
with "-l" is taken as a literal flag, for libraries that ship no .pc file.
"""

def _pkg_config_libs(ctx, pkg):
    if pkg.startswith("-"):
        return [pkg]
    result = ctx.execute(["pkg-config", "--libs", pkg])
    if result.return_code != 0:
        fail("pkg-config cannot find '%s' (run tools/setup): %s" % (pkg, result.stderr))
    return result.stdout.strip().split(" ")

def _system_libs_impl(ctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, pkgs in ctx.attr.libs.items():
        flags = []
        for pkg in pkgs:
            for flag in _pkg_config_libs(ctx, pkg):
                if flag and flag not in flags:
                    flags.append(flag)
        lines.append("cc_library(name = %r, linkopts = %r)" % (name, flags + ["-lpthread"]))
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", "\n".join(lines) + "\n")

system_libs = repository_rule(
    implementation = _system_libs_impl,
    attrs = {"libs": attr.string_list_dict(mandatory = True)},
    local = True,
)

def _system_boringssl_impl(ctx):
    include = ctx.path(ctx.attr.include_dir)
    lib = ctx.path(ctx.attr.lib_dir)
    if not include.get_child("openssl").get_child("ssl.h").exists or not lib.get_child("libssl.so").exists:
        fail("BoringSSL not found under %s and %s (run tools/setup: Debian's android-libboringssl-dev)" %
             (include, lib))

    # Its headers are called openssl/*.h, like OpenSSL's in /usr/include: the
    # `includes` below puts this copy first on the search path.
    ctx.symlink(include.get_child("openssl"), "include/openssl")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", """package(default_visibility = ["//visibility:public"])

cc_library(
    name = "ssl",
    hdrs = glob(["include/openssl/*.h"]),
    includes = ["include"],
    linkopts = [
        "{lib}/libssl.so",
        "{lib}/libcrypto.so",
        # The package installs outside the loader's default path.
        "-Wl,-rpath,{lib}",
        "-lpthread",
    ],
)
""".format(lib = lib))

# Debian's BoringSSL (android-libboringssl-dev) as @<name>//:ssl.
system_boringssl = repository_rule(
    implementation = _system_boringssl_impl,
    attrs = {
        "include_dir": attr.string(default = "/usr/include/android"),
        "lib_dir": attr.string(default = "/usr/lib/x86_64-linux-gnu/android"),
    },
    local = True,
)
