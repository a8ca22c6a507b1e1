"""The README's offline install: a virtual environment that sees the system's
grpcio and protobuf, and an editable install of this directory that needs
neither PyPI nor a download of the build backend."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

from tests import support

CHECK = r"""
import json, importlib.metadata as md
from proto import webhook_pb2, webhook_pb2_grpc
from google.protobuf.struct_pb2 import Struct
import sparrow_client
print(json.dumps({
    "files": [webhook_pb2.__file__, webhook_pb2_grpc.__file__, sparrow_client.__file__],
    "requires": md.requires("sparrow-client"),
}))
"""


def source_files():
    found = set()
    for directory, subdirs, files in os.walk(support.ROOT):
        subdirs[:] = [d for d in subdirs if d != "__pycache__"]
        found.update(os.path.relpath(os.path.join(directory, f), support.ROOT) for f in files)
    return found


class InstallTest(unittest.TestCase):
    def run_command(self, args, cwd, env):
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            self.fail(f"{' '.join(args)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def test_editable_install_offline(self):
        before = source_files()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
        env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1",
                   PYTHONDONTWRITEBYTECODE="1")
        with tempfile.TemporaryDirectory(prefix="sparrow-python-install-") as tmp:
            venv = os.path.join(tmp, ".venv")
            # The README's commands, run from client/python.
            self.run_command([sys.executable, "-m", "venv", "--system-site-packages", venv], support.ROOT, env)
            pip = os.path.join(venv, "bin", "pip")
            self.run_command([pip, "install", "--no-index", "--no-build-isolation", "-e", "."], support.ROOT, env)

            # Importable from anywhere, from this directory's files.
            out = self.run_command([os.path.join(venv, "bin", "python"), "-c", CHECK], tmp, env)
            found = json.loads(out)
            for path in found["files"]:
                self.assertEqual(os.path.commonpath([path, support.ROOT]), support.ROOT, path)
            requires = sorted(r.replace(" ", "") for r in found["requires"])
            self.assertEqual(len(requires), 2, requires)
            self.assertRegex(requires[0], r"^grpcio\(?(<2,>=1\.51\.1|>=1\.51\.1,<2)\)?$")
            self.assertRegex(requires[1], r"^protobuf\(?(<5,>=4\.21\.12|>=4\.21\.12,<5)\)?$")
            # pip check judges every package the system has too; only
            # sparrow-client's own requirements are this test's business.
            check = subprocess.run([pip, "check"], cwd=tmp, env=env, capture_output=True, text=True, timeout=120)
            broken = [line for line in check.stdout.splitlines() if line.lower().startswith("sparrow-client")]
            self.assertEqual(broken, [], check.stdout)
        # Nothing left behind in the source tree (egg-info, build/).
        self.assertEqual(source_files(), before)


if __name__ == "__main__":
    unittest.main()
