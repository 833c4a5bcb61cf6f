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
