# lit configuration for the Hotpatch tests: one feature a file, inputs
# inline, `##` for prose. Tools come from LLVM 19 (FileCheck, not, split-file,
# llvm-dis, llvm-objdump, llvm-readelf), never from PATH, because Debian's
# default clang is 14.
import os
import lit.formats

config.name = "Hotpatch"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".c", ".cpp", ".ll", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.hotpatch_obj_root, "llvm-lit-tests")

tools = config.llvm_tools_dir
config.environment["PATH"] = os.pathsep.join([tools, config.environment.get("PATH", "")])
config.environment.pop("HOTPATCH_DISABLE", None)
# The resident thin linkers that thin links start (tools/ThinlinkServer.h):
# this run's own, in a short directory (a socket's path has at most 107
# bytes), ending a minute after the last test that used them.
import tempfile
tl_sockets = tempfile.mkdtemp(prefix="hptl-", dir="/tmp")
config.environment["HOTPATCH_THINLINK_SOCKET_DIR"] = tl_sockets
config.environment["HOTPATCH_THINLINK_IDLE_SECONDS"] = "60"
config.environment.pop("HOTPATCH_THINLINK_SERVER", None)
config.substitutions.append(("%tl_sockets", tl_sockets))

clang = os.path.join(tools, "clang")
clangxx = os.path.join(tools, "clang++")
plugin = "-fplugin=" + config.hotpatch_plugin
cflags = "-I" + config.hotpatch_include
ldflags = "-L{0} -lhotpatch -Wl,-rpath,{0} -pthread".format(config.hotpatch_runtime_dir)
# A runtime built with sanitizers takes their runtime from the program.
if config.hotpatch_sanitize_link:
    ldflags += " " + config.hotpatch_sanitize_link

config.substitutions += [
    ("%clangxx", clangxx),
    ("%clang", clang),
    ("%plugin", plugin),
    ("%hp_cflags", cflags),
    ("%hp_ldflags", ldflags),
    ("%thinlink_lld", config.thinlink_lld),
    ("%thinlink", config.thinlink),
    ("%hotpatch_dev", config.hotpatch_dev),
    ("%hotpatch", config.hotpatch_cli),
    ("%hpdrive", "python3 {} --hotpatch {} --thinlink {}".format(
        os.path.join(config.test_source_root, "Inputs", "hpdrive.py"), config.hotpatch_cli,
        config.thinlink)),
    ("%hp_link", "-fuse-ld=lld --ld-path=" + config.thinlink),
    ("%devdrive", "python3 " + os.path.join(config.test_source_root, "Inputs", "devdrive.py")),
    ("%hp_build", config.hotpatch_obj_root),
    ("%cmake_cxx", "cmake -G Ninja -DCMAKE_CXX_COMPILER={0} -DCMAKE_C_COMPILER={1} -DHotpatch_DIR={2}".format(
        clangxx, clang, config.hotpatch_obj_root)),
    ("%hp_all", "-fplugin-arg-hotpatch-all"),
    ("%hp_sanitize_link", config.hotpatch_sanitize_link or "''"),
    ("%inputs", os.path.join(config.test_source_root, "Inputs")),
]

if os.path.exists(config.thinlink):
    config.available_features.add("thinlink")
# thinlink linked with LLVM's and lld's static libraries (HOTPATCH_STATIC_THINLINK).
if config.hotpatch_static_thinlink:
    config.available_features.add("static-thinlink")

# Tests that take a quarter of an hour run only when asked for:
#   lit.py --param long=1 build/llvm-lit-tests --filter compiler/corpus
if lit_config.params.get("long"):
    config.available_features.add("long")

# Tests that act as another user (setpriv) need root.
if hasattr(os, "geteuid") and os.geteuid() == 0 and __import__("shutil").which("setpriv"):
    config.available_features.add("root")

# WebAssembly (wasm/): the wasi sysroot, libc++ and builtins for wasm32 from
# Debian (wasi-libc, libc++-19-dev-wasm32, libclang-rt-19-dev-wasm32) and
# Node. scripts/setup.sh installs them; where one is missing the wasm tests
# are UNSUPPORTED and this says which package to install.
import shutil
wasm_missing = []
if not os.path.exists("/usr/lib/wasm32-wasi/libc.a"):
    wasm_missing.append("wasi-libc")
if not os.path.exists("/usr/lib/wasm32-wasi/libc++.a"):
    wasm_missing.append("libc++-19-dev-wasm32")
if not os.path.exists("/usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a"):
    wasm_missing.append("libclang-rt-19-dev-wasm32")
node = shutil.which("node")
if not node:
    wasm_missing.append("nodejs")
if wasm_missing:
    lit_config.warning("WebAssembly tests are UNSUPPORTED: install " +
                       " ".join(wasm_missing) + " (bash scripts/setup.sh does)")
else:
    config.available_features.add("wasm")
wasm_flags = "--target=wasm32-wasi --sysroot=/usr -fPIC -fvisibility=default"
config.substitutions += [
    ("%wasm_cxx", clangxx + " " + wasm_flags + " -fno-exceptions " + cflags),
    ("%wasm_cc", clang + " " + wasm_flags + " " + cflags),
    ("%wasm_threads", "-matomics -mbulk-memory"),
    ("%wasm_link", "-mexec-model=reactor -fuse-ld=" + config.thinlink),
    ("%wasm_shared_memory", "-Wl,--no-check-features,--import-memory,--shared-memory,--max-memory=67108864"),
    ("%wasmdrive", "{} {} {}".format(node or "node",
        os.path.join(config.test_source_root, "wasm", "Inputs", "wasmdrive.mjs"),
        os.path.join(config.hotpatch_src_root, "web"))),
    ("%node", node or "node"),
    ("%web", os.path.join(config.hotpatch_src_root, "web")),
]

# The browser test: Debian's chromium, driven by puppeteer-core from web/test
# (installed by scripts/setup.sh with npm ci).
browser_missing = []
if not os.path.exists("/usr/bin/chromium"):
    browser_missing.append("the Debian package chromium")
if not os.path.isdir(os.path.join(config.hotpatch_src_root, "web", "test", "node_modules", "puppeteer-core")):
    browser_missing.append("puppeteer-core (npm ci in web/test)")
if browser_missing or wasm_missing:
    lit_config.warning("the WebAssembly browser test is UNSUPPORTED: install " +
                       ", ".join(browser_missing + wasm_missing) + " (bash scripts/setup.sh does)")
else:
    config.available_features.add("browser")
config.substitutions.append(("%browserdrive", "{} {} {}".format(
    node or "node", os.path.join(config.test_source_root, "wasm", "Inputs", "browser.mjs"),
    os.path.join(config.hotpatch_src_root, "web"))))
config.substitutions.append(("%wasm_cmake", (
    "cmake -G Ninja -DCMAKE_CXX_COMPILER={0} -DCMAKE_C_COMPILER={1} -DCMAKE_SYSTEM_NAME=Generic "
    "-DCMAKE_SYSTEM_PROCESSOR=wasm32 -DCMAKE_CXX_COMPILER_TARGET=wasm32-wasi "
    "-DCMAKE_C_COMPILER_TARGET=wasm32-wasi -DCMAKE_SYSROOT=/usr -DHotpatch_DIR={2}").format(
        clangxx, clang, config.hotpatch_obj_root)))
